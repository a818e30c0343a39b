use super::cards::{ErrorCard, LoadingCard};
use super::island::{self, failed_post, Latest, Submission};
use super::login_form::LoginForm;
use super::sync::{announce_auth_change, on_auth_change};
use super::title::{set_document_title, title, PageTitle};
use super::webauthn::{self, Offer};
use super::welcome::Welcome;
use crate::api::{
    current_user, demo_login, login, logout, passkey_origin, passkey_sign_in,
    passkey_sign_in_options, DemoAccount, Login,
};
use crate::error::AppError;
use leptos::either::EitherOf3;
use leptos::prelude::*;

/// `/`: who is logged in is decided on the server, while rendering; the form or the welcome is
/// then one island, which swaps them in place as login and logout complete.
#[component]
pub fn HomePage() -> impl IntoView {
    let failed = failed_post::<Login>();
    view! {
        <Suspense fallback=LoadingCard>
            {Suspend::new(async move {
                let user = current_user().await;
                let demo = demo_login().await.ok().flatten();
                let text = page_title(&user, failed.is_some());
                let typed = typed_username(failed.is_some());
                let passkeys = passkey_origin();
                view! {
                    <PageTitle text/>
                    <AuthPanel user demo failed typed passkeys/>
                }
            })}
        </Suspense>
    }
}

/// The title for what the panel shows.
fn page_title(user: &Result<Option<String>, AppError>, error: bool) -> String {
    match user {
        Ok(Some(_)) => title("Welcome", error),
        Ok(None) => title("Log in", error),
        Err(_) => title("Log in", true),
    }
}

/// The user name of the plain-form login that just failed, to put back into the form.
fn typed_username(failed: bool) -> Option<String> {
    #[cfg(feature = "ssr")]
    if failed {
        return crate::api::context::take_typed_username();
    }
    let _ = failed;
    None
}

/// The login form, the welcome, or why neither can be shown. `user` is what the server saw
/// when it rendered the page, `failed` a plain-form login's error; the demo account (DEV only)
/// is kept for the form shown after an in-place logout. `passkeys`: where the site's passkeys
/// work, if it has them.
#[island]
fn AuthPanel(
    user: Result<Option<String>, AppError>,
    demo: Option<DemoAccount>,
    failed: Option<AppError>,
    typed: Option<String>,
    passkeys: Option<String>,
) -> impl IntoView {
    island::start();
    // Without JavaScript, or before it runs: a page that shows a failed login puts the focus
    // in the user-name field, whose description is the error (so it is read out on arrival).
    // Only for the form the page arrived with: one shown after an in-place logout starts clean.
    let arrival = StoredValue::new((typed, failed.is_some()));
    let user = RwSignal::new(user);
    let logging_in = Submission::new(failed);
    let logging_out = Submission::new(None);
    let latest = Latest::new();
    // Another tab logged in or out, or this one became visible again: ask the server (the
    // session cookie is HttpOnly, so the server is the only one who knows). A failed ask
    // leaves the panel as it is.
    on_auth_change(move || {
        let ticket = latest.ticket();
        leptos::task::spawn_local(async move {
            if let Ok(now) = current_user().await {
                // Only a change redraws: a redrawn login form would start a new passkey
                // request, replacing the one a passkey dialog may be answering.
                if latest.is_current(ticket)
                    && user.with_untracked(|u| u.as_ref().ok() != Some(&now))
                {
                    if now.is_some() {
                        arrival.set_value((None, false));
                    }
                    user.set(Ok(now));
                }
            }
        })
    });
    let logged_in = move |name: String| {
        latest.ticket();
        webauthn::cancel_autofill();
        arrival.set_value((None, false));
        user.set(Ok(Some(name)));
        island::focus("welcome-title");
        announce_auth_change();
    };
    let on_login = move |event| {
        logging_in.submit(
            event,
            |f| login(f.get("username"), f.get("password")),
            move |name, _| logged_in(name),
        )
    };
    // Passkeys: offered once the island is live, if this browser has them and this is where
    // they work.
    let webauthn = passkeys.is_some();
    let offer = RwSignal::new(Offer::None);
    Effect::new(move |_| offer.set(webauthn::offer(passkeys.as_deref())));
    let passkey_pending = RwSignal::new(false);
    // Bumped to ask the form for a new autofill request (the last one ended without a login).
    let rearm = RwSignal::new(0u32);
    let on_passkey = Callback::new(move |dialog: bool| {
        // One request at a time: none while the dialog's runs.
        if passkey_pending.get_untracked() {
            return;
        }
        leptos::task::spawn_local(async move {
            if !dialog && !webauthn::autofill_available().await {
                return;
            }
            if dialog {
                logging_in.error.set(None);
                passkey_pending.set(true);
            }
            let result = async {
                let options = passkey_sign_in_options().await?;
                let response = webauthn::get(options, !dialog).await?;
                passkey_sign_in(response).await
            }
            .await;
            if dialog {
                passkey_pending.set(false);
            }
            let failed = match result {
                Ok(name) => {
                    logged_in(name);
                    false
                }
                // The autofill request, cancelled by the dialog's: that one re-arms it.
                Err(error) if webauthn::is_cancelled(&error) => false,
                Err(error) => {
                    logging_in.error.set(Some(error));
                    true
                }
            };
            // The dialog cancelled the suggestions' request: while the form is shown, they get
            // a new one. (Not after the suggestions' own failure: a browser or server that keeps
            // refusing would make that a loop; the form renews them every few minutes anyway.)
            if dialog && failed && user.with_untracked(|u| matches!(u, Ok(None))) {
                rearm.update(|n| *n += 1);
            }
        });
    });
    let on_logout = move |event| {
        logging_out.submit(
            event,
            |_| logout(),
            move |(), _| {
                latest.ticket();
                // The form shown next starts clean, not with an earlier attempt's error.
                logging_in.error.set(None);
                user.set(Ok(None));
                island::focus("login-title");
                announce_auth_change();
            },
        )
    };

    // The title follows the view (the server wrote the first one).
    Effect::new(move |_| {
        let error =
            logging_in.error.with(Option::is_some) || logging_out.error.with(Option::is_some);
        set_document_title(&user.with(|u| page_title(u, error)));
    });

    move || match user.get() {
        Ok(Some(name)) => {
            EitherOf3::A(view! { <Welcome name state=logging_out on_submit=on_logout/> })
        }
        Ok(None) => {
            let (typed, autofocus) = arrival.get_value();
            EitherOf3::B(view! {
                <LoginForm state=logging_in demo=demo.clone() typed autofocus on_submit=on_login
                    webauthn offer on_passkey passkey_pending rearm/>
            })
        }
        Err(error) => EitherOf3::C(view! { <ErrorCard title="latchkey" error/> }),
    }
}
