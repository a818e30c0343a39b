-- `latchkey user lock NAME` refuses an account's logins (with the wrong-password answer);
-- `latchkey user list` shows when each account last logged in.
ALTER TABLE users ADD COLUMN locked BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN last_login_at INTEGER;
