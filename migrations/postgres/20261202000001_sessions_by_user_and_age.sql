-- The per-user session cap trims a user's oldest sessions on every login: indexed in this
-- order the trim walks at most the cap's worth of entries and sorts nothing (see SQLite's).
DROP INDEX sessions_by_user;
CREATE INDEX sessions_by_user ON sessions (user_id, created_at, expires_at);
