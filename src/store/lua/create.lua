-- KEYS: session, user index. ARGV: data, uid ('' = none), created, exp, handle.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'uid', ARGV[2], 'created', ARGV[3], 'exp', ARGV[4])
redis.call('EXPIREAT', KEYS[1], ARGV[4])
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5]) end
return 1
