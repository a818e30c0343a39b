-- Every session of one user but `keep`. KEYS: user index. ARGV: prefix, keep handle, uid.
local n = 0
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if h ~= ARGV[2] then
    local key = ARGV[1] .. 's:' .. h
    if redis.call('HGET', key, 'uid') == ARGV[3] then n = n + redis.call('DEL', key) end
    redis.call('ZREM', KEYS[1], h)
  end
end
return n
