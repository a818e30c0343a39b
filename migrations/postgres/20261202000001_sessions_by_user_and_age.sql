-- The per-user session cap trims a user's oldest sessions on every login: indexed in this
-- order the trim walks at most the cap's worth of entries and sorts nothing (see SQLite's).
-- Not CONCURRENTLY: sqlx serialises migrators with one database-wide advisory lock, and a
-- concurrent build waits for every open transaction, another instance's wait for that lock
-- included: a deadlock (seen in the test suite, whose schemas share one database). So session
-- writes wait while this builds; reads do not.
CREATE INDEX IF NOT EXISTS sessions_by_user_and_age ON sessions (user_id, created_at, expires_at);
DROP INDEX IF EXISTS sessions_by_user;
