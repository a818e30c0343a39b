-- The per-user session cap trims a user's oldest sessions on every login. Indexed by user
-- alone, that query sorted all of the user's sessions each time (the login benchmark's user
-- with 300,000 sessions held the write lock ~100 ms per login); in this order the index walks
-- at most the cap's worth of entries and sorts nothing.
DROP INDEX sessions_by_user;
CREATE INDEX sessions_by_user ON sessions (user_id, created_at, expires_at);
