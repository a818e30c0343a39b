-- no-transaction
-- Superseded by sessions_by_user_and_age (its first column serves every lookup by user).
DROP INDEX CONCURRENTLY IF EXISTS sessions_by_user;
