//! Two-step login's pages: the account page's card, the setup page (`/account/two-step`: QR
//! code, key, confirming code) and the recovery codes, shown once.

use super::cards::{ErrorCard, LoadingCard};
use super::confirm::{ask_when_refused, ConfirmCard};
use super::island::{self, failed_post, Submission};
use super::title::{set_document_title, title, PageTitle};
use super::webauthn::{self, Offer};
use crate::api::{
    enable_two_step, fresh_recovery_codes, passkey_origin, passkeys, sudo_minutes, two_step_setup,
    ConfirmPassword, DisableTwoStep, EnableTwoStep, RegenerateRecoveryCodes, TwoStepEnrolment,
    TwoStepInfo,
};
use crate::error::{AppError, InputError};
use leptos::either::{Either, EitherOf4};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The setup page's address.
pub const SETUP_PAGE: &str = "/account/two-step";

/// The account page's two-step section: set it up, or (on) new recovery codes and turning it
/// off.
#[component]
pub fn TwoStepCard(
    status: TwoStepInfo,
    state: Submission,
    on_regenerate: impl FnMut(leptos::ev::SubmitEvent) + 'static,
    on_disable: impl FnMut(leptos::ev::SubmitEvent) + 'static,
) -> impl IntoView {
    let busy = move || state.pending.get().then_some("true");
    let body = match status.since {
        None => Either::Left(view! {
            <p>"Off. Turn it on to be asked for a code from an authenticator app after your password."</p>
            <p><a class="button" href=SETUP_PAGE>"Set up two-step login"</a></p>
        }),
        Some(since) => Either::Right(view! {
            <p>"On since " {since} ". A passkey sign-in needs no code."</p>
            <p>
                {match status.codes_left {
                    1 => "1 recovery code left.".to_owned(),
                    n => format!("{n} recovery codes left."),
                }}
            </p>
            <form method="post" action=RegenerateRecoveryCodes::PATH on:submit=on_regenerate>
                <button type="submit" aria-disabled=busy>"New recovery codes"</button>
            </form>
            <form method="post" action=DisableTwoStep::PATH on:submit=on_disable class="alternative">
                <button type="submit" class="secondary" aria-disabled=busy>"Turn off two-step login"</button>
            </form>
        }),
    };
    view! {
        <section class="card wide" aria-labelledby="two-step-title">
            <h2 id="two-step-title" tabindex="-1">"Two-step login"</h2>
            {body}
            <p class="error" aria-live="assertive">{state.message()}</p>
        </section>
    }
}

/// Fresh recovery codes, shown once: to copy (with JavaScript) or download.
#[component]
pub fn RecoveryCodes(codes: Vec<String>, copy: bool) -> impl IntoView {
    let text = format!(
        "latchkey recovery codes\n\nEach code works once, in place of the code from your authenticator app.\n\n{}\n",
        codes.join("\n")
    );
    let download = format!("data:text/plain;charset=utf-8,{}", percent_encoded(&text));
    let copied = RwSignal::new(None::<&'static str>);
    let on_copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            copied.set(Some(if write_clipboard(&text).await {
                "Copied."
            } else {
                "Could not copy: select the codes, or download them."
            }));
        });
    };
    view! {
        <section class="card wide" aria-labelledby="recovery-codes-title">
            <h2 id="recovery-codes-title" tabindex="-1">"Your recovery codes"</h2>
            <p>
                "Keep these somewhere safe, away from your phone: each one logs you in once if you "
                "lose it. They are shown only now."
            </p>
            <ol class="codes">
                {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
            </ol>
            <p class="actions">
                <a class="button" href=download download="latchkey-recovery-codes.txt">"Download"</a>
                {copy.then(|| view! {
                    <button type="button" class="secondary" on:click=on_copy>"Copy"</button>
                })}
                <a href="/account">"Done"</a>
            </p>
            <p class="status" aria-live="polite">{move || copied.get()}</p>
        </section>
    }
}

/// Every byte but RFC 3986's unreserved ones as `%XX` (a `data:` URI's text; `%` or `#` left
/// as they are would cut the file short).
fn percent_encoded(text: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

async fn write_clipboard(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let promise = window().navigator().clipboard().write_text(text);
        wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}

/// `/account/two-step`: turning two-step login on. Sudo mode first; then the secret (QR code,
/// key, link) and a code from the app to confirm it; then the recovery codes.
#[component]
pub fn TwoStepSetupPage() -> impl IntoView {
    let failed = failed_post::<EnableTwoStep>();
    let confirm_failed = failed_post::<ConfirmPassword>();
    view! {
        <Suspense fallback=LoadingCard>
            {Suspend::new(async move {
                let setup = two_step_setup().await;
                // A confirmation by passkey is offered to those who have one.
                let has_passkey = passkeys().await.is_ok_and(|p| !p.passkeys.is_empty());
                let text = setup_title(&setup, failed.is_some() || confirm_failed.is_some());
                view! {
                    <PageTitle text/>
                    <SetupPanel setup failed confirm_failed has_passkey origin=passkey_origin() minutes=sudo_minutes()/>
                }
            })}
        </Suspense>
    }
}

fn setup_title(setup: &Result<TwoStepEnrolment, AppError>, error: bool) -> String {
    match setup {
        Err(AppError::Unauthenticated) => title("Not logged in", false),
        Err(AppError::SudoRequired) | Ok(_) => title("Set up two-step login", error),
        Err(AppError::BadInput(InputError::TwoStepOn)) => title("Two-step login", error),
        Err(_) => title("Set up two-step login", true),
    }
}

#[island(lazy)]
fn SetupPanel(
    setup: Result<TwoStepEnrolment, AppError>,
    failed: Option<AppError>,
    confirm_failed: Option<AppError>,
    has_passkey: bool,
    origin: Option<String>,
    minutes: u64,
) -> impl IntoView {
    island::start();
    let confirmed = RwSignal::new(
        !matches!(setup, Err(AppError::SudoRequired)) && failed != Some(AppError::SudoRequired),
    );
    let setup = RwSignal::new(setup);
    let enabling = Submission::new(failed);
    let confirming = Submission::new(confirm_failed);
    let codes = RwSignal::new(Vec::<String>::new());
    let offer = RwSignal::new(Offer::None);
    Effect::new(move |_| offer.set(webauthn::offer(origin.as_deref())));
    let with_passkey = Signal::derive(move || has_passkey && offer.get() == Offer::Here);
    ask_when_refused(confirmed, [enabling], "setup-title", move || {
        leptos::task::spawn_local(async move { setup.set(two_step_setup().await) })
    });
    let on_enable = move |event| {
        enabling.submit(
            event,
            |f| enable_two_step(f.get("code")),
            move |fresh, _| {
                codes.set(fresh);
                island::focus("recovery-codes-title");
            },
        )
    };
    Effect::new(move |_| {
        let error = enabling.error.with(Option::is_some) || confirming.error.with(Option::is_some);
        set_document_title(&setup.with(|s| setup_title(s, error)));
    });
    let shown = Memo::new(move |_| setup.get());
    let confirm = move || {
        (!confirmed.get())
            .then(|| view! { <ConfirmCard confirmed state=confirming with_passkey minutes/> })
    };
    let main = move || {
        if !codes.with(Vec::is_empty) {
            return EitherOf4::A(view! {
                <section class="card wide" aria-labelledby="setup-title">
                    <h1 id="setup-title" tabindex="-1">"Two-step login is on"</h1>
                    <p>"From now on, logging in with your password also asks for a code from your app."</p>
                </section>
                <RecoveryCodes codes=codes.get() copy=true/>
            });
        }
        match shown.get() {
            Err(AppError::Unauthenticated) => EitherOf4::B(Either::Left(view! {
                <section class="card">
                    <h1 tabindex="-1">"Set up two-step login"</h1>
                    <p>"You are not logged in."</p>
                    <p><a href="/">"Log in"</a></p>
                </section>
            })),
            Err(AppError::BadInput(InputError::TwoStepOn)) => EitherOf4::B(Either::Right(view! {
                <section class="card">
                    <h1 id="setup-title" tabindex="-1">"Two-step login"</h1>
                    <p>"Two-step login is already on."</p>
                    <p><a href="/account">"Back to your account"</a></p>
                </section>
            })),
            Err(AppError::SudoRequired) => EitherOf4::C(view! {
                <section class="card wide" aria-labelledby="setup-title">
                    <h1 id="setup-title" tabindex="-1">"Set up two-step login"</h1>
                    <p>"First, confirm it's you."</p>
                    <p><a href="/account">"Back to your account"</a></p>
                </section>
            }),
            Err(error) => EitherOf4::D(Either::Left(view! {
                <ErrorCard title="Set up two-step login" error/>
            })),
            Ok(setup) => EitherOf4::D(Either::Right(view! {
                <SetupSteps setup state=enabling on_submit=on_enable/>
            })),
        }
    };
    view! { {main} {confirm} }
}

#[component]
fn SetupSteps(
    setup: TwoStepEnrolment,
    state: Submission,
    on_submit: impl FnMut(leptos::ev::SubmitEvent) + 'static,
) -> impl IntoView {
    let TwoStepEnrolment {
        secret,
        uri,
        qr_svg,
    } = setup;
    let pending = state.pending;
    let has_error = move || state.error.with(Option::is_some);
    // In groups of four, as apps show keys.
    let grouped = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <section class="card wide" aria-labelledby="setup-title">
            <h1 id="setup-title" tabindex="-1">"Set up two-step login"</h1>
            <ol class="steps">
                <li>
                    <p>"Scan this QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, 1Password, Aegis…):"</p>
                    <div class="qr" role="img" aria-label="QR code of your two-step key" inner_html=qr_svg></div>
                    <p>
                        "Or type this key into the app: " <code class="secret" data-secret=secret.clone()>{grouped}</code>
                        " (time-based, 6 digits). On a phone, " <a href=uri>"open the setup link"</a> "."
                    </p>
                </li>
                <li>
                    <form method="post" action=EnableTwoStep::PATH on:submit=on_submit>
                        <div class="field">
                            <label for="code">"Enter the 6-digit code the app shows"</label>
                            <input id="code" name="code" type="text" inputmode="numeric" required maxlength=32
                                autocomplete="one-time-code" spellcheck="false"
                                aria-invalid=move || has_error().then_some("true")
                                aria-describedby="setup-error"/>
                        </div>
                        <p id="setup-error" class="error" aria-live="assertive">{state.message()}</p>
                        <button type="submit" aria-disabled=move || pending.get().then_some("true") aria-busy=move || pending.get().then_some("true")>
                            {move || if pending.get() { "Checking…" } else { "Turn on two-step login" }}
                        </button>
                    </form>
                </li>
            </ol>
            <p><a href="/account">"Cancel"</a></p>
        </section>
    }
}

/// `/account/recovery-codes`: where a plain form (JavaScript off) shows the codes it just
/// made, once. Later visits say where to get new ones.
#[component]
pub fn RecoveryCodesPage() -> impl IntoView {
    view! {
        <Suspense fallback=LoadingCard>
            {Suspend::new(async move {
                match fresh_recovery_codes().await {
                    Ok(codes) if !codes.is_empty() => Either::Left(view! {
                        <PageTitle text=title("Your recovery codes", false)/>
                        <section class="card wide">
                            <h1>"Two-step login"</h1>
                            <p>"Here are your new recovery codes."</p>
                        </section>
                        <RecoveryCodes codes copy=false/>
                    }),
                    Ok(_) => Either::Right(Either::Left(view! {
                        <PageTitle text=title("Your recovery codes", false)/>
                        <section class="card">
                            <h1 tabindex="-1">"Your recovery codes"</h1>
                            <p>"Recovery codes are shown only once, when they are made. You can make a new set on your account page."</p>
                            <p><a href="/account">"Your account"</a></p>
                        </section>
                    })),
                    Err(error) => Either::Right(Either::Right(view! {
                        <PageTitle text=title("Your recovery codes", true)/>
                        <ErrorCard title="Your recovery codes" error/>
                    })),
                }
            })}
        </Suspense>
    }
}
