//! The session-cookie signing key: from `LATCHKEY_SESSION_KEY` (base64 of 64 bytes), or a key
//! file that is generated on first start with mode 0600 and reused after (so restarts keep
//! sessions valid).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use tower_sessions::cookie::Key;

const KEY_BYTES: usize = 64;

pub fn load_or_create(from_env: Option<&str>, file: &Path) -> Result<Key, String> {
    if let Some(encoded) = from_env {
        return decode(encoded).map_err(|e| format!("LATCHKEY_SESSION_KEY: {e}"));
    }
    match std::fs::read_to_string(file) {
        Ok(text) => {
            let mode = std::fs::metadata(file)
                .map_err(|e| e.to_string())?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(format!(
                    "{}: the signing key must be private (chmod 600), its mode is {:o}",
                    file.display(),
                    mode & 0o777
                ));
            }
            decode(text.trim()).map_err(|e| format!("{}: {e}", file.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Key::generate();
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(file)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            writeln!(f, "{}", STANDARD.encode(key.master())).map_err(|e| e.to_string())?;
            tracing::info!(path = %file.display(), "generated a new session signing key");
            Ok(key)
        }
        Err(e) => Err(format!("{}: {e}", file.display())),
    }
}

fn decode(encoded: &str) -> Result<Key, String> {
    let bytes = STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    if bytes.len() != KEY_BYTES {
        return Err(format!("expected {KEY_BYTES} bytes, got {}", bytes.len()));
    }
    Key::try_from(&bytes[..]).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/session.key");
        let a = load_or_create(None, &path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = load_or_create(None, &path).unwrap();
        assert_eq!(a.master(), b.master());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load_or_create(None, &path)
            .unwrap_err()
            .contains("chmod 600"));
        assert!(load_or_create(Some("c2hvcnQ="), &path)
            .unwrap_err()
            .contains("64 bytes"));
    }
}
