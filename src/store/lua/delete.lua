-- KEYS: session. ARGV: handle, prefix.
local uid = redis.call('HGET', KEYS[1], 'uid')
local n = redis.call('DEL', KEYS[1])
if uid and uid ~= '' then redis.call('ZREM', ARGV[2] .. 'u:' .. uid, ARGV[1]) end
return n
