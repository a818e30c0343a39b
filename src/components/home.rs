use super::cards::{ErrorCard, LoadingCard};
use super::island::{self, failed_post, Submission};
use super::sync::{announce_auth_change, on_auth_change};
use super::{LoginForm, Welcome};
use crate::auth::api::{current_user, demo_login, login, logout, DemoAccount, Login};
use crate::error::AppError;
use leptos::either::Either;
use leptos::prelude::*;

/// `/`: who is logged in is decided on the server, while rendering; the form or the welcome is
/// then one island, which swaps them in place as login and logout complete.
#[component]
pub fn HomePage() -> impl IntoView {
    let failed = failed_post::<Login>();
    view! {
        <Suspense fallback=LoadingCard>
            {Suspend::new(async move {
                match current_user().await {
                    Ok(user) => {
                        let demo = demo_login().await.ok().flatten();
                        Either::Left(view! { <AuthPanel user demo failed/> })
                    }
                    Err(error) => Either::Right(view! { <ErrorCard title="latchkey" error/> }),
                }
            })}
        </Suspense>
    }
}

/// The login form or the welcome. `user` is who the server saw logged in when it rendered the
/// page, `failed` a plain-form login's error; the demo account (DEV only) is kept for the form
/// shown after an in-place logout.
#[island]
fn AuthPanel(
    user: Option<String>,
    demo: Option<DemoAccount>,
    failed: Option<AppError>,
) -> impl IntoView {
    island::start();
    let user = RwSignal::new(user);
    let logging_in = Submission::new(failed);
    let logging_out = Submission::new(None);
    // Another tab logged in or out, or this one became visible again: ask the server (the
    // session cookie is HttpOnly, so the server is the only one who knows).
    on_auth_change(move || {
        leptos::task::spawn_local(async move {
            if let Ok(now) = current_user().await {
                user.set(now);
            }
        })
    });
    let on_login = move |event| {
        logging_in.submit(
            event,
            |f| login(f.get("username"), f.get("password")),
            move |name, _| {
                user.set(Some(name));
                announce_auth_change();
            },
        )
    };
    let on_logout = move |event| {
        logging_out.submit(
            event,
            |_| logout(),
            move |(), _| {
                user.set(None);
                announce_auth_change();
            },
        )
    };

    move || match user.get() {
        Some(name) => Either::Left(view! { <Welcome name state=logging_out on_submit=on_logout/> }),
        None => Either::Right(
            view! { <LoginForm state=logging_in demo=demo.clone() on_submit=on_login/> },
        ),
    }
}
