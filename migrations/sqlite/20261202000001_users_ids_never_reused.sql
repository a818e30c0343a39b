-- User ids are never reused (AUTOINCREMENT): a deleted user's id must not come back as a new
-- user's, or anything still keyed by the old id (a session in another store, a log line)
-- would belong to the new user. SQLite can only set AUTOINCREMENT when a table is created, so
-- both tables are rebuilt; sessions first points at the new table, so dropping the old users
-- table cascades to nothing, and the renames carry the reference along.
CREATE TABLE users_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    username         TEXT    NOT NULL UNIQUE,
    password_hash    TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    password_version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO users_new (id, username, password_hash, created_at, password_version)
    SELECT id, username, password_hash, created_at, password_version FROM users;

CREATE TABLE sessions_new (
    id_hash    BLOB    PRIMARY KEY,
    user_id    INTEGER REFERENCES users_new(id) ON DELETE CASCADE,
    data       BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO sessions_new SELECT id_hash, user_id, data, expires_at, created_at FROM sessions;

DROP TABLE sessions;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
