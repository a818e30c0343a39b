//! The routes (shared by both builds; the document around them is `server::shell`).

use crate::components::{
    AccountPage, HomePage, NotFound, RecoveryCodesPage, SessionsPage, TwoStepSetupPage,
};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <main>
                <Routes fallback=NotFound>
                    // Async: the page is complete before the response leaves, so (1) without
                    // JavaScript the browser gets the final content, not a streamed
                    // placeholder, and (2) every session change made while rendering (idle
                    // touch, expiry) is done before the session layer decides what to save and
                    // which cookie to send. Streaming would race the two.
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/sessions") view=SessionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/two-step") view=TwoStepSetupPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/recovery-codes") view=RecoveryCodesPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
