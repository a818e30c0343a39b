//! The practical ceiling for the benchmark: a bare axum server answering every GET with a fixed
//! page, set up like latchkey (same runtime, TCP_NODELAY), with none of its work.

use axum::response::Html;
use axum::routing::get;
use axum::serve::ListenerExt;

const PAGE: &str =
    "<!DOCTYPE html><html><head><title>bare</title></head><body><h1>Welcome, user1</h1>\
<form method=post action=/api/logout><button>Log out</button></form></body></html>";

#[tokio::main]
async fn main() {
    let addr = std::env::var("BARE_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!(
        "listening on http://{}",
        listener.local_addr().expect("addr")
    );
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = axum::Router::new().route("/", get(|| async { Html(PAGE) }));
    axum::serve(listener, app).await.expect("serve");
}
