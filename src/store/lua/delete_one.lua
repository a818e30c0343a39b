-- One session of one user. KEYS: user index, session. ARGV: uid, handle.
redis.call('ZREM', KEYS[1], ARGV[2])
if redis.call('HGET', KEYS[2], 'uid') == ARGV[1] then return redis.call('DEL', KEYS[2]) end
return 0
