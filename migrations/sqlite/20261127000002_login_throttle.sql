-- Login throttling, shared by every instance that shares this database: one row per account
-- name or client address, counting attempts in a fixed window.
CREATE TABLE login_throttle (
    key          TEXT    PRIMARY KEY,
    window_start INTEGER NOT NULL,
    attempts     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX login_throttle_by_window ON login_throttle (window_start);
