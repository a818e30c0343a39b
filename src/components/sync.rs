//! Keeps open tabs of the same browser in step: after a login, logout or revocation in one tab,
//! the others re-ask the server who is logged in. A `BroadcastChannel` carries the news between
//! tabs; a tab coming back into view re-asks too (a session may have been revoked from another
//! browser meanwhile). Client-only: on the server these are no-ops.

#[cfg(feature = "hydrate")]
const CHANNEL: &str = "latchkey-auth";

/// Calls `refresh` when another tab reports a change, or when this tab becomes visible again.
pub fn on_auth_change(refresh: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::*;
        use std::rc::Rc;
        use wasm_bindgen::prelude::*;
        use wasm_bindgen::JsCast;

        let refresh = Rc::new(refresh);
        if let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) {
            let r = refresh.clone();
            let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| r());
            channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
            let channel = send_wrapper::SendWrapper::new(channel);
            on_cleanup(move || channel.close());
        }
        let r = refresh.clone();
        let handle = window_event_listener(leptos::ev::visibilitychange, move |_| {
            if document().visibility_state() == web_sys::VisibilityState::Visible {
                r();
            }
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = refresh;
}

/// Tells the other tabs that who is logged in may have changed.
pub fn announce_auth_change() {
    #[cfg(feature = "hydrate")]
    if let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) {
        let _ = channel.post_message(&wasm_bindgen::JsValue::from_str("changed"));
        channel.close();
    }
}
