-- Two-step login (auth::two_step). `totp_secret`: the authenticator app's secret, sealed with
-- the secrets key, NULL while two-step login is off; `totp_pending`: an enrolment's secret
-- until a code confirms it; `totp_last_step`: the last time step whose code was accepted (a
-- code works once); `recovery_codes`: the unused recovery codes' keyed hashes, space-separated
-- (one column, so that using one, or replacing the set, is one atomic update).
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
ALTER TABLE users ADD COLUMN two_step_since INTEGER;
ALTER TABLE users ADD COLUMN recovery_codes TEXT NOT NULL DEFAULT '';
