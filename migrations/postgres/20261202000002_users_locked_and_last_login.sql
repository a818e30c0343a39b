-- `latchkey user lock NAME` and `latchkey user list` (see SQLite's migration).
ALTER TABLE users ADD COLUMN locked BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN last_login_at BIGINT;
