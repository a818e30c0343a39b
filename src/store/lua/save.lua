-- Update only a live record: a request still in flight when its session was deleted must not
-- write it back. KEYS: session, new user index. ARGV: data, uid, exp, handle, now, prefix.
local exp = redis.call('HGET', KEYS[1], 'exp')
if not exp or tonumber(exp) <= tonumber(ARGV[5]) then return 0 end
local old = redis.call('HGET', KEYS[1], 'uid')
if old and old ~= '' and old ~= ARGV[2] then
  redis.call('ZREM', ARGV[6] .. 'u:' .. old, ARGV[4])
end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'uid', ARGV[2], 'exp', ARGV[3])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4]) end
return 1
