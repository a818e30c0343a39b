-- Users and their sessions share one SQLite file by default.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    -- PHC string (Argon2id); the password itself is never stored.
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the session id: a leaked database gives no usable cookie.
    id_hash    BLOB    PRIMARY KEY,
    -- The per-user index (list / revoke / log out everywhere); NULL for a session with no user.
    user_id    INTEGER REFERENCES users(id) ON DELETE CASCADE,
    -- The tower-sessions record data, as JSON.
    data       BLOB    NOT NULL,
    -- Unix seconds; a record past this instant is dead even before the cleanup task removes it.
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
