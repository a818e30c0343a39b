use super::cards::{ErrorCard, LoadingCard};
use super::sync::{announce_after, on_auth_change};
use crate::auth::api::{
    list_sessions, ChangePassword, RevokeOtherSessions, RevokeSession, SessionSummary,
};
use crate::error::AppError;
use leptos::prelude::*;

/// `/sessions`: the user's sessions (revoke one, or all others) and the password change form.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let revoke_others = ServerAction::<RevokeOtherSessions>::new();
    let change_password = ServerAction::<ChangePassword>::new();
    let sessions = Resource::new(
        move || {
            (
                revoke.version().get(),
                revoke_others.version().get(),
                change_password.version().get(),
            )
        },
        |_| list_sessions(),
    );
    on_auth_change(move || sessions.refetch());
    announce_after(revoke);
    announce_after(change_password);

    view! {
        <Transition fallback=LoadingCard>
            {move || Suspend::new(async move {
                match sessions.await {
                    Ok(list) => view! {
                        <SessionList list revoke revoke_others/>
                        <PasswordForm action=change_password/>
                    }.into_any(),
                    Err(AppError::Unauthenticated) => view! {
                        <section class="card">
                            <h1>"Your sessions"</h1>
                            <p>"You are not logged in."</p>
                            <p><a href="/">"Log in"</a></p>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <ErrorCard title="Your sessions" error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SessionList(
    list: Vec<SessionSummary>,
    revoke: ServerAction<RevokeSession>,
    revoke_others: ServerAction<RevokeOtherSessions>,
) -> impl IntoView {
    let others = list.iter().filter(|s| !s.current).count();
    let ended = move || {
        revoke_others
            .value()
            .get()
            .and_then(Result::ok)
            .map(|n| format!("Ended {n} other session(s)."))
    };
    view! {
        <section class="card wide" aria-labelledby="sessions-title">
            <h1 id="sessions-title">"Your sessions"</h1>
            <ul class="sessions">
                {list.into_iter().map(|s| view! {
                    <li class:current=s.current>
                        <div>
                            <strong>{s.browser}</strong>
                            {s.current.then(|| view! { <span class="badge">"This session"</span> })}
                            <br/>
                            <small>"Signed in " {s.created} " · last active " {s.last_active}</small>
                        </div>
                        <ActionForm action=revoke>
                            <input type="hidden" name="handle" value=s.handle/>
                            <button type="submit" class="small">
                                {if s.current { "Log out" } else { "Revoke" }}
                            </button>
                        </ActionForm>
                    </li>
                }).collect_view()}
            </ul>
            <ActionForm action=revoke_others>
                <button type="submit" disabled=others == 0>"Log out everywhere else"</button>
            </ActionForm>
            <p class="status" aria-live="polite">{ended}</p>
            <p class="hint"><a href="/">"Back"</a></p>
        </section>
    }
}

#[component]
fn PasswordForm(action: ServerAction<ChangePassword>) -> impl IntoView {
    let result = move || action.value().get();
    let error = move || result().and_then(Result::err).map(|e| e.to_string());
    let done = move || {
        result()
            .is_some_and(|r| r.is_ok())
            .then_some("Password changed. Every other session has been logged out.")
    };
    view! {
        <section class="card wide" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <ActionForm action>
                <div class="field">
                    <label for="current">"Current password"</label>
                    <input id="current" name="current" type="password" required maxlength="1024" autocomplete="current-password"/>
                </div>
                <div class="field">
                    <label for="new">"New password"</label>
                    <input id="new" name="new" type="password" required minlength="8" maxlength="1024" autocomplete="new-password"/>
                </div>
                <div class="field">
                    <label for="confirm">"Repeat the new password"</label>
                    <input id="confirm" name="confirm" type="password" required minlength="8" maxlength="1024" autocomplete="new-password"/>
                </div>
                <p id="password-error" class="error" aria-live="assertive">{error}</p>
                <p class="status" aria-live="polite">{done}</p>
                <button type="submit" disabled=move || action.pending().get()>"Change password"</button>
            </ActionForm>
        </section>
    }
}
