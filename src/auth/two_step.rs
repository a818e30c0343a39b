//! Two-step login: authenticator-app codes (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps,
//! one step of clock skew either way — what every authenticator app reads) and one-time
//! recovery codes.
//!
//! Secrets never rest in clear: an app secret is sealed with XChaCha20-Poly1305 under a key
//! derived from the secrets key (`LATCHKEY_SECRETS_KEY` or its key file), bound to its user
//! (the user id is the associated data, so a sealed secret copied to another row does not
//! open); a recovery code is kept as its HMAC under another derived key. A database dump alone
//! gives neither the codes nor what makes them.

use super::secret::{mac, random_bytes, Secret};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use totp_rs::{Builder, Totp};

/// The issuer authenticator apps show next to the account name.
const ISSUER: &str = "latchkey";
/// Recovery codes per set.
pub const RECOVERY_CODES: usize = 10;
/// An app secret's length: 160 bits, RFC 4226's recommendation.
const SECRET_BYTES: usize = 20;
const NONCE_BYTES: usize = 24;
/// Recovery codes are `xxxxx-xxxxx` over this alphabet (about 52 bits each).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const RECOVERY_HALF: usize = 5;

/// The keys two-step login needs, from the secrets key.
#[derive(Clone)]
pub struct TwoStepKeys {
    seal: [u8; 32],
    recovery: [u8; 32],
}

impl std::fmt::Debug for TwoStepKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TwoStepKeys(..)")
    }
}

impl TwoStepKeys {
    pub fn new(secrets: &Secret) -> Self {
        Self {
            seal: secrets.derive("two-step app secret"),
            recovery: secrets.derive("two-step recovery code"),
        }
    }

    /// Seals an app secret for `user_id`: base64 of nonce and ciphertext.
    pub fn seal(&self, user_id: i64, secret: &AppSecret) -> String {
        self.seal_bytes(user_id, &secret.0)
    }

    /// Opens what [`seal`](Self::seal) made for `user_id`; `None` if it was not made for this
    /// user under this key (tampered with, moved, or the key changed).
    pub fn open(&self, user_id: i64, sealed: &str) -> Option<AppSecret> {
        Some(AppSecret(
            self.open_bytes(user_id, sealed)?.try_into().ok()?,
        ))
    }

    /// Seals any short message for `user_id` (recovery codes kept for the next page).
    pub fn seal_bytes(&self, user_id: i64, message: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        random_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: message,
                    aad: &user_id.to_le_bytes(),
                },
            )
            .unwrap_or_else(|_| unreachable!("only messages over 256 GiB fail"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD_NO_PAD.encode(out)
    }

    pub fn open_bytes(&self, user_id: i64, sealed: &str) -> Option<Vec<u8>> {
        let bytes = STANDARD_NO_PAD.decode(sealed).ok()?;
        if bytes.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &user_id.to_le_bytes(),
                },
            )
            .ok()
    }

    /// What is stored for recovery code `code` of `user_id` (normalised first: see
    /// [`normalize_recovery_code`]).
    pub fn recovery_hash(&self, user_id: i64, code: &str) -> String {
        STANDARD_NO_PAD.encode(mac(
            &self.recovery,
            &[&user_id.to_le_bytes(), code.as_bytes()],
        ))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.seal).into())
    }
}

/// An authenticator-app secret, in clear: only ever in memory.
#[derive(Clone, PartialEq, Eq)]
pub struct AppSecret([u8; SECRET_BYTES]);

impl std::fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppSecret(..)")
    }
}

impl AppSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        random_bytes(&mut bytes);
        Self(bytes)
    }

    fn totp(&self, account: &str) -> Totp {
        // RFC 6238 defaults: SHA-1, 6 digits, 30 s, one step of skew. An account name can
        // hold no `:` (user names cannot), so `build` does not fail; the fallback is the same
        // code generator without the label.
        Builder::new()
            .with_secret(self.0.to_vec())
            .with_issuer(Some(ISSUER))
            .with_account_name(account)
            .build()
            .unwrap_or_else(|_| {
                Builder::new()
                    .with_secret(self.0.to_vec())
                    .build_noncompliant()
            })
    }

    /// Base32, for typing into an app by hand.
    pub fn base32(&self) -> String {
        self.totp("").secret().to_base32()
    }

    /// The `otpauth://totp/latchkey:NAME?secret=…&issuer=latchkey` URI apps read from the QR
    /// code.
    pub fn uri(&self, account: &str) -> String {
        self.totp(account).to_url().unwrap_or_default()
    }

    /// The step whose code (or a neighbour's, one step of skew either way) `code` is at unix
    /// time `now`; `None` if it is none of them. Spaces (as apps group the digits) are ignored.
    pub fn check(&self, code: &str, now: i64) -> Option<i64> {
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let now = u64::try_from(now).ok()?;
        self.totp("")
            .check(&digits, now)
            .and_then(|step| i64::try_from(step).ok())
    }

    /// The code for unix time `at` (tests compute what an app would show).
    #[cfg(test)]
    pub fn code_at(&self, at: i64) -> String {
        self.totp("")
            .generate(u64::try_from(at).unwrap_or(0))
            .to_string()
    }
}

/// A QR code of `text` as an inline SVG (black modules on white, with the quiet zone, so it
/// scans in dark mode too), without the XML declaration HTML has no use for.
pub fn qr_svg(text: &str) -> String {
    use qrcode::render::svg;
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return String::new();
    };
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build();
    match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    }
}

/// A fresh set of recovery codes, `xxxxx-xxxxx`.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect()
}

fn new_recovery_code() -> String {
    // Rejection sampling: 252 is the largest multiple of 36 in a byte, so every letter and
    // digit is equally likely.
    let mut code = String::with_capacity(2 * RECOVERY_HALF + 1);
    while code.len() < 2 * RECOVERY_HALF + 1 {
        let mut byte = [0u8; 1];
        random_bytes(&mut byte);
        if byte[0] < 252 {
            code.push(RECOVERY_ALPHABET[usize::from(byte[0]) % RECOVERY_ALPHABET.len()] as char);
            if code.len() == RECOVERY_HALF {
                code.push('-');
            }
        }
    }
    code
}

/// A recovery code as typed (any case, spaces, with or without the dash) in its stored form;
/// `None` if it cannot be one.
pub fn normalize_recovery_code(typed: &str) -> Option<String> {
    let chars: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if chars.len() != 2 * RECOVERY_HALF || !chars.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
        return None;
    }
    Some(format!(
        "{}-{}",
        &chars[..RECOVERY_HALF],
        &chars[RECOVERY_HALF..]
    ))
}

/// Whether what was typed is an app code (six digits, spaces allowed).
pub fn looks_like_app_code(typed: &str) -> bool {
    let digits: Vec<char> = typed.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == 6 && digits.iter().all(char::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 30-second time step that unix time `now` falls in.
    fn step_at(now: i64) -> i64 {
        now.div_euclid(30)
    }

    fn keys() -> TwoStepKeys {
        TwoStepKeys::new(&Secret::from_bytes([7; 64]))
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_user_and_key() {
        let secret = AppSecret::generate();
        let sealed = keys().seal(1, &secret);
        assert_eq!(keys().open(1, &sealed), Some(secret.clone()));
        assert_eq!(keys().open(2, &sealed), None, "moved to another user");
        let other = TwoStepKeys::new(&Secret::from_bytes([8; 64]));
        assert_eq!(other.open(1, &sealed), None, "another key");
        assert!(!sealed.contains(&secret.base32()), "no secret in clear");
        assert_ne!(keys().seal(1, &secret), sealed, "a fresh nonce each time");
        assert_eq!(keys().open(1, "not base64!"), None);
        assert_eq!(keys().open(1, ""), None);
    }

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1 ("12345678901234567890"), last six digits.
        let secret = AppSecret(*b"12345678901234567890");
        assert_eq!(secret.code_at(59), "287082");
        assert_eq!(secret.code_at(1_111_111_109), "081804");
        assert_eq!(secret.code_at(2_000_000_000), "279037");
    }

    #[test]
    fn codes_within_one_step_either_way_are_accepted() {
        let secret = AppSecret::generate();
        let now = 1_800_000_015;
        let step = step_at(now);
        for (offset, accepted) in [
            (-60, false),
            (-30, true),
            (0, true),
            (30, true),
            (60, false),
        ] {
            let code = secret.code_at(now + offset);
            let expected = accepted.then_some(step + offset / 30);
            // Another step's code may collide with this one's by chance (1 in 10^6).
            if expected.is_none() && secret.check(&code, now).is_some() {
                continue;
            }
            assert_eq!(secret.check(&code, now), expected, "offset {offset}");
        }
        let spaced = secret.code_at(now);
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        assert_eq!(secret.check(&spaced, now), Some(step));
        assert_eq!(secret.check("12345", now), None);
        assert_eq!(secret.check("+12345", now), None);
        assert_eq!(secret.check("", now), None);
    }

    #[test]
    fn the_uri_is_what_authenticator_apps_read() {
        let secret = AppSecret(*b"12345678901234567890");
        assert_eq!(
            secret.uri("alice"),
            "otpauth://totp/latchkey:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=latchkey"
        );
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert!(qr_svg(&secret.uri("alice")).starts_with("<svg"));
    }

    #[test]
    fn recovery_codes_have_the_documented_shape_and_normalise() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert_eq!(&code[5..6], "-");
            assert_eq!(
                normalize_recovery_code(code).as_deref(),
                Some(code.as_str())
            );
        }
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        assert_eq!(
            normalize_recovery_code(" AB3DE fgh1j ").as_deref(),
            Some("ab3de-fgh1j")
        );
        assert_eq!(normalize_recovery_code("ab3de-fgh1"), None);
        assert_eq!(normalize_recovery_code("ab3de-fgh1é"), None);
        assert!(looks_like_app_code("123 456"));
        assert!(!looks_like_app_code("ab3de-fgh1j"));
    }

    #[test]
    fn recovery_hashes_are_keyed_and_per_user() {
        let k = keys();
        assert_eq!(
            k.recovery_hash(1, "ab3de-fgh1j"),
            k.recovery_hash(1, "ab3de-fgh1j")
        );
        assert_ne!(
            k.recovery_hash(1, "ab3de-fgh1j"),
            k.recovery_hash(2, "ab3de-fgh1j")
        );
        let other = TwoStepKeys::new(&Secret::from_bytes([8; 64]));
        assert_ne!(
            k.recovery_hash(1, "ab3de-fgh1j"),
            other.recovery_hash(1, "ab3de-fgh1j")
        );
    }
}
