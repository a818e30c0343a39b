use super::cards::{ErrorCard, LoadingCard};
use super::confirm::{ask_when_refused, ConfirmCard};
use super::island::{self, failed_post, Latest, Submission};
use super::sync::{announce_auth_change, on_auth_change};
use super::title::{set_document_title, title, PageTitle};
use crate::api::sudo_minutes;
use crate::api::{
    list_sessions, revoke_other_sessions, revoke_session, ConfirmPassword, RevokeOtherSessions,
    RevokeSession, SessionSummary,
};
use crate::error::AppError;
use leptos::either::Either;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// `/sessions`: the user's sessions (revoke one, or all others). The list is read on the
/// server while rendering; the page's interactive part is one island.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let failed = failed_post::<RevokeOtherSessions>().or_else(failed_post::<RevokeSession>);
    // Without JavaScript, a change refused for want of a confirmation (sudo mode) comes back
    // here: the page then asks for it.
    let confirm_failed = failed_post::<ConfirmPassword>();
    let needs_confirm =
        confirm_failed.is_some() || failed.as_ref() == Some(&AppError::SudoRequired);
    view! {
        <Suspense fallback=LoadingCard>
            {Suspend::new(async move {
                let sessions = list_sessions().await;
                let text = page_title(&sessions, failed.is_some());
                view! {
                    <PageTitle text/>
                    <SessionsPanel sessions confirm_failed needs_confirm minutes=sudo_minutes()/>
                }
            })}
        </Suspense>
    }
}

/// The title for what the page shows.
fn page_title(sessions: &Result<Vec<SessionSummary>, AppError>, error: bool) -> String {
    match sessions {
        Ok(_) => title("Your sessions", error),
        Err(AppError::Unauthenticated) => title("Not logged in", false),
        Err(_) => title("Your sessions", true),
    }
}

/// Why the list cannot be shown: nobody is logged in (any more), or the server failed.
#[component]
fn Unavailable(error: AppError) -> impl IntoView {
    match error {
        AppError::Unauthenticated => Either::Left(view! {
            <section class="card">
                <h1 id="sessions-title" tabindex="-1">"Your sessions"</h1>
                <p>"You are not logged in."</p>
                <p><a href="/">"Log in"</a></p>
            </section>
        }),
        error => Either::Right(view! { <ErrorCard title="Your sessions" error/> }),
    }
}

/// The list, or why it cannot be shown. It is read again after every change made here, when
/// another tab reports a login or logout, and when this tab becomes visible again; a revoked
/// current session leaves "not logged in".
#[island(lazy)]
fn SessionsPanel(
    sessions: Result<Vec<SessionSummary>, AppError>,
    confirm_failed: Option<AppError>,
    needs_confirm: bool,
    minutes: u64,
) -> impl IntoView {
    island::start();
    // Sudo mode: shown when a change was refused for want of a confirmation.
    let confirmed = RwSignal::new(!needs_confirm);
    let confirming = Submission::new(confirm_failed);
    let sessions = RwSignal::new(sessions);
    let latest = Latest::new();
    let revoking = Submission::new(None);
    let ending_others = Submission::new(None);
    let ended = RwSignal::new(None::<u64>);
    // Only the answer to the latest read is shown: an older one (e.g. asked before a session
    // was revoked) must not overwrite it.
    let reload = move |focus: Option<&'static str>| {
        let ticket = latest.ticket();
        leptos::task::spawn_local(async move {
            let now = list_sessions().await;
            if latest.is_current(ticket) {
                sessions.set(now);
                if let Some(id) = focus {
                    island::focus(id);
                }
            }
        });
    };
    let refresh = move || reload(None);
    on_auth_change(refresh);

    let on_revoke = move |event| {
        revoking.submit(
            event,
            |f| revoke_session(f.get("handle")),
            move |(), _| {
                announce_auth_change();
                // The pressed button is gone with its row: land on the list's heading.
                reload(Some("sessions-title"));
            },
        )
    };
    let on_end_others = move |event| {
        ending_others.submit(
            event,
            |_| revoke_other_sessions(),
            move |n, _| {
                ended.set(Some(n));
                // The pressed button comes back disabled (no others left): land on the heading.
                reload(Some("sessions-title"));
            },
        )
    };
    ask_when_refused(
        confirmed,
        [revoking, ending_others],
        "sessions-title",
        || {},
    );
    // The title follows the view (the server wrote the first one).
    Effect::new(move |_| {
        let error = [revoking, ending_others]
            .iter()
            .any(|s| s.error.with(Option::is_some));
        set_document_title(&sessions.with(|s| page_title(s, error)));
    });

    view! {
        {move || (!confirmed.get()).then(|| view! {
            <ConfirmCard confirmed state=confirming with_passkey=Signal::stored(false) minutes/>
        })}
        {move || match sessions.get() {
            Ok(list) => Either::Left(view! {
                <SessionList list revoking on_revoke ending_others ended on_end_others/>
            }),
            Err(error) => Either::Right(view! { <Unavailable error/> }),
        }}
    }
}

#[component]
fn SessionList(
    list: Vec<SessionSummary>,
    revoking: Submission,
    on_revoke: impl FnMut(leptos::ev::SubmitEvent) + Copy + 'static,
    ending_others: Submission,
    ended: RwSignal<Option<u64>>,
    on_end_others: impl FnMut(leptos::ev::SubmitEvent) + 'static,
) -> impl IntoView {
    let others = list.iter().filter(|s| !s.current).count();
    let ended = move || ended.get().map(|n| format!("Ended {n} other session(s)."));
    let error = move || revoking.message()().or_else(ending_others.message());
    view! {
        <section class="card wide" aria-labelledby="sessions-title">
            <h1 id="sessions-title" tabindex="-1">"Your sessions"</h1>
            <ul class="sessions">
                {list.into_iter().map(|s| {
                    // Each button says which session it ends (a list of bare "Revoke"s does
                    // not); the visible word starts the name, as WCAG's label-in-name asks.
                    let which = if s.current {
                        format!(" of this session ({}, signed in {})", s.browser, s.created)
                    } else {
                        format!(" the session on {}, signed in {}", s.browser, s.created)
                    };
                    view! {
                    <li class:current=s.current>
                        <div>
                            <strong>{s.browser}</strong>
                            {s.current.then(|| view! { <span class="badge">"This session"</span> })}
                            <br/>
                            <small>
                                "Signed in " {s.created} {s.passkey.then_some(" with a passkey")}
                                " · last active " {s.last_active}
                            </small>
                        </div>
                        <form method="post" action=RevokeSession::PATH on:submit=on_revoke>
                            <input type="hidden" name="handle" value=s.handle/>
                            <button type="submit" class="small" aria-disabled=move || revoking.pending.get().then_some("true")>
                                {if s.current { "Log out" } else { "Revoke" }}
                                <span class="visually-hidden">{which}</span>
                            </button>
                        </form>
                    </li>
                }}).collect_view()}
            </ul>
            <form method="post" action=RevokeOtherSessions::PATH on:submit=on_end_others>
                <button type="submit" disabled=others == 0 aria-disabled=move || ending_others.pending.get().then_some("true")>
                    "Log out everywhere else"
                </button>
            </form>
            <p class="error" aria-live="assertive">{error}</p>
            <p class="status" aria-live="polite">{ended}</p>
            <p class="hint"><a href="/account">"Your account"</a> " · " <a href="/">"Back"</a></p>
        </section>
    }
}
