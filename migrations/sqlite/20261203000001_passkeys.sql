-- Passkeys (WebAuthn credentials). `passkey_handle` is the user handle the authenticators
-- store: random (a UUID), made at the first registration, never the user name or the row id.
ALTER TABLE users ADD COLUMN passkey_handle TEXT;
CREATE UNIQUE INDEX users_by_passkey_handle ON users (passkey_handle);

CREATE TABLE passkeys (
    -- base64url of the credential id: one credential never serves two accounts.
    credential_id TEXT    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    -- webauthn-rs's serialized `Passkey` (public key, counter, backup flags).
    passkey       TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);
