-- A page's one read: the session's data and expiry, and its user's password version as Redis
-- mirrors it (nil when there is no copy, or a change is under way: the page then asks the
-- users database). KEYS: session. ARGV: prefix.
local f = redis.call('HMGET', KEYS[1], 'data', 'exp', 'uid')
local version = false
if f[3] and f[3] ~= '' then
  version = redis.call('GET', ARGV[1] .. 'v:' .. f[3])
  if version and string.sub(version, 1, 1) == '-' then version = false end
end
return {f[1], f[2], version}
