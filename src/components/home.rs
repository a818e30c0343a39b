use super::cards::{ErrorCard, LoadingCard};
use super::sync::{announce_after, on_auth_change};
use super::{LoginForm, Welcome};
use crate::auth::api::{current_user, demo_login, Login, Logout};
use leptos::prelude::*;

/// `/`: the login form or the welcome, swapped in place as login and logout complete.
#[component]
pub fn HomePage() -> impl IntoView {
    // Created here, inside the routed page, so that a failed plain-form post (JavaScript off)
    // finds its error in the redirect URL and shows it.
    let login = ServerAction::<Login>::new();
    let logout = ServerAction::<Logout>::new();
    // Re-asks the server after every login or logout: the session cookie is HttpOnly, so the
    // server is the only one who knows.
    let user = Resource::new(
        move || (login.version().get(), logout.version().get()),
        |_| current_user(),
    );
    let demo = Resource::new(|| (), |_| demo_login());
    on_auth_change(move || user.refetch());
    announce_after(login);
    announce_after(logout);

    view! {
        <Transition fallback=LoadingCard>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(name)) => view! { <Welcome name logout/> }.into_any(),
                    Ok(None) => {
                        let demo = demo.await.ok().flatten();
                        view! { <LoginForm login demo/> }.into_any()
                    }
                    Err(error) => view! { <ErrorCard title="latchkey" error/> }.into_any(),
                }
            })}
        </Transition>
    }
}
