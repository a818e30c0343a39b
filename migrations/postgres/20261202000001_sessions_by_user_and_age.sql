-- no-transaction
-- The per-user session cap trims a user's oldest sessions on every login: indexed in this
-- order the trim walks at most the cap's worth of entries and sorts nothing (see SQLite's).
-- CONCURRENTLY, outside a transaction: instances still serving during a rolling upgrade keep
-- reading and writing sessions while it builds (the old index goes in a later migration).
CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_by_user_and_age ON sessions (user_id, created_at, expires_at);
