use super::cards::{ErrorCard, LoadingCard};
use super::confirm::{ask_when_refused, ConfirmCard};
use super::island::{self, failed_post, Submission};
use super::password::PasswordForm;
use super::sync::announce_auth_change;
use super::title::{set_document_title, title, PageTitle};
use super::two_step::{RecoveryCodes, TwoStepCard};
use super::webauthn::{self, Offer};
use crate::api::{
    add_passkey, change_password, disable_two_step, passkey_origin, passkey_registration_options,
    passkeys, regenerate_recovery_codes, remove_passkey, rename_passkey, sudo_minutes,
    two_step_status, ChangePassword, ConfirmPassword, DisableTwoStep, PasskeySummary, PasskeysPage,
    RegenerateRecoveryCodes, RemovePasskey, RenamePasskey, TwoStepInfo,
};
use crate::error::AppError;
use crate::limits::MAX_PASSKEY_NAME_CHARS;
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// `/account`: the user's security settings: the password, passkeys (add, rename, remove) and
/// two-step login (on, off, new recovery codes), behind sudo mode's confirmation for the
/// sensitive changes, and a link to the sessions. Read on the
/// server while rendering; the interactive part is one lazy island (its code loads only on
/// this page).
#[component]
pub fn AccountPage() -> impl IntoView {
    let failed = failed_post::<RenamePasskey>().or_else(failed_post::<RemovePasskey>);
    let two_step_failed =
        failed_post::<RegenerateRecoveryCodes>().or_else(failed_post::<DisableTwoStep>);
    let password_failed = failed_post::<ChangePassword>();
    let confirm_failed = failed_post::<ConfirmPassword>();
    view! {
        <Suspense fallback=LoadingCard>
            {Suspend::new(async move {
                let page = passkeys().await;
                let two_step = two_step_status().await;
                let error = failed.is_some()
                    || two_step_failed.is_some()
                    || password_failed.is_some()
                    || confirm_failed.is_some();
                let text = page_title(&page, error);
                view! {
                    <PageTitle text/>
                    <AccountPanel page two_step failed two_step_failed password_failed confirm_failed origin=passkey_origin() minutes=sudo_minutes()/>
                }
            })}
        </Suspense>
    }
}

fn page_title(page: &Result<PasskeysPage, AppError>, error: bool) -> String {
    match page {
        Ok(_) => title("Your account", error),
        Err(AppError::Unauthenticated) => title("Not logged in", false),
        Err(_) => title("Your account", true),
    }
}

/// The page's cards; `failed`, `two_step_failed` and `password_failed` are a plain-form
/// change's error, `confirm_failed` a plain-form confirmation's. A change refused for want of a confirmation brings the confirmation back.
#[island(lazy)]
fn AccountPanel(
    page: Result<PasskeysPage, AppError>,
    two_step: Result<TwoStepInfo, AppError>,
    failed: Option<AppError>,
    two_step_failed: Option<AppError>,
    password_failed: Option<AppError>,
    confirm_failed: Option<AppError>,
    /// Where passkeys work, if the site has them.
    origin: Option<String>,
    /// How long a confirmation lasts.
    minutes: u64,
) -> impl IntoView {
    island::start();
    let confirmed = RwSignal::new(
        page.as_ref().is_ok_and(|p| p.confirmed)
            && failed != Some(AppError::SudoRequired)
            && two_step_failed != Some(AppError::SudoRequired)
            && password_failed != Some(AppError::SudoRequired)
            && confirm_failed.is_none(),
    );
    let page = RwSignal::new(page);
    let two_step = RwSignal::new(two_step.ok());
    let fresh_codes = RwSignal::new(Vec::<String>::new());
    let changing = Submission::new(failed);
    let securing = Submission::new(two_step_failed);
    let changing_password = Submission::new(password_failed);
    let password_changed = RwSignal::new(false);
    let confirming = Submission::new(confirm_failed);
    let status = RwSignal::new(None::<&'static str>);
    let offer = RwSignal::new(Offer::None);
    Effect::new(move |_| offer.set(webauthn::offer(origin.as_deref())));
    let has_passkeys =
        Memo::new(move |_| page.with(|p| p.as_ref().is_ok_and(|p| !p.passkeys.is_empty())));
    let with_passkey = Signal::derive(move || has_passkeys.get() && offer.get() == Offer::Here);

    // The list is drawn anew after a change: focus then lands on its heading, not on nothing.
    let reload = move |heading: &'static str| {
        leptos::task::spawn_local(async move {
            let now = passkeys().await;
            if let Ok(p) = &now {
                confirmed.set(p.confirmed);
            }
            page.set(now);
            if let Ok(status) = two_step_status().await {
                two_step.set(Some(status));
            }
            island::focus(heading);
        });
    };
    ask_when_refused(
        confirmed,
        [changing, securing, changing_password],
        "account-title",
        move || status.set(Some("Confirmed. You can make your change now.")),
    );
    let done = move |message: &'static str| {
        status.set(Some(message));
        reload("passkeys-title");
    };
    let on_regenerate = move |event| {
        fresh_codes.set(Vec::new());
        securing.submit(
            event,
            |_| regenerate_recovery_codes(),
            move |codes, _| {
                fresh_codes.set(codes);
                reload("recovery-codes-title");
            },
        )
    };
    let on_disable = move |event| {
        fresh_codes.set(Vec::new());
        securing.submit(
            event,
            |_| disable_two_step(),
            move |(), _| reload("two-step-title"),
        )
    };
    let on_change_password = move |event| {
        password_changed.set(false);
        changing_password.submit(
            event,
            |f| change_password(f.get("current"), f.get("new"), f.get("confirm")),
            move |(), form| {
                form.reset();
                password_changed.set(true);
                // Every other session was ended: their tabs follow.
                announce_auth_change();
            },
        )
    };
    let on_add = move |event| {
        status.set(None);
        changing.submit(
            event,
            |f| {
                let name = f.get("name");
                async move {
                    let options = passkey_registration_options().await?;
                    let response = webauthn::create(options).await?;
                    add_passkey(response, name).await
                }
            },
            move |_, form| {
                form.reset();
                done("Passkey added.");
            },
        )
    };
    let on_rename = move |event| {
        status.set(None);
        changing.submit(
            event,
            |f| rename_passkey(f.get("id"), f.get("name")),
            move |(), _| done("Passkey renamed."),
        )
    };
    let on_remove = move |event| {
        status.set(None);
        changing.submit(
            event,
            |f| remove_passkey(f.get("id")),
            move |(), _| done("Passkey removed."),
        )
    };
    Effect::new(move |_| {
        let error = [changing, securing, changing_password, confirming]
            .iter()
            .any(|s| s.error.with(Option::is_some));
        set_document_title(&page.with(|p| page_title(p, error)));
    });

    // Only the list is redrawn after a change: the cards, their headings and their live
    // regions stay (a live region inserted anew is not announced by every screen reader).
    let shown = Memo::new(move |_| page.with(|p| p.as_ref().map(|_| ()).map_err(Clone::clone)));
    let list = move || {
        page.with(|p| p.as_ref().ok().map(|p| p.passkeys.clone()))
            .map(|list| view! { <PasskeyList list state=changing on_rename on_remove/> })
    };
    move || match shown.get() {
        Err(AppError::Unauthenticated) => EitherOf3::A(view! {
            <section class="card">
                <h1 tabindex="-1">"Your account"</h1>
                <p>"You are not logged in."</p>
                <p><a href="/">"Log in"</a></p>
            </section>
        }),
        Err(error) => EitherOf3::B(view! { <ErrorCard title="Your account" error/> }),
        Ok(()) => EitherOf3::C(view! {
            <section class="card wide" aria-labelledby="account-title">
                <h1 id="account-title" tabindex="-1">"Your account"</h1>
                <p><a href="/sessions">"Your sessions"</a> " · " <a href="/">"Back"</a></p>
            </section>
            {move || (!confirmed.get()).then(|| view! {
                <ConfirmCard confirmed state=confirming with_passkey minutes/>
            })}
            <PasswordForm state=changing_password changed=password_changed on_submit=on_change_password/>
            <section class="card wide" aria-labelledby="passkeys-title">
                <h2 id="passkeys-title" tabindex="-1">"Passkeys"</h2>
                <p>"Sign in with your fingerprint, face or screen lock instead of your password."</p>
                {list}
                {move || match offer.get() {
                    Offer::Here => Either::Left(view! { <AddPasskey state=changing on_submit=on_add/> }),
                    Offer::Elsewhere(origin) => Either::Right(Either::Left(view! {
                        <p class="hint">"Passkeys work at " <a href=format!("{origin}/account")>{origin.clone()}</a> "."</p>
                    })),
                    Offer::None => Either::Right(Either::Right(view! {
                        <p class="hint">"Adding a passkey needs JavaScript and a browser with passkeys."</p>
                    })),
                }}
                <p class="error" aria-live="assertive">{changing.message()}</p>
                <p class="status" aria-live="polite">{move || status.get()}</p>
            </section>
            {move || two_step.get().map(|status| view! {
                <TwoStepCard status state=securing on_regenerate on_disable/>
            })}
            {move || {
                let codes = fresh_codes.get();
                (!codes.is_empty()).then(|| view! { <RecoveryCodes codes copy=true/> })
            }}
        }),
    }
}

#[component]
fn PasskeyList(
    list: Vec<PasskeySummary>,
    state: Submission,
    on_rename: impl FnMut(leptos::ev::SubmitEvent) + Copy + 'static,
    on_remove: impl FnMut(leptos::ev::SubmitEvent) + Copy + 'static,
) -> impl IntoView {
    if list.is_empty() {
        return Either::Left(view! { <p>"You have no passkeys yet."</p> });
    }
    let busy = move || state.pending.get().then_some("true");
    Either::Right(view! {
        <ul class="passkeys">
            {list.into_iter().enumerate().map(|(i, p)| {
                let field = format!("passkey-name-{i}");
                let used = p.last_used.map_or_else(|| "never used".to_owned(), |t| format!("last used {t}"));
                view! {
                    <li>
                        <div>
                            <strong>{p.name.clone()}</strong>
                            <br/>
                            <small>"Added " {p.created} " · " {used}</small>
                        </div>
                        <form method="post" action=RenamePasskey::PATH on:submit=on_rename class="rename">
                            <input type="hidden" name="id" value=p.id.clone()/>
                            <label for=field.clone() class="visually-hidden">"New name for passkey " {p.name.clone()}</label>
                            <input id=field name="name" type="text" required maxlength=MAX_PASSKEY_NAME_CHARS value=p.name.clone()/>
                            <button type="submit" class="small" aria-disabled=busy>
                                "Rename" <span class="visually-hidden">" passkey " {p.name.clone()}</span>
                            </button>
                        </form>
                        <form method="post" action=RemovePasskey::PATH on:submit=on_remove>
                            <input type="hidden" name="id" value=p.id/>
                            <button type="submit" class="small" aria-disabled=busy>
                                "Remove" <span class="visually-hidden">" passkey " {p.name}</span>
                            </button>
                        </form>
                    </li>
                }
            }).collect_view()}
        </ul>
    })
}

/// Adding a passkey: only with JavaScript, in a browser that has passkeys.
#[component]
fn AddPasskey(
    state: Submission,
    on_submit: impl FnMut(leptos::ev::SubmitEvent) + 'static,
) -> impl IntoView {
    view! {
        <form on:submit=on_submit class="add-passkey">
            <div class="field">
                <label for="new-passkey-name">"Name for the new passkey (optional)"</label>
                <input id="new-passkey-name" name="name" type="text" maxlength=MAX_PASSKEY_NAME_CHARS
                    placeholder="e.g. Work laptop"/>
            </div>
            <button type="submit" aria-disabled=move || state.pending.get().then_some("true")
                aria-busy=move || state.pending.get().then_some("true")>
                {move || if state.pending.get() { "Waiting for your passkey…" } else { "Add a passkey" }}
            </button>
        </form>
    }
}
