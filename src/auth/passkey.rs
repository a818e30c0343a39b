//! Passkeys (WebAuthn Level 3): the relying party and its two ceremonies, over `webauthn-rs`,
//! which does every check the specification asks of a relying party (challenge, origin, RP id
//! hash, user verification, signature, counter). This module adds what latchkey decides:
//! - registration asks for a discoverable (resident) credential with user verification, so
//!   that signing in needs no user name;
//! - the browser's JSON is the WebAuthn Level 3 JSON (`PublicKeyCredential.toJSON()`), and the
//!   options sent are what `parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON` read;
//! - a ceremony's state is returned to the caller to keep server-side (in the session), never
//!   sent to the client;
//! - credential ids are stored as base64url text, passkeys as webauthn-rs's own serialization.

use base64::Engine;
use webauthn_rs::prelude::{
    AuthenticationResult, CredentialID, DiscoverableAuthentication, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn,
    WebauthnBuilder,
};

pub use webauthn_rs::prelude::Passkey;

/// A ceremony that failed: the client's data was malformed, or did not pass a check. The
/// detail goes to the log; the person sees one fixed message.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("malformed credential JSON: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("refused: {0}")]
    Refused(#[from] webauthn_rs::prelude::WebauthnError),
    #[error("the stored passkey cannot be read: {0}")]
    Stored(serde_json::Error),
}

/// The relying party: this site, as its public origin names it.
pub struct RelyingParty {
    webauthn: Webauthn,
    origin: String,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("origin", &self.origin)
            .finish()
    }
}

/// A passkey just registered: what the passkeys table stores.
pub struct NewPasskey {
    pub credential_id: String,
    pub passkey: String,
}

/// What a discoverable sign-in's response claims, before it is verified.
pub struct Claimed {
    /// The user handle the authenticator returned.
    pub handle: String,
    pub credential_id: String,
    credential: PublicKeyCredential,
}

impl RelyingParty {
    /// The relying party for `origin` (`https://login.example.com`, or `http://localhost:3000`
    /// in development): its RP id is the origin's host. WebAuthn refuses IP addresses as RP ids,
    /// so an origin on one is an error that says so.
    pub fn new(origin: &str) -> Result<Self, String> {
        let url = Url::parse(origin).map_err(|e| format!("{origin:?} is not a URL: {e}"))?;
        let Some(url::Host::Domain(host)) = url.host() else {
            return Err(format!(
                "{origin:?}: passkeys need a host name, not an IP address (WebAuthn refuses IP addresses)"
            ));
        };
        let host = host.to_owned();
        let webauthn = WebauthnBuilder::new(&host, &url)
            .and_then(|b| b.rp_name("latchkey").build())
            .map_err(|e| format!("{origin:?}: {e}"))?;
        Ok(Self {
            webauthn,
            origin: url.origin().ascii_serialization(),
        })
    }

    /// The origin passkeys work on (`scheme://host[:port]`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Starts adding a passkey for the user with `handle`; `existing` (stored credential ids)
    /// are excluded, so an authenticator that holds one of them says so instead of making a
    /// second. Returns the options for the browser (JSON) and the state to keep.
    pub fn start_registration(
        &self,
        handle: &str,
        user_name: &str,
        existing: &[String],
    ) -> Result<(String, PasskeyRegistration), PasskeyError> {
        let handle = Uuid::parse_str(handle).map_err(|_| {
            PasskeyError::Refused(webauthn_rs::prelude::WebauthnError::InvalidUserUniqueId)
        })?;
        let exclude: Vec<CredentialID> = existing.iter().filter_map(|id| decode_id(id)).collect();
        let (options, state) = self.webauthn.start_passkey_registration(
            handle,
            user_name,
            user_name,
            (!exclude.is_empty()).then_some(exclude),
        )?;
        // A discoverable credential: the authenticator keeps the user handle, so signing in
        // needs no user name (webauthn-rs's passkey default only prefers one). Set in the JSON:
        // the registration's checks do not depend on it.
        let mut options = serde_json::to_value(&options.public_key)?;
        options["authenticatorSelection"]["residentKey"] = "required".into();
        options["authenticatorSelection"]["requireResidentKey"] = true.into();
        Ok((options.to_string(), state))
    }

    /// Finishes adding a passkey from the browser's response.
    pub fn finish_registration(
        &self,
        response: &str,
        state: &PasskeyRegistration,
    ) -> Result<NewPasskey, PasskeyError> {
        let response: RegisterPublicKeyCredential = serde_json::from_str(response)?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&response, state)?;
        Ok(NewPasskey {
            credential_id: encode_id(passkey.cred_id()),
            passkey: serde_json::to_string(&passkey)?,
        })
    }

    /// Starts a sign-in with any of this site's passkeys (the browser offers those it has).
    pub fn start_sign_in(&self) -> Result<(String, DiscoverableAuthentication), PasskeyError> {
        let (options, state) = self.webauthn.start_discoverable_authentication()?;
        Ok((serde_json::to_string(&options.public_key)?, state))
    }

    /// Reads who a sign-in response claims to be, to find the stored passkey to check it with.
    pub fn claimed(&self, response: &str) -> Result<Claimed, PasskeyError> {
        let credential: PublicKeyCredential = serde_json::from_str(response)?;
        let (handle, id) = self
            .webauthn
            .identify_discoverable_authentication(&credential)?;
        Ok(Claimed {
            handle: handle.to_string(),
            credential_id: encode_id(id),
            credential,
        })
    }

    /// Verifies a sign-in against the stored passkey; returns the passkey to store back
    /// (counter and backup flags updated).
    pub fn finish_sign_in(
        &self,
        claimed: &Claimed,
        state: DiscoverableAuthentication,
        stored: &str,
    ) -> Result<String, PasskeyError> {
        let mut passkey: Passkey = serde_json::from_str(stored).map_err(PasskeyError::Stored)?;
        let result = self.webauthn.finish_discoverable_authentication_v2(
            &claimed.credential,
            state,
            &passkey,
        )?;
        updated(&mut passkey, &result)
    }

    /// Starts confirming the signed-in user with one of `passkeys` (stored), for sudo mode.
    pub fn start_confirm(
        &self,
        passkeys: &[String],
    ) -> Result<(String, PasskeyAuthentication), PasskeyError> {
        let passkeys = passkeys
            .iter()
            .map(|p| serde_json::from_str(p).map_err(PasskeyError::Stored))
            .collect::<Result<Vec<Passkey>, _>>()?;
        let (options, state) = self.webauthn.start_passkey_authentication(&passkeys)?;
        Ok((serde_json::to_string(&options.public_key)?, state))
    }

    /// Verifies a confirmation; returns the credential id used and its passkey to store back.
    pub fn finish_confirm(
        &self,
        response: &str,
        state: &PasskeyAuthentication,
        stored: &str,
    ) -> Result<String, PasskeyError> {
        let credential: PublicKeyCredential = serde_json::from_str(response)?;
        let mut passkey: Passkey = serde_json::from_str(stored).map_err(PasskeyError::Stored)?;
        let result = self
            .webauthn
            .finish_passkey_authentication(&credential, state)?;
        updated(&mut passkey, &result)
    }
}

/// The credential id a confirmation response names (base64url), to find its stored passkey.
pub fn response_credential_id(response: &str) -> Result<String, PasskeyError> {
    let credential: PublicKeyCredential = serde_json::from_str(response)?;
    Ok(encode_id(credential.get_credential_id()))
}

/// A fresh, random user handle (never the user name or the row id).
pub fn new_handle() -> String {
    Uuid::new_v4().to_string()
}

fn updated(passkey: &mut Passkey, result: &AuthenticationResult) -> Result<String, PasskeyError> {
    passkey.update_credential(result);
    serde_json::to_string(passkey).map_err(PasskeyError::Stored)
}

fn encode_id(id: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

fn decode_id(id: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::RelyingParty;

    #[test]
    fn the_rp_id_is_the_origins_host_and_never_an_ip_address() {
        let rp = RelyingParty::new("https://login.example.com").unwrap();
        assert_eq!(rp.origin(), "https://login.example.com");
        assert!(RelyingParty::new("http://localhost:3000").is_ok());
        let err = RelyingParty::new("http://127.0.0.1:3000").unwrap_err();
        assert!(err.contains("IP address"), "{err}");
    }

    #[test]
    fn registration_asks_for_a_discoverable_user_verified_credential() {
        let rp = RelyingParty::new("http://localhost:3000").unwrap();
        let handle = super::new_handle();
        let (options, _) = rp.start_registration(&handle, "user1", &[]).unwrap();
        let options: serde_json::Value = serde_json::from_str(&options).unwrap();
        let selection = &options["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(options["rp"]["id"], "localhost");
        // The user handle is the random handle, never the name.
        assert_ne!(options["user"]["id"], serde_json::json!("user1"));
    }
}
