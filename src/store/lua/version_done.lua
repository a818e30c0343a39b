-- A change of the user's password version has committed ARGV[2]: the copy keeps the highest
-- version committed, and this change's mark leaves the pending set. Pages trust the copy only
-- while that set is empty; every change joins it before it commits and versions only grow, so
-- then the copy is the database's version, whatever order changes commit and finish in.
-- KEYS: the copy, the pending set. ARGV: the mark, the version.
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 0 end
local copy = redis.call('GET', KEYS[1])
if not copy or tonumber(ARGV[2]) > tonumber(copy) then redis.call('SET', KEYS[1], ARGV[2]) end
redis.call('SREM', KEYS[2], ARGV[1])
return 1
