-- A user's oldest sessions beyond `keep` (oldest by expiry, which follows login time).
-- KEYS: user index. ARGV: prefix, keep, uid.
local n = redis.call('ZCARD', KEYS[1])
local keep = tonumber(ARGV[2])
if n <= keep then return 0 end
local ended = 0
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, n - keep - 1)) do
  local key = ARGV[1] .. 's:' .. h
  if redis.call('HGET', key, 'uid') == ARGV[3] then ended = ended + redis.call('DEL', key) end
  redis.call('ZREM', KEYS[1], h)
end
return ended
