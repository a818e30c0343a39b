//! Input limits, in one place: the server refuses input beyond them and the forms carry the
//! same numbers as `maxlength` / `minlength`, so the two cannot drift apart. Shared by both builds.

/// Longest user name, in characters.
pub const MAX_USERNAME_CHARS: usize = 64;
/// Longest accepted password, in bytes. Longer input is refused before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Shortest new password, in characters (NIST SP 800-63B minimum).
pub const MIN_NEW_PASSWORD_CHARS: usize = 8;
/// Longest passkey name, in characters.
pub const MAX_PASSKEY_NAME_CHARS: usize = 64;
