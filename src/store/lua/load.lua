-- A page's one read: the session's data and expiry, and its user's password version as Redis
-- copies it: '-' when there is no copy, or while a change of it is pending (the page then asks
-- the users database). KEYS: session. ARGV: prefix. Answers '<exp> <version> <data>', or nil:
-- one string for the client to parse rather than an array of three.
local f = redis.call('HMGET', KEYS[1], 'data', 'exp', 'uid')
if not f[1] or not f[2] then return false end
local version = '-'
if f[3] and f[3] ~= '' and redis.call('EXISTS', ARGV[1] .. 'p:' .. f[3]) == 0 then
  version = redis.call('GET', ARGV[1] .. 'v:' .. f[3]) or '-'
end
return f[2] .. ' ' .. version .. ' ' .. f[1]
