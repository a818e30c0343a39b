//! The server's secrets: 64 random bytes each, from an environment variable (base64) or a key
//! file, generated with mode 0600 on first start and reused after (so restarts keep cookies
//! valid). The session key (`LATCHKEY_SESSION_KEY`) signs session cookies (as is) and keys the
//! MACs that must not be computable without it (throttle keys, device cookies:
//! [`Secret::derive`]); the secrets key (`LATCHKEY_SECRETS_KEY`) seals what rests in the
//! database (two-step secrets and recovery codes), apart, so that the session key can be
//! replaced without losing them. Every instance that shares a store must hold the same ones.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const SECRET_BYTES: usize = 64;

#[derive(Clone)]
pub struct Secret([u8; SECRET_BYTES]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// HMAC-SHA256 of `parts` (each length-prefixed, so that no two lists of parts collide).
pub fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in parts {
        m.update(&(part.len() as u64).to_le_bytes());
        m.update(part);
    }
    m.finalize().into_bytes().into()
}

impl Secret {
    pub fn from_bytes(bytes: [u8; SECRET_BYTES]) -> Self {
        Self(bytes)
    }

    pub fn bytes(&self) -> &[u8; SECRET_BYTES] {
        &self.0
    }

    /// A key of its own for one purpose (`label`), so that no MAC made for one purpose is
    /// valid for another.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        mac(&self.0, &[b"latchkey", label.as_bytes()])
    }

    /// From `from_env` (the value of the variable `env_name`) if given, else the key file at
    /// `file`. A missing file is created only when `may_create` (a secret several instances
    /// must share cannot be made up by one).
    pub fn load_or_create(
        env_name: &str,
        from_env: Option<&str>,
        file: &Path,
        may_create: bool,
    ) -> Result<Self, String> {
        if let Some(encoded) = from_env {
            return decode(encoded).map_err(|e| format!("{env_name}: {e}"));
        }
        match read(file) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && may_create => create(file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
                "{}: no secret key; instances that share a store must share one: set \
                 {env_name} (base64 of 64 random bytes, e.g. `openssl rand -base64 64`) \
                 or give each the same key file",
                file.display()
            )),
            Err(e) => Err(format!("{}: {e}", file.display())),
            Ok(text) => decode(text.trim()).map_err(|e| format!("{}: {e}", file.display())),
        }
    }
}

/// The key file's text, if it is private.
fn read(file: &Path) -> std::io::Result<String> {
    let text = std::fs::read_to_string(file)?;
    let mode = std::fs::metadata(file)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(std::io::Error::other(format!(
            "the key must be private (chmod 600), its mode is {:o}",
            mode & 0o777
        )));
    }
    Ok(text)
}

/// Writes a new key to a private temporary file, then links it into place: the link fails if
/// another process got there first (O_EXCL semantics), and nobody ever reads a half-written
/// key. The loser of such a race uses the winner's key.
fn create(file: &Path) -> Result<Secret, String> {
    let shown = |e: &dyn std::fmt::Display| format!("{}: {e}", file.display());
    let mut bytes = [0u8; SECRET_BYTES];
    random_bytes(&mut bytes);
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| shown(&e))?;
    }
    let mut suffix = [0u8; 8];
    random_bytes(&mut suffix);
    let tmp = file.with_extension(format!("tmp{}", u64::from_le_bytes(suffix)));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| shown(&e))?;
    let written = writeln!(f, "{}", STANDARD.encode(bytes)).and_then(|()| f.sync_all());
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, file));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %file.display(), "generated a new secret key");
            Ok(Secret(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            decode(read(file).map_err(|e| shown(&e))?.trim()).map_err(|e| shown(&e))
        }
        Err(e) => Err(shown(&e)),
    }
}

/// Fills `buf` from the operating system's random source.
pub fn random_bytes(buf: &mut [u8]) {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    OsRng.fill_bytes(buf);
}

fn decode(encoded: &str) -> Result<Secret, String> {
    let bytes = STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    let bytes: [u8; SECRET_BYTES] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("expected {SECRET_BYTES} bytes, got {}", b.len()))?;
    Ok(Secret(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/session.key");
        assert!(
            Secret::load_or_create("LATCHKEY_SESSION_KEY", None, &path, false)
                .unwrap_err()
                .contains("LATCHKEY_SESSION_KEY")
        );
        let a = Secret::load_or_create("LATCHKEY_SESSION_KEY", None, &path, true).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        let b = Secret::load_or_create("LATCHKEY_SESSION_KEY", None, &path, false).unwrap();
        assert_eq!(a.bytes(), b.bytes());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            Secret::load_or_create("LATCHKEY_SESSION_KEY", None, &path, true)
                .unwrap_err()
                .contains("chmod 600")
        );
        assert!(
            Secret::load_or_create("LATCHKEY_SESSION_KEY", Some("c2hvcnQ="), &path, true)
                .unwrap_err()
                .contains("64 bytes")
        );
    }

    /// Instances starting together: every one ends up with the one key that was published.
    #[test]
    fn instances_racing_to_create_the_key_agree_on_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.key");
        let keys: Vec<[u8; SECRET_BYTES]> = std::thread::scope(|s| {
            let racers: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        *Secret::load_or_create("LATCHKEY_SESSION_KEY", None, &path, true)
                            .unwrap()
                            .bytes()
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| *k == keys[0]));
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let s = Secret([7; SECRET_BYTES]);
        assert_ne!(s.derive("throttle"), s.derive("device"));
        assert_ne!(mac(b"k", &[b"ab", b"c"]), mac(b"k", &[b"a", b"bc"]));
    }
}
