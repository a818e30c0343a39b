-- Passkeys (WebAuthn credentials); see the SQLite migration.
ALTER TABLE users ADD COLUMN passkey_handle TEXT UNIQUE;

CREATE TABLE passkeys (
    credential_id TEXT   PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT   NOT NULL,
    passkey       TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);
