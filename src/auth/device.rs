//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser
//! that has logged in as an account carries a MAC'd token for it, so that its owner is not
//! locked out by strangers' failed guesses: the per-account limit applies only to clients
//! without such a token, and each token has a small budget of its own (see `throttle`).
//!
//! The cookie holds up to [`MAX_ENTRIES`] entries, one per account, newest first, each
//! `NONCE.MAC` (base64url): MAC = HMAC(derived key, account name, nonce). The name itself is
//! not in the cookie; an entry is valid for an account only if its MAC is.

use super::secret::{mac, Secret};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Accounts one browser keeps device entries for.
pub const MAX_ENTRIES: usize = 4;
const NONCE_BYTES: usize = 16;
const MAC_BYTES: usize = 16;
/// How long a device cookie lasts (OWASP suggests long-lived; browsers cap at 400 days).
pub const LIFETIME_DAYS: i64 = 180;

#[derive(Clone)]
pub struct DeviceCookies {
    key: [u8; 32],
}

impl std::fmt::Debug for DeviceCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceCookies(..)")
    }
}

impl DeviceCookies {
    pub fn new(secret: &Secret) -> Self {
        Self {
            key: secret.derive("device-cookie"),
        }
    }

    fn mac(&self, account: &str, nonce: &[u8]) -> [u8; MAC_BYTES] {
        let full = mac(&self.key, &[account.as_bytes(), nonce]);
        let mut out = [0u8; MAC_BYTES];
        out.copy_from_slice(&full[..MAC_BYTES]);
        out
    }

    /// The entry of `cookie` that is valid for `account` (its nonce, as the throttle's key for
    /// this device), if any.
    pub fn find(&self, account: &str, cookie: Option<&str>) -> Option<String> {
        cookie?.split('~').find_map(|entry| {
            let (nonce, tag) = entry.split_once('.')?;
            let nonce_bytes = URL_SAFE_NO_PAD.decode(nonce).ok()?;
            let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
            let expected = self.mac(account, &nonce_bytes);
            // Constant time: the MAC is the secret part.
            let equal = tag.len() == MAC_BYTES
                && nonce_bytes.len() == NONCE_BYTES
                && tag
                    .iter()
                    .zip(expected.iter())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0;
            equal.then(|| nonce.to_owned())
        })
    }

    /// The cookie after a login as `account`: a fresh entry for it first, then the browser's
    /// other entries (at most [`MAX_ENTRIES`] in all).
    pub fn issue(&self, account: &str, cookie: Option<&str>) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        OsRng.fill_bytes(&mut nonce);
        let fresh = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(self.mac(account, &nonce))
        );
        let mine = self.find(account, cookie);
        let others = cookie
            .unwrap_or("")
            .split('~')
            .filter(|e| is_entry(e) && mine.as_deref() != e.split('.').next());
        std::iter::once(fresh.as_str())
            .chain(others)
            .take(MAX_ENTRIES)
            .collect::<Vec<_>>()
            .join("~")
    }
}

/// Whether `e` has an entry's shape (so a crafted cookie cannot grow without bound).
fn is_entry(e: &str) -> bool {
    e.len() == 22 + 1 + 22
        && e.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies() -> DeviceCookies {
        DeviceCookies::new(&Secret::from_bytes([3; super::super::secret::SECRET_BYTES]))
    }

    #[test]
    fn an_entry_is_valid_for_its_account_only() {
        let d = cookies();
        let c = d.issue("alice", None);
        assert!(d.find("alice", Some(&c)).is_some());
        assert!(d.find("bob", Some(&c)).is_none());
        // Another server's secret makes other MACs.
        let other =
            DeviceCookies::new(&Secret::from_bytes([4; super::super::secret::SECRET_BYTES]));
        assert!(other.find("alice", Some(&c)).is_none());
        // Tampering with either half fails.
        let mut bad = c.clone().into_bytes();
        bad[3] ^= 1;
        assert!(d.find("alice", std::str::from_utf8(&bad).ok()).is_none());
        assert!(d.find("alice", Some("garbage")).is_none());
    }

    #[test]
    fn a_browser_keeps_entries_for_a_few_accounts_newest_first() {
        let d = cookies();
        let mut c = d.issue("a", None);
        for name in ["b", "c", "d", "a", "e"] {
            c = d.issue(name, Some(&c));
        }
        assert_eq!(c.split('~').count(), MAX_ENTRIES);
        for name in ["e", "a", "d", "c"] {
            assert!(d.find(name, Some(&c)).is_some(), "{name}");
        }
        assert!(d.find("b", Some(&c)).is_none(), "the oldest entry went");
        let crafted = format!("{c}~{}", "x".repeat(4000));
        assert_eq!(d.issue("a", Some(&crafted)).split('~').count(), MAX_ENTRIES);
    }
}
