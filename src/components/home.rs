use super::cards::{ErrorCard, LoadingCard};
use super::island::{self, failed_post, Latest, Submission};
use super::login_form::LoginForm;
use super::sync::{announce_auth_change, on_auth_change};
use super::welcome::Welcome;
use crate::api::{current_user, demo_login, login, logout, DemoAccount, Login};
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
                view! { <AuthPanel user demo failed/> }
            })}
        </Suspense>
    }
}

/// The login form, the welcome, or why neither can be shown. `user` is what the server saw
/// when it rendered the page, `failed` a plain-form login's error; the demo account (DEV only)
/// is kept for the form shown after an in-place logout.
#[island]
fn AuthPanel(
    user: Result<Option<String>, AppError>,
    demo: Option<DemoAccount>,
    failed: Option<AppError>,
) -> impl IntoView {
    island::start();
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
                if latest.is_current(ticket) {
                    user.set(Ok(now));
                }
            }
        })
    });
    let on_login = move |event| {
        logging_in.submit(
            event,
            |f| login(f.get("username"), f.get("password")),
            move |name, _| {
                latest.ticket();
                user.set(Ok(Some(name)));
                announce_auth_change();
            },
        )
    };
    let on_logout = move |event| {
        logging_out.submit(
            event,
            |_| logout(),
            move |(), _| {
                latest.ticket();
                // The form shown next starts clean, not with an earlier attempt's error.
                logging_in.error.set(None);
                user.set(Ok(None));
                announce_auth_change();
            },
        )
    };

    move || match user.get() {
        Ok(Some(name)) => {
            EitherOf3::A(view! { <Welcome name state=logging_out on_submit=on_logout/> })
        }
        Ok(None) => EitherOf3::B(
            view! { <LoginForm state=logging_in demo=demo.clone() on_submit=on_login/> },
        ),
        Err(error) => EitherOf3::C(view! { <ErrorCard title="latchkey" error/> }),
    }
}
