-- Bumped on every password change; a session remembers the version it logged in with, so a
-- login that raced a password change cannot outlive it.
ALTER TABLE users ADD COLUMN password_version INTEGER NOT NULL DEFAULT 0;
