-- Login throttling, shared by every instance that shares this database (see the SQLite
-- migration).
CREATE TABLE login_throttle (
    key          TEXT   PRIMARY KEY,
    window_start BIGINT NOT NULL,
    attempts     BIGINT NOT NULL
);

CREATE INDEX login_throttle_by_window ON login_throttle (window_start);
