-- Sessions in PostgreSQL, shared by every latchkey instance. Same shape as SQLite's table;
-- no foreign key to users, which may live in another database.
CREATE TABLE sessions (
    id_hash    BYTEA  PRIMARY KEY,
    user_id    BIGINT,
    data       BYTEA  NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
