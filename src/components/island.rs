//! The small client runtime every island shares.
//!
//! The islands submit their forms with their own few lines instead of Leptos's `ActionForm` and
//! `ServerAction` (measured: those two cost ~40 KB of the compressed WASM): a form is a plain
//! `<form method="post" action="/api/…">`, which works as it is without JavaScript, and with
//! JavaScript its submit is intercepted and the server function called directly.
//!
//! A failed plain-form post comes back as `?__path=…&__err=…` (the server-function redirect).
//! The server, which has the router, decodes it while rendering ([`failed_post`]) and hands it
//! to the island as a prop, so the client needs no URL parsing or error decoding of its own.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;
use std::future::Future;

/// Call at the top of every island: marks the page interactive once the island is live, and
/// takes a failed plain-form post's `?__path=…&__err=…` out of the address bar (the server
/// has already put the error into the island's props; a reload should not show it again).
pub fn start() {
    #[cfg(feature = "hydrate")]
    {
        let location = window().location();
        if location.search().is_ok_and(|q| q.contains("__err=")) {
            if let (Ok(history), Ok(path)) = (window().history(), location.pathname()) {
                let _ = history.replace_state_with_url(
                    &leptos::wasm_bindgen::JsValue::NULL,
                    "",
                    Some(&path),
                );
            }
        }
    }
    // Effects run after the island's view is hydrated. The stamp's value, whole milliseconds
    // since navigation start, is what time-to-interactive is measured against; the end-to-end
    // tests wait for it. (An f64 formatted as text would pull ~15 KB of float code in.)
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        let at = window().performance().map_or(0.0, |p| p.now()) as u64;
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", &at.to_string());
        }
    });
}

/// Server side: the error of a failed plain-form post to `S`, if this page is its redirect.
pub fn failed_post<S: ServerFn<Error = AppError>>() -> Option<AppError> {
    use leptos::server::ServerActionError;
    use leptos::server_fn::error::ServerFnUrlError;
    let failed = use_context::<ServerActionError>()?;
    (failed.path() == S::PATH)
        .then(|| ServerFnUrlError::<AppError>::decode_err(failed.err()))
        .map(|error| match error {
            // Anyone can write this URL: keep a crafted wait within a day.
            AppError::Throttled { retry_after } => AppError::Throttled {
                retry_after: retry_after.min(86_400),
            },
            error => error,
        })
}

/// Orders answers that race: a refresh that was asked before a newer refresh or a completed
/// change must not overwrite what that one set.
#[derive(Clone, Copy)]
pub struct Latest(StoredValue<u64>);

impl Latest {
    pub fn new() -> Self {
        Self(StoredValue::new(0))
    }

    /// A ticket for a request about to start; every earlier ticket is outdated from now on.
    pub fn ticket(self) -> u64 {
        self.0.update_value(|n| *n += 1);
        self.0.get_value()
    }

    pub fn is_current(self, ticket: u64) -> bool {
        self.0.get_value() == ticket
    }
}

impl Default for Latest {
    fn default() -> Self {
        Self::new()
    }
}

/// One form's request state: pending while its server function runs, and the error of the
/// last failed run (shown in the form's live region).
#[derive(Clone, Copy)]
pub struct Submission {
    pub pending: RwSignal<bool>,
    pub error: RwSignal<Option<AppError>>,
}

impl Submission {
    pub fn new(error: Option<AppError>) -> Self {
        Self {
            pending: RwSignal::new(false),
            error: RwSignal::new(error),
        }
    }

    /// The error's text, for the form's live region.
    pub fn message(self) -> impl Fn() -> Option<String> + Copy {
        move || self.error.with(|e| e.as_ref().map(ToString::to_string))
    }

    /// Handles a submit event: cancels the full-page post, builds the call from the form's
    /// fields and runs it, then hands a success to `done` (with the form, e.g. to reset it).
    /// A second submit while one runs is ignored.
    pub fn submit<T, F>(
        self,
        event: web_sys::SubmitEvent,
        call: impl FnOnce(&Fields) -> F,
        done: impl FnOnce(T, web_sys::HtmlFormElement) + 'static,
    ) where
        F: Future<Output = Result<T, AppError>> + 'static,
        T: 'static,
    {
        event.prevent_default();
        let Some(form) = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        // Pending buttons are `aria-disabled`, not `disabled` (a disabled button drops focus
        // to `<body>`), so a second click arrives here and is ignored.
        if self.pending.get_untracked() {
            return;
        }
        let request = call(&Fields(web_sys::FormData::new_with_form(&form).ok()));
        // The live region empties while the request runs, so that the same error coming back
        // (a second wrong password) is a change, and announced again.
        self.error.set(None);
        self.pending.set(true);
        leptos::task::spawn_local(async move {
            let result = request.await;
            self.pending.set(false);
            match result {
                Ok(value) => {
                    self.error.set(None);
                    done(value, form);
                }
                Err(error) => self.error.set(Some(error)),
            }
        });
    }
}

/// A submitted form's fields, by name.
pub struct Fields(Option<web_sys::FormData>);

impl Fields {
    pub fn get(&self, name: &str) -> String {
        self.0
            .as_ref()
            .and_then(|d| d.get(name).as_string())
            .unwrap_or_default()
    }
}

/// Moves keyboard focus to the element `id` once the view has been redrawn: after an in-place
/// change the element that had focus (the button pressed) may be gone, and focus would fall to
/// `<body>`, leaving keyboard and screen-reader users at the top of nothing.
pub fn focus(id: &'static str) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        if let Some(element) = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
