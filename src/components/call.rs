//! How the login page's island calls its server functions: with the browser's `fetch`, the
//! arguments form-encoded (as the plain form posts them) and the answer read with miniserde
//! (`crate::wire`). It is the request server_fn's generated client makes (POST to the
//! function's path, `Accept: application/json`; a status of 400–599 carries an [`AppError`]),
//! with one request function instead of one instance of that client per server function:
//! measured, this took 9.3 kB off the login page's compressed WASM (BENCHMARKS.md, issue 15).
//! The other pages call their server functions as generated.

use crate::error::AppError;
use std::future::Future;

/// Calls the server function at `path` (its `ServerFn::PATH`) with `fields`; its answer or its
/// error. The fields are encoded now, so the future borrows nothing.
pub fn call<T: miniserde::Deserialize>(
    path: &'static str,
    fields: &[(&str, &str)],
) -> impl Future<Output = Result<T, AppError>> + 'static {
    let body = form_encoded(fields);
    async move {
        let (failed, text) = post(path, body).await?;
        if failed {
            return Err(crate::wire::from_json(&text).unwrap_or_else(unreadable));
        }
        crate::wire::from_json(&text).ok_or_else(unreadable)
    }
}

/// An answer that is neither the function's output nor an `AppError` (e.g. a proxy's page).
fn unreadable() -> AppError {
    AppError::Transport("unreadable answer".into())
}

#[cfg(feature = "hydrate")]
fn form_encoded(fields: &[(&str, &str)]) -> String {
    let Ok(params) = web_sys::UrlSearchParams::new() else {
        return String::new();
    };
    for (name, value) in fields {
        params.append(name, value);
    }
    params.to_string().into()
}

/// `(failed, body)`: whether the status is an error (400–599, as server_fn reads it) and the
/// body's text. A request that gets no answer is [`AppError::Transport`].
#[cfg(feature = "hydrate")]
async fn post(path: &str, body: String) -> Result<(bool, String), AppError> {
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    let no_answer = |_: JsValue| AppError::Transport("no answer".into());
    let headers = web_sys::Headers::new().map_err(no_answer)?;
    headers
        .set("Content-Type", "application/x-www-form-urlencoded")
        .map_err(no_answer)?;
    headers
        .set("Accept", "application/json")
        .map_err(no_answer)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&body));
    let fetch = leptos::prelude::window().fetch_with_str_and_init(path, &init);
    let response: web_sys::Response = JsFuture::from(fetch)
        .await
        .map_err(no_answer)?
        .unchecked_into();
    let text = JsFuture::from(response.text().map_err(no_answer)?)
        .await
        .map_err(no_answer)?;
    let failed = (400..=599).contains(&response.status());
    Ok((failed, text.as_string().unwrap_or_default()))
}

// On the server the island only renders: nothing calls these there.
#[cfg(not(feature = "hydrate"))]
fn form_encoded(_: &[(&str, &str)]) -> String {
    String::new()
}

#[cfg(not(feature = "hydrate"))]
async fn post(_: &str, _: String) -> Result<(bool, String), AppError> {
    Err(AppError::Transport("no browser".into()))
}
