use super::call::call;
use super::cards::{ErrorCard, LoadingCard};
use super::code_form::CodeForm;
use super::island::{self, failed_post, Latest, Submission};
use super::login_form::LoginForm;
use super::sync::{announce_auth_change, on_auth_change};
use super::title::{set_document_title, title, PageTitle};
use super::webauthn::{self, Offer};
use super::welcome::Welcome;
use crate::api::{
    current_user, demo_login, passkey_origin, second_step_pending, CurrentUser, DemoAccount, Login,
    LoginCode, Logout, PasskeySignIn, PasskeySignInOptions,
};
use crate::error::AppError;
use crate::wire::to_json;
use leptos::either::EitherOf4;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// `/`: who is logged in is decided on the server, while rendering; the form or the welcome is
/// then one island, which swaps them in place as login and logout complete.
#[component]
pub fn HomePage() -> impl IntoView {
    let failed = failed_post::<Login>().or_else(failed_post::<LoginCode>);
    view! {
        <Suspense fallback=LoadingCard>
            {Suspend::new(async move {
                let user = current_user().await;
                // A right password for an account with two steps: the code comes next.
                let halfway = matches!(user, Ok(None)) && second_step_pending().await.unwrap_or(false);
                // "Code required" is the way to the code step, never an error to show.
                let failed = failed.filter(|e| *e != AppError::CodeRequired);
                let text = page_title(&user, halfway, failed.is_some());
                let arrival = Arrival {
                    typed: typed_username(failed.is_some()),
                    demo: demo_login().await.ok().flatten(),
                    passkeys: passkey_origin(),
                    user,
                    halfway,
                    failed,
                };
                provide_context(arrival.clone());
                view! {
                    <PageTitle text/>
                    <ArrivalData arrival/>
                    <AuthPanel/>
                }
            })}
        </Suspense>
    }
}

/// What the server saw when it rendered `/`, for the island. The island takes no props: props
/// are read with serde_json, which would be most of the login page's decoding code. The server
/// hands this over as context and writes it into the page (`#arrival`'s data attributes),
/// where the browser reads it back.
#[derive(Clone, Debug, PartialEq)]
struct Arrival {
    /// Who is logged in (or why that is unknown).
    user: Result<Option<String>, AppError>,
    /// A login waits for its code.
    halfway: bool,
    /// The DEV demo account, kept for a form shown after an in-place logout.
    demo: Option<DemoAccount>,
    /// A plain-form login's (or code's) error.
    failed: Option<AppError>,
    /// The user name that failed login was typed with.
    typed: Option<String>,
    /// Where the site's passkeys work, if it has them.
    passkeys: Option<String>,
}

#[component]
fn ArrivalData(arrival: Arrival) -> impl IntoView {
    let Arrival {
        user,
        halfway,
        demo,
        failed,
        typed,
        passkeys,
    } = arrival;
    let (name, user_error) = match user {
        Ok(name) => (name, None),
        Err(error) => (None, Some(to_json(&error))),
    };
    let (demo_user, demo_password) = demo.map(|d| (d.username, d.password)).unzip();
    view! {
        <div id="arrival" hidden
            data-user=name data-user-error=user_error data-halfway=halfway.then_some("")
            data-demo-user=demo_user data-demo-password=demo_password
            data-failed=failed.map(|e| to_json(&e)) data-typed=typed data-passkeys=passkeys
        ></div>
    }
}

impl Default for Arrival {
    fn default() -> Self {
        Self {
            user: Ok(None),
            halfway: false,
            demo: None,
            failed: None,
            typed: None,
            passkeys: None,
        }
    }
}

impl Arrival {
    /// On the server, what `HomePage` provided; in the browser, what it wrote into the page.
    fn take() -> Self {
        #[cfg(feature = "hydrate")]
        if let Some(read) = Self::from_page() {
            return read;
        }
        use_context::<Self>().unwrap_or_default()
    }

    #[cfg(feature = "hydrate")]
    fn from_page() -> Option<Self> {
        let el = document().get_element_by_id("arrival")?;
        let get = |name: &str| el.get_attribute(name);
        let error =
            |name: &str| get(name).and_then(|json| crate::wire::from_json::<AppError>(&json));
        let demo = get("data-demo-user")
            .zip(get("data-demo-password"))
            .map(|(username, password)| DemoAccount { username, password });
        Some(Self {
            user: match error("data-user-error") {
                Some(error) => Err(error),
                None => Ok(get("data-user")),
            },
            halfway: get("data-halfway").is_some(),
            demo,
            failed: error("data-failed"),
            typed: get("data-typed"),
            passkeys: get("data-passkeys"),
        })
    }
}

fn log_out() -> impl std::future::Future<Output = Result<(), AppError>> {
    call::<()>(Logout::PATH, &[])
}

/// The title for what the panel shows.
fn page_title(user: &Result<Option<String>, AppError>, code_step: bool, error: bool) -> String {
    match user {
        Ok(Some(_)) => title("Welcome", error),
        Ok(None) if code_step => title("Two-step login", error),
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

/// The login form (or its code step), the welcome, or why neither can be shown, from what the
/// server saw when it rendered the page ([`Arrival`]).
#[island]
fn AuthPanel() -> impl IntoView {
    let Arrival {
        user,
        halfway,
        demo,
        failed,
        typed,
        passkeys,
    } = Arrival::take();
    island::start();
    // Without JavaScript, or before it runs: a page that shows a failed login puts the focus
    // in the user-name field, whose description is the error (so it is read out on arrival).
    // Only for the form the page arrived with: one shown after an in-place logout starts clean.
    let arrival = StoredValue::new((typed, failed.is_some()));
    let user = RwSignal::new(user);
    let code_step = RwSignal::new(halfway);
    let (login_error, code_error) = if halfway {
        (None, failed)
    } else {
        (failed, None)
    };
    let logging_in = Submission::new(login_error);
    let entering_code = Submission::new(code_error);
    let cancelling = Submission::new(None);
    let logging_out = Submission::new(None);
    let latest = Latest::new();
    // Another tab logged in or out, or this one became visible again: ask the server (the
    // session cookie is HttpOnly, so the server is the only one who knows). A failed ask
    // leaves the panel as it is.
    on_auth_change(move || {
        let ticket = latest.ticket();
        leptos::task::spawn_local(async move {
            if let Ok(now) = call::<Option<String>>(CurrentUser::PATH, &[]).await {
                // Only a change redraws: a redrawn login form would start a new passkey
                // request, replacing the one a passkey dialog may be answering.
                if latest.is_current(ticket)
                    && user.with_untracked(|u| u.as_ref().ok() != Some(&now))
                {
                    if now.is_some() {
                        arrival.set_value((None, false));
                        // Another tab finished this login: its code step is over here too.
                        code_step.set(false);
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
        code_step.set(false);
        user.set(Ok(Some(name)));
        island::focus("welcome-title");
        announce_auth_change();
    };
    let on_login = move |event| {
        logging_in.submit(
            event,
            |f| {
                let (username, password) = (f.get("username"), f.get("password"));
                let answer = call::<String>(
                    Login::PATH,
                    &[("username", &username), ("password", &password)],
                );
                // The password was right and the account has two steps: the code comes next.
                async move {
                    match answer.await {
                        Err(AppError::CodeRequired) => Ok(None),
                        other => other.map(Some),
                    }
                }
            },
            move |name, _| match name {
                Some(name) => logged_in(name),
                None => {
                    webauthn::cancel_autofill();
                    entering_code.error.set(None);
                    code_step.set(true);
                    island::focus("code");
                }
            },
        )
    };
    // Back to the first step, with `error` (or none) in its form.
    let start_again = move |error: Option<AppError>| {
        code_step.set(false);
        logging_in.error.set(error);
        island::focus("login-title");
    };
    let on_code = move |event| {
        entering_code.submit(
            event,
            |f| {
                let answer = call::<String>(LoginCode::PATH, &[("code", &f.get("code"))]);
                async move {
                    match answer.await {
                        Err(AppError::SecondStepExpired) => Ok(None),
                        other => other.map(Some),
                    }
                }
            },
            move |name, _| match name {
                Some(name) => logged_in(name),
                None => start_again(Some(AppError::SecondStepExpired)),
            },
        )
    };
    let on_cancel =
        move |event| cancelling.submit(event, |_| log_out(), move |(), _| start_again(None));
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
                let options = call::<String>(PasskeySignInOptions::PATH, &[]).await?;
                let response = webauthn::get(options, !dialog).await?;
                call::<String>(PasskeySignIn::PATH, &[("response", &response)]).await
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
            |_| log_out(),
            move |(), _| {
                latest.ticket();
                // The form shown next starts clean, not with an earlier attempt's error (nor
                // in a code step another tab's login left behind).
                logging_in.error.set(None);
                code_step.set(false);
                user.set(Ok(None));
                island::focus("login-title");
                announce_auth_change();
            },
        )
    };

    // The title follows the view (the server wrote the first one).
    Effect::new(move |_| {
        let error = [logging_in, entering_code, cancelling, logging_out]
            .iter()
            .any(|s| s.error.with(Option::is_some));
        set_document_title(&user.with(|u| page_title(u, code_step.get(), error)));
    });

    move || match user.get() {
        Ok(Some(name)) => {
            EitherOf4::A(view! { <Welcome name state=logging_out on_submit=on_logout/> })
        }
        Ok(None) if code_step.get() => EitherOf4::D(view! {
            <CodeForm state=entering_code on_submit=on_code cancelling on_cancel/>
        }),
        Ok(None) => {
            let (typed, autofocus) = arrival.get_value();
            EitherOf4::B(view! {
                <LoginForm state=logging_in demo=demo.clone() typed autofocus on_submit=on_login
                    webauthn offer on_passkey passkey_pending rearm/>
            })
        }
        Err(error) => EitherOf4::C(view! { <ErrorCard title="latchkey" error/> }),
    }
}
