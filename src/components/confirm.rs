//! Sudo mode's question: "confirm it's you" with the password, or a passkey where the browser
//! and the page can work with one. Shown in place (JavaScript) or on the page the failed form
//! returned to (without it); either way the sensitive change is then made again.

use super::island::{self, Submission};
use super::webauthn;
use crate::api::{
    confirm_password, confirm_with_passkey, passkey_confirm_options, ConfirmPassword,
};
use crate::error::AppError;
use crate::limits::MAX_PASSWORD_BYTES;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// Sudo mode on a page: a change in `guarded` refused for want of a confirmation shows the
/// card (`confirmed` false) and puts the keyboard there; once confirmed, their errors go,
/// `on_confirmed` runs and the keyboard goes back to `back_to` (the page's heading).
pub fn ask_when_refused<const N: usize>(
    confirmed: RwSignal<bool>,
    guarded: [Submission; N],
    back_to: &'static str,
    on_confirmed: impl Fn() + 'static,
) {
    Effect::new(move |_| {
        if guarded
            .iter()
            .any(|s| s.error.get() == Some(AppError::SudoRequired))
        {
            confirmed.set(false);
            island::focus("confirm-title");
        }
    });
    Effect::new(move |previous: Option<bool>| {
        let now = confirmed.get();
        if previous == Some(false) && now {
            for s in guarded {
                s.error.set(None);
            }
            on_confirmed();
            island::focus(back_to);
        }
        now
    });
}

/// The confirmation card. `confirmed` is set once the server has accepted a confirmation;
/// `with_passkey`: offer a passkey too (the user has one, the browser has passkeys here).
#[component]
pub fn ConfirmCard(
    confirmed: RwSignal<bool>,
    state: Submission,
    with_passkey: Signal<bool>,
    minutes: u64,
) -> impl IntoView {
    let on_password = move |event| {
        state.submit(
            event,
            |f| confirm_password(f.get("password")),
            move |(), form| {
                form.reset();
                confirmed.set(true);
            },
        )
    };
    let on_passkey = move |_| {
        if state.pending.get_untracked() {
            return;
        }
        state.error.set(None);
        state.pending.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let options = passkey_confirm_options().await?;
                let response = webauthn::get(options, false).await?;
                confirm_with_passkey(response).await
            }
            .await;
            state.pending.set(false);
            match result {
                Ok(()) => confirmed.set(true),
                Err(error) => state.error.set(Some(error)),
            }
        });
    };
    view! {
        <section class="card wide" aria-labelledby="confirm-title">
            <h2 id="confirm-title" tabindex="-1">"Confirm it's you"</h2>
            <p>
                "Changing your password, passkeys or two-step login, or ending other sessions, needs your password again. "
                "It stays confirmed for " {minutes} " minutes."
            </p>
            <form method="post" action=ConfirmPassword::PATH on:submit=on_password>
                <div class="field">
                    <label for="confirm-password">"Password"</label>
                    <input id="confirm-password" name="password" type="password" required
                        maxlength=MAX_PASSWORD_BYTES autocomplete="current-password"
                        aria-describedby="confirm-error"/>
                </div>
                <button type="submit" aria-disabled=move || state.pending.get().then_some("true")>"Confirm"</button>
            </form>
            {move || with_passkey.get().then(|| view! {
                <div class="alternative">
                    <button type="button" class="secondary" on:click=on_passkey
                        aria-disabled=move || state.pending.get().then_some("true")
                        aria-describedby="confirm-error">
                        "Confirm with a passkey"
                    </button>
                </div>
            })}
            <p id="confirm-error" class="error" aria-live="assertive">{state.message()}</p>
        </section>
    }
}
