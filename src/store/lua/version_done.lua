-- A change of the user's password version has committed: the copy takes the new version, but
-- only if the mark this change set is still there (a later change's mark wins; so does a
-- mark whose change never finished). KEYS: the copy. ARGV: the mark, the new version.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
