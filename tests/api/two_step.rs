//! Two-step login against the real app, with the manual clock: the test plays the
//! authenticator app, computing RFC 6238 codes from the key the setup page shows (with
//! `totp-rs`, as an app would; not with latchkey's own code).

use crate::common::*;
use crate::passkeys::{sign_in, with_a_passkey};
use latchkey::clock::Clock;
use reqwest::StatusCode;
use std::time::Duration;

/// What an authenticator app with key `secret` (base32) shows at unix time `at`.
fn code_at(secret: &str, at: i64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret)
        .unwrap()
        .as_bytes()
        .to_vec();
    totp_rs::Builder::new()
        .with_secret(bytes)
        .build()
        .unwrap()
        .generate(at as u64)
        .to_string()
}

fn now(app: &InProcessApp) -> i64 {
    app.clock().now().unix_timestamp()
}

/// The next 30-second step: a code not used yet.
fn next_step(app: &InProcessApp) {
    app.clock().advance(Duration::from_secs(30));
}

/// The demo user logged in with two-step login on: the session cookie, the app's key and the
/// recovery codes.
async fn enrolled(app: &InProcessApp) -> (String, String, Vec<String>) {
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let (status, _, setup) = call(app, "two_step_setup", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let code = code_at(&secret, now(app));
    let (status, _, codes) = call(app, "enable_two_step", &[("code", &code)], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{codes}");
    let codes = serde_json::from_value(codes).unwrap();
    next_step(app);
    (cookie, secret, codes)
}

/// The first step with the right password: 401 "CodeRequired" and the session that waits for
/// the code.
async fn first_step(app: &Site) -> String {
    let res = app.login(DEMO_USER, DEMO_PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let cookie = session_cookie(res.headers()).expect("a session waits for the code");
    assert_eq!(res.text().await.unwrap(), "\"CodeRequired\"");
    cookie.pair()
}

/// The second step: the status, the new session cookie (if any) and the body.
async fn second_step(
    app: &Site,
    cookie: &str,
    code: &str,
) -> (StatusCode, Option<String>, serde_json::Value) {
    call(app, "login_code", &[("code", code)], Some(cookie)).await
}

#[tokio::test]
async fn setup_shows_the_key_three_ways_and_a_wrong_code_does_not_turn_it_on() {
    let app = InProcessApp::spawn(&[]).await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let (status, _, setup) = call(&app, "two_step_setup", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let secret = setup["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    assert_eq!(
        setup["uri"],
        format!("otpauth://totp/latchkey:{DEMO_USER}?secret={secret}&issuer=latchkey")
    );
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"));
    // A reload shows the key the app may have scanned already.
    let (_, _, again) = call(&app, "two_step_setup", &[], Some(&cookie)).await;
    assert_eq!(again["secret"], secret);
    let page = app.page_html("/account/two-step", Some(&cookie)).await;
    assert!(page.contains("<svg") && page.contains(secret), "{page}");

    let wrong = code_at(secret, now(&app) + 300);
    let (status, _, body) = call(&app, "enable_two_step", &[("code", &wrong)], Some(&cookie)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, _, status_now) = call(&app, "two_step", &[], Some(&cookie)).await;
    assert_eq!(status_now["since"], serde_json::Value::Null, "still off");
    assert_eq!(
        app.login(DEMO_USER, DEMO_PASSWORD, None).await.status(),
        StatusCode::OK
    );

    let right = code_at(secret, now(&app));
    let (status, _, codes) =
        call(&app, "enable_two_step", &[("code", &right)], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{codes}");
    let codes: Vec<String> = serde_json::from_value(codes).unwrap();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 11
        && c.as_bytes()[5] == b'-'
        && c.bytes()
            .all(|b| b == b'-' || b.is_ascii_lowercase() || b.is_ascii_digit())));
    let (_, _, on) = call(&app, "two_step", &[], Some(&cookie)).await;
    assert_eq!(on["codes_left"], 10);
    assert!(on["since"].is_string());
    let (status, _, _) = call(&app, "two_step_setup", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "already on");
}

#[tokio::test]
async fn a_login_with_two_steps_needs_the_code_and_then_is_a_full_login() {
    let app = InProcessApp::spawn(&[]).await;
    let (_, secret, _) = enrolled(&app).await;
    let halfway = first_step(&app).await;
    assert!(!app.sees_welcome(&halfway, DEMO_USER).await);
    let (status, cookie, body) = second_step(&app, &halfway, &code_at(&secret, now(&app))).await;
    assert_eq!(
        (status, &body),
        (StatusCode::OK, &serde_json::json!(DEMO_USER))
    );
    let cookie = cookie.expect("a new session id");
    assert_ne!(cookie, halfway);
    assert!(app.sees_welcome(&cookie, DEMO_USER).await);
    assert!(
        !app.sees_welcome(&halfway, DEMO_USER).await,
        "the half-done id is gone"
    );
}

#[tokio::test]
async fn a_code_is_accepted_once() {
    let app = InProcessApp::spawn(&[]).await;
    let (_, secret, _) = enrolled(&app).await;
    let code = code_at(&secret, now(&app));
    let first = first_step(&app).await;
    assert_eq!(second_step(&app, &first, &code).await.0, StatusCode::OK);
    // The same code again, within its 30 seconds: replayed.
    let second = first_step(&app).await;
    let (status, cookie, body) = second_step(&app, &second, &code).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, serde_json::json!("WrongCode"))
    );
    assert!(cookie.is_none_or(|c| c == second));
    assert!(!app.sees_welcome(&second, DEMO_USER).await);
    // Nor an earlier step's code, once a later one was used.
    let earlier = code_at(&secret, now(&app) - 30);
    assert_eq!(
        second_step(&app, &second, &earlier).await.0,
        StatusCode::UNAUTHORIZED
    );
    next_step(&app);
    let fresh = code_at(&secret, now(&app));
    assert_eq!(second_step(&app, &second, &fresh).await.0, StatusCode::OK);
}

#[tokio::test]
async fn one_step_of_clock_skew_is_accepted_and_two_are_not() {
    let app = InProcessApp::spawn(&[]).await;
    let (_, secret, _) = enrolled(&app).await;
    for (offset, accepted) in [(-60, false), (60, false), (-30, true), (30, true)] {
        // Each try a few steps later than the last: what a used step allows.
        app.clock().advance(Duration::from_secs(120));
        let halfway = first_step(&app).await;
        let (status, _, body) =
            second_step(&app, &halfway, &code_at(&secret, now(&app) + offset)).await;
        let expected = if accepted {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(status, expected, "offset {offset}: {body}");
    }
}

#[tokio::test]
async fn a_recovery_code_works_once_in_any_case_and_new_ones_replace_the_set() {
    let app = InProcessApp::spawn(&[]).await;
    let (cookie, _, codes) = enrolled(&app).await;
    let halfway = first_step(&app).await;
    let typed = codes[0].to_uppercase().replace('-', " ");
    let (status, _, body) = second_step(&app, &halfway, &typed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let halfway = first_step(&app).await;
    assert_eq!(
        second_step(&app, &halfway, &codes[0]).await.0,
        StatusCode::UNAUTHORIZED,
        "used already"
    );
    let (_, _, status_now) = call(&app, "two_step", &[], Some(&cookie)).await;
    assert_eq!(status_now["codes_left"], 9);

    let (status, _, fresh) = call(&app, "regenerate_recovery_codes", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    let fresh: Vec<String> = serde_json::from_value(fresh).unwrap();
    assert_eq!(
        second_step(&app, &halfway, &codes[1]).await.0,
        StatusCode::UNAUTHORIZED,
        "old set"
    );
    assert_eq!(
        second_step(&app, &halfway, &fresh[0]).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_wrong_passwords() {
    let app = InProcessApp::spawn(&[]).await;
    let (_, secret, _) = enrolled(&app).await;
    let halfway = first_step(&app).await;
    for _ in 0..5 {
        assert_eq!(
            second_step(&app, &halfway, "000000").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app
        .post_form(
            "/api/login_code",
            &[("code", &code_at(&secret, now(&app)))],
            &[("cookie", &halfway)],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right code now"
    );
    assert!(res.headers().contains_key("retry-after"));
    // Giving the password again does not buy a fresh set of guesses: the count is the
    // account's, and the password step shares it.
    assert_eq!(
        app.login(DEMO_USER, DEMO_PASSWORD, None).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_half_done_login_is_not_a_login_anywhere() {
    let app = InProcessApp::spawn(&[]).await;
    let (_, _, _) = enrolled(&app).await;
    let halfway = first_step(&app).await;
    for page in ["/sessions", "/account", "/account/two-step"] {
        let text = app.page_text_as(&app.url(page), Some(&halfway)).await;
        assert!(text.contains("You are not logged in"), "{page}: {text}");
    }
    let home = app.page_text_as(&app.url("/"), Some(&halfway)).await;
    assert!(home.contains("Two-step login"), "the code step: {home}");
    let (_, _, who) = call(&app, "current_user", &[], Some(&halfway)).await;
    assert_eq!(who, serde_json::Value::Null);
    for (function, form) in [
        ("sessions", vec![]),
        ("passkeys", vec![]),
        ("two_step", vec![]),
        ("two_step_setup", vec![]),
        ("enable_two_step", vec![("code", "123456")]),
        ("regenerate_recovery_codes", vec![]),
        ("disable_two_step", vec![]),
        ("revoke_other_sessions", vec![]),
        ("confirm_password", vec![("password", DEMO_PASSWORD)]),
        ("passkey_registration_options", vec![]),
        ("add_passkey", vec![("response", "{}"), ("name", "key")]),
        ("rename_passkey", vec![("id", "x"), ("name", "key")]),
        ("remove_passkey", vec![("id", "x")]),
        ("passkey_confirm_options", vec![]),
        ("confirm_with_passkey", vec![("response", "{}")]),
        ("revoke_session", vec![("handle", "x")]),
        ("fresh_recovery_codes", vec![]),
        (
            "change_password",
            vec![
                ("current", DEMO_PASSWORD),
                ("new", "x-new-password"),
                ("confirm", "x-new-password"),
            ],
        ),
    ] {
        let (status, _, body) = call(&app, function, &form, Some(&halfway)).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::UNAUTHORIZED,
                serde_json::json!("Unauthenticated")
            ),
            "{function}"
        );
    }
}

#[tokio::test]
async fn a_half_done_login_belongs_to_the_browser_that_gave_the_password() {
    let app = InProcessApp::spawn(&[]).await;
    let (logged_in_elsewhere, secret, _) = enrolled(&app).await;
    let halfway = first_step(&app).await;
    let code = code_at(&secret, now(&app));
    // Other browsers with the right code (no session, or one that never gave this password):
    // no login, and the code is not used up.
    for cookie in [None, Some(logged_in_elsewhere.as_str())] {
        let (status, set, body) = call(&app, "login_code", &[("code", &code)], cookie).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::UNAUTHORIZED,
                serde_json::json!("SecondStepExpired")
            )
        );
        assert!(set.is_none() || !app.sees_welcome(&set.unwrap(), DEMO_USER).await);
    }
    let (status, cookie, _) = second_step(&app, &halfway, &code).await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.sees_welcome(&cookie.unwrap(), DEMO_USER).await);
}

#[tokio::test]
async fn a_half_done_login_lapses_after_five_minutes() {
    let app = InProcessApp::spawn(&[]).await;
    let (_, secret, _) = enrolled(&app).await;
    let halfway = first_step(&app).await;
    app.clock().advance(Duration::from_secs(300));
    let (status, _, body) = second_step(&app, &halfway, &code_at(&secret, now(&app))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            serde_json::json!("SecondStepExpired")
        )
    );
    // And a code without any first step is refused the same way.
    let (status, _, body) = call(&app, "login_code", &[("code", "123456")], None).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            serde_json::json!("SecondStepExpired")
        )
    );
}

#[tokio::test]
async fn the_database_holds_no_secret_or_recovery_code_in_clear() {
    let app = InProcessApp::spawn(&[]).await;
    let (_, secret, codes) = enrolled(&app).await;
    let db = std::fs::read(app.data.path().join("latchkey.db")).unwrap();
    let wal = std::fs::read(app.data.path().join("latchkey.db-wal")).unwrap_or_default();
    let raw = totp_rs::Secret::try_from_base32(&secret)
        .unwrap()
        .as_bytes()
        .to_vec();
    for file in [&db, &wal] {
        let has = |needle: &[u8]| file.windows(needle.len()).any(|w| w == needle);
        assert!(!has(secret.as_bytes()), "the key in base32");
        assert!(!has(&raw), "the key's bytes");
        for code in &codes {
            assert!(!has(code.as_bytes()), "a recovery code");
        }
    }
}

#[tokio::test]
async fn a_passkey_sign_in_needs_no_code() {
    let app = InProcessApp::spawn(&[]).await;
    let (_, mut browser) = with_a_passkey(&app).await;
    let (_, _, _) = enrolled(&app).await;
    let (status, cookie, body) = sign_in(&app, &mut browser, 0).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, serde_json::json!(DEMO_USER))
    );
    assert!(app.sees_welcome(&cookie.unwrap(), DEMO_USER).await);
}

#[tokio::test]
async fn turning_it_off_needs_sudo_mode_and_then_the_password_alone_logs_in() {
    let app = InProcessApp::spawn(&[]).await;
    let (cookie, _, _) = enrolled(&app).await;
    app.clock().advance(Duration::from_secs(601));
    for function in ["disable_two_step", "regenerate_recovery_codes"] {
        let (status, _, body) = call(&app, function, &[], Some(&cookie)).await;
        assert_eq!(
            (status, body),
            (StatusCode::FORBIDDEN, serde_json::json!("SudoRequired")),
            "{function}"
        );
    }
    let (status, _, _) = call(
        &app,
        "confirm_password",
        &[("password", DEMO_PASSWORD)],
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&app, "disable_two_step", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.login(DEMO_USER, DEMO_PASSWORD, None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_javascript_every_step_is_a_form_and_a_redirect() {
    let app = InProcessApp::spawn(&[]).await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let setup_page = app.url("/account/two-step");
    let html = [
        ("accept", BROWSER_ACCEPT),
        ("cookie", cookie.as_str()),
        ("referer", setup_page.as_str()),
    ];
    let page = app.page_html("/account/two-step", Some(&cookie)).await;
    let secret = page
        .split("data-secret=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the key on the page")
        .to_owned();
    let res = app
        .post_form("/api/enable_two_step", &[("code", "000000")], &html)
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(&format!("{setup_page}?")), "{back}");
    let text = app.page_text_as(&back, Some(&cookie)).await;
    assert!(text.contains("That code is not right"), "{text}");

    let code = code_at(&secret, now(&app));
    let res = app
        .post_form("/api/enable_two_step", &[("code", &code)], &html)
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/account/recovery-codes");
    let shown = app
        .page_html("/account/recovery-codes", Some(&cookie))
        .await;
    let codes: Vec<&str> = shown
        .split("<code>")
        .skip(1)
        .filter_map(|rest| rest.split("</code>").next())
        .collect();
    assert_eq!(codes.len(), 10, "{shown}");
    let again = app
        .page_text_as(&app.url("/account/recovery-codes"), Some(&cookie))
        .await;
    assert!(again.contains("shown only once"), "{again}");

    // The login: password, then the code step on the page it goes back to.
    next_step(&app);
    let res = app
        .post_form(
            "/api/login",
            &[("username", DEMO_USER), ("password", DEMO_PASSWORD)],
            &[("accept", BROWSER_ACCEPT), ("referer", &app.url("/"))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let halfway = session_cookie(res.headers()).unwrap().pair();
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    let step = app.page_text_as(&back, Some(&halfway)).await;
    assert!(
        step.contains("Two-step login") && !step.contains("Error"),
        "{step}"
    );
    let res = app
        .post_form(
            "/api/login_code",
            &[("code", codes[3])],
            &[
                ("accept", BROWSER_ACCEPT),
                ("cookie", &halfway),
                ("referer", &back),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    // Back to the page without the first step's "code required": it is not shown again, on
    // the welcome nor on the form after logging out from there.
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(!to.contains("__err"), "{to}");
    let cookie = session_cookie(res.headers()).unwrap().pair();
    let welcome = app.page_text_as(&to, Some(&cookie)).await;
    assert!(
        welcome.contains("Welcome, user1") && !welcome.contains("Error"),
        "{welcome}"
    );
    let res = app
        .post_form(
            "/api/logout",
            &[],
            &[
                ("accept", BROWSER_ACCEPT),
                ("cookie", &cookie),
                ("referer", &back),
            ],
        )
        .await;
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(!to.contains("__err"), "{to}");
    let form = app.page_text(&to).await;
    assert!(!form.contains("authenticator app"), "{form}");
}

#[tokio::test]
async fn the_administrator_turns_it_off_for_a_lost_phone() {
    let app = TestApp::spawn().await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let (_, _, setup) = call(&app, "two_step_setup", &[], Some(&cookie)).await;
    let secret = setup["secret"].as_str().unwrap();
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (status, _, _) = call(
        &app,
        "enable_two_step",
        &[("code", &code_at(secret, at))],
        Some(&cookie),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let shown = app.cli(&["user", "two-step", DEMO_USER], "").await;
    assert!(
        shown.stdout.contains("on since") && shown.stdout.contains("10 recovery"),
        "{}",
        shown.stdout
    );
    let res = app.login(DEMO_USER, DEMO_PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let off = app
        .cli(&["user", "two-step", DEMO_USER, "--disable"], "")
        .await;
    assert!(
        off.stdout.contains("turned two-step login off"),
        "{}",
        off.stdout
    );
    assert_eq!(
        app.login(DEMO_USER, DEMO_PASSWORD, None).await.status(),
        StatusCode::OK
    );
}
