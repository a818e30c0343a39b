//! Keeps open tabs of the same browser in step: after a login, logout or revocation in one tab,
//! the others re-ask the server who is logged in. A `BroadcastChannel` carries the news between
//! tabs; a tab coming back into view re-asks too (a session may have been revoked from another
//! browser meanwhile). Client-only: on the server these are no-ops.
//!
//! One channel object per page both listens and announces: a message is not delivered back to
//! the object that posted it, so a tab does not re-ask about its own change.

#[cfg(feature = "hydrate")]
thread_local! {
    static CHANNEL: Option<web_sys::BroadcastChannel> =
        web_sys::BroadcastChannel::new("latchkey-auth").ok();
}

/// Calls `refresh` when another tab reports a change, or when this tab becomes visible again.
pub fn on_auth_change(refresh: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::*;
        use std::rc::Rc;
        use wasm_bindgen::prelude::*;
        use wasm_bindgen::JsCast;

        let refresh = Rc::new(refresh);
        let r = refresh.clone();
        CHANNEL.with(|channel| {
            if let Some(channel) = channel {
                let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| r());
                let _ = channel.add_event_listener_with_callback(
                    "message",
                    on_message.as_ref().unchecked_ref(),
                );
                // Islands live as long as the page.
                on_message.forget();
            }
        });
        let handle = window_event_listener(leptos::ev::visibilitychange, move |_| {
            if document().visibility_state() == web_sys::VisibilityState::Visible {
                refresh();
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
    CHANNEL.with(|channel| {
        if let Some(channel) = channel {
            let _ = channel.post_message(&wasm_bindgen::JsValue::from_str("changed"));
        }
    });
}
