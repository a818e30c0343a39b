//! Passkeys against the real app, with a software authenticator (`webauthn-authenticator-rs`'s
//! `SoftPasskey`) in the browser's place: it signs exactly what a browser's authenticator
//! signs, for the origin the test says the page is on.
//!
//! The software token can neither keep a discoverable credential nor verify a user, so the test
//! plays those parts: it remembers the credential and user handle it registered and hands them
//! back as a discoverable authenticator would (neither is covered by the signature), and it
//! sets the user-verified flag (`SoftPasskey::new(true)`).

use crate::common::*;
use reqwest::StatusCode;
use std::time::Duration;
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};
use webauthn_rs_proto::AllowCredentials;

/// A browser with one authenticator, on the page at `origin`.
pub(crate) struct Browser {
    token: SoftPasskey,
    origin: Url,
    /// What the token registered: credential id and user handle.
    registered: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Browser {
    fn at(origin: &str) -> Self {
        Self {
            token: SoftPasskey::new(true),
            origin: Url::parse(origin).unwrap(),
            registered: Vec::new(),
        }
    }

    /// The browser on the app's passkey origin (`http://localhost:PORT`).
    fn on(site: &Site) -> Self {
        Self::at(&site.base.replace("127.0.0.1", "localhost"))
    }

    /// Makes a credential for the server's creation options; returns the response JSON.
    fn create(&mut self, options: &str) -> Result<String, String> {
        let public_key: serde_json::Value = serde_json::from_str(options).unwrap();
        let mut ccr: CreationChallengeResponse =
            serde_json::from_value(serde_json::json!({ "publicKey": public_key })).unwrap();
        let handle = ccr.public_key.user.id.clone();
        // The software token refuses to be asked for a resident key; the test keeps it.
        if let Some(selection) = ccr.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = false;
        }
        let response = self
            .token
            .do_registration(self.origin.clone(), ccr)
            .map_err(|e| format!("{e:?}"))?;
        self.registered.push((response.raw_id.clone(), handle));
        Ok(serde_json::to_string(&response).unwrap())
    }

    /// Signs the server's request options with registered credential `which`, as a
    /// discoverable authenticator does (it returns the user handle).
    fn get(&mut self, options: &str, which: usize) -> String {
        let public_key: serde_json::Value = serde_json::from_str(options).unwrap();
        let mut rcr: RequestChallengeResponse =
            serde_json::from_value(serde_json::json!({ "publicKey": public_key })).unwrap();
        let (id, handle) = self.registered[which].clone();
        if rcr.public_key.allow_credentials.is_empty() {
            rcr.public_key.allow_credentials = vec![AllowCredentials {
                type_: "public-key".into(),
                id,
                transports: None,
            }];
        }
        let mut response = self
            .token
            .do_authentication(self.origin.clone(), rcr)
            .unwrap();
        response.response.user_handle = Some(handle);
        serde_json::to_string(&response).unwrap()
    }
}

/// A sign-in refused: 401, and whatever cookie came back is not logged in.
async fn assert_refused(
    site: &Site,
    answer: (StatusCode, Option<String>, serde_json::Value),
    what: &str,
) {
    let (status, cookie, body) = answer;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    if let Some(cookie) = cookie {
        assert!(
            !site.sees_welcome(&cookie, DEMO_USER).await,
            "{what}: logged in"
        );
    }
}

/// The options a ceremony's first call returns (JSON text inside the JSON string).
fn options(body: &serde_json::Value) -> String {
    body.as_str().expect("options as a JSON string").to_owned()
}

/// Adds a passkey to the account logged in with `cookie`; returns the add's status and body.
async fn add_passkey(
    site: &Site,
    browser: &mut Browser,
    cookie: &str,
    name: &str,
) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = call(site, "passkey_registration_options", &[], Some(cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let response = browser.create(&options(&body)).unwrap();
    let (status, _, body) = call(
        site,
        "add_passkey",
        &[("response", &response), ("name", name)],
        Some(cookie),
    )
    .await;
    (status, body)
}

/// The demo user logged in, with one passkey added: the session cookie and the browser.
pub(crate) async fn with_a_passkey(site: &Site) -> (String, Browser) {
    let cookie = site.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let mut browser = Browser::on(site);
    let (status, body) = add_passkey(site, &mut browser, &cookie, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (cookie, browser)
}

/// Signs in with registered credential `which`; returns the status, session cookie and body.
pub(crate) async fn sign_in(
    site: &Site,
    browser: &mut Browser,
    which: usize,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let (status, cookie, body) = call(site, "passkey_sign_in_options", &[], None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = cookie.expect("the ceremony is kept in a session");
    let response = browser.get(&options(&body), which);
    call(
        site,
        "passkey_sign_in",
        &[("response", &response)],
        Some(&cookie),
    )
    .await
}

#[tokio::test]
async fn a_passkey_added_signs_in_alone_as_a_full_login_listed_as_such() {
    let app = TestApp::spawn().await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let mut browser = Browser::on(&app);
    let (status, body) = add_passkey(&app, &mut browser, &cookie, "My laptop").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "My laptop");

    let (status, new_cookie, body) = sign_in(&app, &mut browser, 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, DEMO_USER);
    let new_cookie = new_cookie.expect("a passkey login sets a new session cookie");
    assert!(app.sees_welcome(&new_cookie, DEMO_USER).await);
    let sessions = app
        .page_text_as(&app.url("/sessions"), Some(&new_cookie))
        .await;
    assert!(sessions.contains("with a passkey"), "{sessions}");
    let account = app
        .page_text_as(&app.url("/account"), Some(&new_cookie))
        .await;
    assert!(account.contains("My laptop"), "{account}");
    assert!(
        !account.contains("never used"),
        "its last use is shown: {account}"
    );
    assert!(
        app.log_lines("method=\"passkey\"", 1, Duration::from_secs(5))
            .await
    );
}

#[tokio::test]
async fn a_response_made_on_another_origin_is_refused() {
    let app = TestApp::spawn().await;
    let (cookie, mut browser) = with_a_passkey(&app).await;
    let localhost = browser.origin.clone();

    // A page on another origin relays the site's challenge to the user's authenticator: once
    // on another port of the same host, once on another site under its own RP id. (An honest
    // browser's RP id always belongs to its origin, so each is refused by the origin check
    // first; webauthn-rs checks the RP id hash too.)
    for (origin, rp_id) in [
        ("http://localhost:9", None),
        ("https://latchkey.example.net", Some("latchkey.example.net")),
    ] {
        let (_, anon, body) = call(&app, "passkey_sign_in_options", &[], None).await;
        let mut relayed: serde_json::Value = serde_json::from_str(&options(&body)).unwrap();
        if let Some(rp_id) = rp_id {
            relayed["rpId"] = rp_id.into();
        }
        browser.origin = Url::parse(origin).unwrap();
        let response = browser.get(&relayed.to_string(), 0);
        let answer = call(
            &app,
            "passkey_sign_in",
            &[("response", &response)],
            anon.as_deref(),
        )
        .await;
        assert_refused(&app, answer, origin).await;
    }

    // Registration relayed from another origin: refused too.
    let (_, _, body) = call(&app, "passkey_registration_options", &[], Some(&cookie)).await;
    browser.origin = Url::parse("http://localhost:9").unwrap();
    let response = browser.create(&options(&body)).unwrap();
    let (status, _, _) = call(
        &app,
        "add_passkey",
        &[("response", &response), ("name", "")],
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    browser.origin = localhost;
    let (_, _, listed) = call(&app, "passkeys", &[], Some(&cookie)).await;
    assert_eq!(listed["passkeys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let app = TestApp::spawn().await;
    let (_, mut browser) = with_a_passkey(&app).await;

    let (_, anon, body) = call(&app, "passkey_sign_in_options", &[], None).await;
    let anon = anon.unwrap();
    let response = browser.get(&options(&body), 0);
    let (status, _, _) = call(
        &app,
        "passkey_sign_in",
        &[("response", &response)],
        Some(&anon),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The same assertion again: with the session that asked for it, and after a new challenge.
    let answer = call(
        &app,
        "passkey_sign_in",
        &[("response", &response)],
        Some(&anon),
    )
    .await;
    assert_refused(&app, answer, "replayed").await;
    let (_, fresh, _) = call(&app, "passkey_sign_in_options", &[], None).await;
    let answer = call(
        &app,
        "passkey_sign_in",
        &[("response", &response)],
        fresh.as_deref(),
    )
    .await;
    assert_refused(&app, answer, "replayed").await;
}

/// `response` (a registration) rewritten to claim credential id `id` instead of its own, with
/// the unsigned "none" attestation: what a malicious client can send, since with "none" nothing
/// but the challenge vouches for the credential id. (Ids of the same length, so the CBOR
/// lengths stay as they are.)
fn claiming(response: &str, own: &[u8], id: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut json: serde_json::Value = serde_json::from_str(response).unwrap();
    let object = b64
        .decode(json["response"]["attestationObject"].as_str().unwrap())
        .unwrap();
    // The authenticator data: the byte string after the "authData" key.
    let key = b"\x68authData";
    let at = object.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    let (len, start) = match object[at] {
        0x58 => (object[at + 1] as usize, at + 2),
        0x59 => (
            u16::from_be_bytes([object[at + 1], object[at + 2]]) as usize,
            at + 3,
        ),
        other => panic!("unexpected CBOR header {other:#x}"),
    };
    let mut auth_data = object[start..start + len].to_vec();
    let pos = auth_data.windows(own.len()).position(|w| w == own).unwrap();
    auth_data[pos..pos + own.len()].copy_from_slice(id);
    let mut none = vec![0xa3, 0x63];
    none.extend_from_slice(b"fmt");
    none.push(0x64);
    none.extend_from_slice(b"none");
    none.push(0x67);
    none.extend_from_slice(b"attStmt");
    none.push(0xa0);
    none.push(0x68);
    none.extend_from_slice(b"authData");
    none.push(0x59);
    none.extend_from_slice(&(auth_data.len() as u16).to_be_bytes());
    none.extend_from_slice(&auth_data);
    json["response"]["attestationObject"] = b64.encode(none).into();
    json["id"] = b64.encode(id).into();
    json["rawId"] = b64.encode(id).into();
    json.to_string()
}

#[tokio::test]
async fn one_assertion_sent_twice_at_once_signs_in_once() {
    let app = TestApp::spawn().await;
    let (_, mut browser) = with_a_passkey(&app).await;
    // Each request loads its own copy of the session, ceremony included.
    let (_, anon, body) = call(&app, "passkey_sign_in_options", &[], None).await;
    let anon = anon.unwrap();
    let response = browser.get(&options(&body), 0);
    let form = [("response", response.as_str())];
    let (first, second) = tokio::join!(
        call(&app, "passkey_sign_in", &form, Some(&anon)),
        call(&app, "passkey_sign_in", &form, Some(&anon)),
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNAUTHORIZED]);
}

#[tokio::test]
async fn a_credential_registered_to_one_account_cannot_be_registered_to_another() {
    let app = TestApp::spawn().await;
    app.cli(&["user", "add", "mallory"], "mallory-password\n")
        .await;
    let mut victim = Browser::on(&app);
    let first = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    assert_eq!(
        add_passkey(&app, &mut victim, &first, "").await.0,
        StatusCode::OK
    );
    let victims_id = victim.registered[0].0.clone();

    let mallory = app.login_ok("mallory", "mallory-password").await;
    let mut browser = Browser::on(&app);
    // The forgery itself is well-formed: with a fresh id of Mallory's own it is accepted.
    let (_, _, body) = call(&app, "passkey_registration_options", &[], Some(&mallory)).await;
    let response = browser.create(&options(&body)).unwrap();
    let own = browser.registered[0].0.clone();
    let fresh_id = vec![7u8; own.len()];
    let forged = claiming(&response, &own, &fresh_id);
    let (status, _, body) = call(
        &app,
        "add_passkey",
        &[("response", &forged), ("name", "")],
        Some(&mallory),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Claiming the victim's credential id: refused.
    let (_, _, body) = call(&app, "passkey_registration_options", &[], Some(&mallory)).await;
    let response = browser.create(&options(&body)).unwrap();
    let own = browser.registered[1].0.clone();
    let forged = claiming(&response, &own, &victims_id);
    let (status, _, body) = call(
        &app,
        "add_passkey",
        &[("response", &forged), ("name", "")],
        Some(&mallory),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body, serde_json::json!("PasskeyTaken"));
    // The victim's passkey still signs in the victim.
    let (status, _, body) = sign_in(&app, &mut victim, 0).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, serde_json::json!(DEMO_USER))
    );
}

#[tokio::test]
async fn a_removed_passkey_no_longer_signs_in_and_the_cli_clears_a_lost_device() {
    let app = TestApp::spawn().await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let mut browser = Browser::on(&app);
    assert_eq!(
        add_passkey(&app, &mut browser, &cookie, "Phone").await.0,
        StatusCode::OK
    );
    assert_eq!(
        add_passkey(&app, &mut browser, &cookie, "Laptop").await.0,
        StatusCode::OK
    );
    let (_, _, listed) = call(&app, "passkeys", &[], Some(&cookie)).await;
    let phone = listed["passkeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Phone")
        .expect("listed by name")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, _, _) = call(
        &app,
        "rename_passkey",
        &[("id", &phone), ("name", "Old phone")],
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(
        &app,
        "rename_passkey",
        &[("id", &phone), ("name", &"x".repeat(65))],
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let listing = app.cli(&["user", "passkeys", DEMO_USER], "").await;
    assert!(
        listing.stdout.contains("Old phone") && listing.stdout.contains("Laptop"),
        "{}",
        listing.stdout
    );

    let (status, _, _) = call(&app, "remove_passkey", &[("id", &phone)], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sign_in(&app, &mut browser, 0).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(sign_in(&app, &mut browser, 1).await.0, StatusCode::OK);

    let cleared = app
        .cli(&["user", "passkeys", DEMO_USER, "--remove-all"], "")
        .await;
    assert!(
        cleared.stdout.contains("removed 1 passkey"),
        "{}",
        cleared.stdout
    );
    assert_eq!(
        sign_in(&app, &mut browser, 1).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn failed_passkey_sign_ins_count_toward_the_accounts_throttle() {
    let app = TestApp::spawn().await;
    let (_, mut browser) = with_a_passkey(&app).await;
    browser.origin = Url::parse("http://localhost:9").unwrap();
    // The per-account budget of a client without a device cookie (5 by default).
    for _ in 0..5 {
        assert_eq!(
            sign_in(&app, &mut browser, 0).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app.login(DEMO_USER, DEMO_PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sensitive_changes_need_a_recent_confirmation() {
    let app = InProcessApp::spawn(&[]).await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let mut browser = Browser::on(&app);
    // Just logged in: sudo mode.
    assert_eq!(
        add_passkey(&app, &mut browser, &cookie, "").await.0,
        StatusCode::OK
    );

    app.clock().advance(Duration::from_secs(601));
    let sudo = serde_json::json!("SudoRequired");
    for (function, form) in [
        ("passkey_registration_options", vec![]),
        ("remove_passkey", vec![("id", "x")]),
        ("revoke_other_sessions", vec![]),
        (
            "change_password",
            vec![
                ("current", DEMO_PASSWORD),
                ("new", "a-new-password"),
                ("confirm", "a-new-password"),
            ],
        ),
    ] {
        let (status, _, body) = call(&app, function, &form, Some(&cookie)).await;
        assert_eq!(
            (status, body),
            (StatusCode::FORBIDDEN, sudo.clone()),
            "{function}"
        );
    }
    let (_, _, page) = call(&app, "passkeys", &[], Some(&cookie)).await;
    assert_eq!(page["confirmed"], false);

    // A wrong password does not confirm; the right one does, for ten minutes.
    let (status, _, _) = call(
        &app,
        "confirm_password",
        &[("password", "wrong")],
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, _, page) = call(&app, "passkeys", &[], Some(&cookie)).await;
    assert_eq!(page["confirmed"], false, "a wrong password confirmed");
    let (status, _, _) = call(
        &app,
        "confirm_password",
        &[("password", DEMO_PASSWORD)],
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&app, "passkey_registration_options", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    app.clock().advance(Duration::from_secs(601));
    let (status, _, _) = call(&app, "passkey_registration_options", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A passkey confirms too.
    app.clock().advance(Duration::from_secs(601));
    let (status, _, body) = call(&app, "passkey_confirm_options", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let response = browser.get(&options(&body), 0);
    let (status, _, body) = call(
        &app,
        "confirm_with_passkey",
        &[("response", &response)],
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, page) = call(&app, "passkeys", &[], Some(&cookie)).await;
    assert_eq!(page["confirmed"], true);
    let (status, _, _) = call(&app, "revoke_other_sessions", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn passkeys_need_a_host_name_and_without_one_the_site_works_as_before() {
    // PROD without a public URL: no passkeys anywhere, the login page as before.
    let app = TestApp::spawn_with(Spawn {
        env: "PROD",
        ..Spawn::default()
    })
    .await;
    let (status, _, body) = call(&app, "passkey_sign_in_options", &[], None).await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, serde_json::json!("PasskeysOff"))
    );
    let (_, _, html) = app.home(None).await;
    assert!(!html.contains("webauthn"), "no passkey autofill");
    app.stop().await;

    // A public URL on an IP address: WebAuthn refuses those, so passkeys are off, and the log
    // says why.
    let app = TestApp::spawn_with(Spawn {
        vars: vec![("LATCHKEY_PUBLIC_URL", "http://127.0.0.1:9".into())],
        ..Spawn::default()
    })
    .await;
    assert!(
        app.log_lines("passkeys are off", 1, Duration::from_secs(5))
            .await
    );
    let status = app
        .client
        .post(app.url("/api/passkey_sign_in_options"))
        .header("origin", "http://127.0.0.1:9")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Nobody logged in: the account's passkeys are not reachable.
    let app = TestApp::spawn().await;
    let (status, _, _) = call(&app, "passkey_registration_options", &[], None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, _, html) = app.home(None).await;
    assert!(
        html.contains("username webauthn"),
        "autofill offered where passkeys work"
    );
}

#[tokio::test]
async fn without_javascript_a_refused_change_brings_the_confirmation_and_it_leads_back() {
    let app = InProcessApp::spawn(&[]).await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    app.clock().advance(Duration::from_secs(601));
    let page = app.url("/sessions");
    let post = |path: &'static str, form: Vec<(&'static str, &'static str)>, referer: String| {
        let cookie = cookie.clone();
        let app = &app;
        async move {
            app.post_form(
                path,
                &form,
                &[
                    ("accept", BROWSER_ACCEPT),
                    ("referer", &referer),
                    ("cookie", &cookie),
                ],
            )
            .await
        }
    };
    let res = post("/api/revoke_other_sessions", vec![], page.clone()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("__err"), "{back}");
    let shown = app.page_text_as(&back, Some(&cookie)).await;
    assert!(shown.contains("Confirm it's you"), "{shown}");

    // Confirming goes back to the page itself, not to the address that carried the error.
    let res = post(
        "/api/confirm_password",
        vec![("password", DEMO_PASSWORD)],
        back.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/sessions");
    let shown = app.page_text_as(&page, Some(&cookie)).await;
    assert!(!shown.contains("Confirm it's you"), "{shown}");
    let res = post("/api/revoke_other_sessions", vec![], page.clone()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(!res.headers()["location"]
        .to_str()
        .unwrap()
        .contains("__err"));

    // The account page asks first when the confirmation has run out.
    let account = app.page_text_as(&app.url("/account"), Some(&cookie)).await;
    assert!(!account.contains("Confirm it's you"), "{account}");
    app.clock().advance(Duration::from_secs(601));
    let account = app.page_text_as(&app.url("/account"), Some(&cookie)).await;
    assert!(account.contains("Confirm it's you"), "{account}");
}

#[tokio::test]
async fn sign_in_challenges_are_limited_per_address() {
    // Each challenge stores a short-lived session: an address gets 200 per throttle window.
    let app = TestApp::spawn().await;
    for _ in 0..200 {
        let (status, _, _) = call(&app, "passkey_sign_in_options", &[], None).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _, body) = call(&app, "passkey_sign_in_options", &[], None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Another address is unaffected.
    let other = app
        .client_at("127.0.0.2")
        .post(app.url("/api/passkey_sign_in_options"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
}
