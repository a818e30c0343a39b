//! The browser's passkey API, declared to wasm-bindgen: a few bindings to
//! `navigator.credentials` and WebAuthn Level 3's JSON helpers
//! (`PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON` /
//! `toJSON()`). The options and the response cross as JSON text, from and to the server
//! functions: none of WebAuthn's protocol types is compiled into the WASM.

use crate::error::AppError;

/// A refusal or failure in the browser (cancelled, timed out, no passkey): one fixed message.
/// The browser's own reason stays in the console.
#[cfg(feature = "hydrate")]
fn refused(error: wasm_bindgen::JsValue) -> AppError {
    let name = js_sys::Reflect::get(&error, &"name".into())
        .ok()
        .and_then(|n| n.as_string());
    if name.as_deref() == Some("AbortError") {
        return AppError::Transport(CANCELLED.into());
    }
    leptos::logging::warn!("passkey: {error:?}");
    AppError::PasskeyRefused
}

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = PublicKeyCredential, js_name = parseCreationOptionsFromJSON, catch)]
        pub fn parse_creation_options(json: &JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = PublicKeyCredential, js_name = parseRequestOptionsFromJSON, catch)]
        pub fn parse_request_options(json: &JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = PublicKeyCredential, js_name = isConditionalMediationAvailable, catch)]
        pub fn is_conditional_mediation_available() -> Result<js_sys::Promise, JsValue>;
        #[wasm_bindgen(js_namespace = ["navigator", "credentials"], js_name = create, catch)]
        pub fn create(options: &JsValue) -> Result<js_sys::Promise, JsValue>;
        #[wasm_bindgen(js_namespace = ["navigator", "credentials"], js_name = get, catch)]
        pub fn get(options: &JsValue) -> Result<js_sys::Promise, JsValue>;

        pub type Credential;
        #[wasm_bindgen(method, js_name = toJSON)]
        pub fn to_json(this: &Credential) -> JsValue;
    }
}

/// Whether this browser has passkeys and WebAuthn Level 3's JSON helpers (without them the
/// pages show no passkey controls: nothing that cannot work).
pub fn supported() -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsValue;
        let global = js_sys::global();
        js_sys::Reflect::get(&global, &JsValue::from_str("PublicKeyCredential"))
            .ok()
            .filter(|pkc| !pkc.is_undefined())
            .and_then(|pkc| {
                js_sys::Reflect::get(&pkc, &JsValue::from_str("parseRequestOptionsFromJSON")).ok()
            })
            .is_some_and(|f| f.is_function())
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Whether the browser can offer passkeys in the user-name field's autofill.
pub async fn autofill_available() -> bool {
    #[cfg(feature = "hydrate")]
    {
        let Ok(promise) = js::is_conditional_mediation_available() else {
            return false;
        };
        wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .is_ok_and(|v| v.as_bool() == Some(true))
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Makes a passkey from the server's creation options (JSON); returns the browser's response
/// as JSON.
pub async fn create(options: String) -> Result<String, AppError> {
    #[cfg(feature = "hydrate")]
    {
        let public_key = js::parse_creation_options(&parse(&options)?).map_err(refused)?;
        let request = object(&[("publicKey", public_key)]);
        let promise = js::create(&request).map_err(refused)?;
        respond(promise).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = options;
        Err(AppError::PasskeysOff)
    }
}

/// Signs with a passkey for the server's request options (JSON); returns the browser's
/// response as JSON. With `autofill`, the browser offers the passkeys among the user-name
/// field's suggestions instead of a dialog. The browser runs one request at a time: a new one
/// first cancels a pending autofill request.
pub async fn get(options: String, autofill: bool) -> Result<String, AppError> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsValue;
        let public_key = js::parse_request_options(&parse(&options)?).map_err(refused)?;
        let mut fields = vec![("publicKey", public_key)];
        let signal = cancel_autofill_then(autofill);
        if let Some(signal) = signal {
            fields.push(("mediation", JsValue::from_str("conditional")));
            fields.push(("signal", signal.into()));
        }
        let promise = js::get(&object(&fields)).map_err(refused)?;
        respond(promise).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (options, autofill);
        Err(AppError::PasskeysOff)
    }
}

/// How long an autofill request is left pending before a fresh one replaces it: within the
/// five minutes the server keeps a sign-in challenge (`auth::session::CEREMONY_SECONDS`).
#[cfg(feature = "hydrate")]
pub const AUTOFILL_RENEW: std::time::Duration = std::time::Duration::from_secs(240);

/// Whether an error is the cancelled autofill request (expected: say nothing).
pub fn is_cancelled(error: &AppError) -> bool {
    matches!(error, AppError::Transport(reason) if reason == CANCELLED)
}

const CANCELLED: &str = "cancelled";

#[cfg(feature = "hydrate")]
thread_local! {
    static AUTOFILL: std::cell::RefCell<Option<leptos::web_sys::AbortController>> =
        const { std::cell::RefCell::new(None) };
}

/// Cancels the pending autofill request, if any; with `again`, returns the signal of a new one.
#[cfg(feature = "hydrate")]
fn cancel_autofill_then(again: bool) -> Option<leptos::web_sys::AbortSignal> {
    AUTOFILL.with(|slot| {
        if let Some(pending) = slot.borrow_mut().take() {
            pending.abort();
        }
        let controller = again
            .then(leptos::web_sys::AbortController::new)
            .and_then(Result::ok)?;
        let signal = controller.signal();
        *slot.borrow_mut() = Some(controller);
        Some(signal)
    })
}

#[cfg(feature = "hydrate")]
fn parse(json: &str) -> Result<wasm_bindgen::JsValue, AppError> {
    js_sys::JSON::parse(json).map_err(|_| AppError::BadInput(crate::error::InputError::Malformed))
}

#[cfg(feature = "hydrate")]
fn object(fields: &[(&str, wasm_bindgen::JsValue)]) -> wasm_bindgen::JsValue {
    let object = js_sys::Object::new();
    for (key, value) in fields {
        let _ = js_sys::Reflect::set(&object, &(*key).into(), value);
    }
    object.into()
}

#[cfg(feature = "hydrate")]
async fn respond(promise: js_sys::Promise) -> Result<String, AppError> {
    use wasm_bindgen::JsCast;
    let credential = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(refused)?;
    let json = credential.unchecked_into::<js::Credential>().to_json();
    js_sys::JSON::stringify(&json)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or(AppError::PasskeyRefused)
}

/// What a page offers for passkeys, decided in the browser once the island is live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// Nothing: no JavaScript yet, a browser without passkeys, or a site without them.
    None,
    /// Passkey controls, here.
    Here,
    /// A link to where passkeys work (this page was reached by another name, e.g.
    /// `127.0.0.1` where passkeys need `localhost`).
    Elsewhere(String),
}

/// The offer for a site whose passkeys work on `origin` (`None`: the site has none).
pub fn offer(origin: Option<&str>) -> Offer {
    let Some(origin) = origin.filter(|_| supported()) else {
        return Offer::None;
    };
    #[cfg(feature = "hydrate")]
    let here = leptos::prelude::window().location().origin().ok();
    #[cfg(not(feature = "hydrate"))]
    let here: Option<String> = None;
    if here.as_deref() == Some(origin) {
        Offer::Here
    } else {
        Offer::Elsewhere(origin.to_owned())
    }
}

/// Cancels a pending autofill request (the page no longer shows the form it belongs to).
pub fn cancel_autofill() {
    #[cfg(feature = "hydrate")]
    let _ = cancel_autofill_then(false);
}
