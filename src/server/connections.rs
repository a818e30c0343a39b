//! Accepting connections, with bounds: a client that is slow to send its request headers, or
//! that holds a keep-alive connection idle, is disconnected after `header-read-timeout-seconds`
//! (hyper's header timer runs from the moment a connection waits for a request, so it bounds
//! idle keep-alive time too); at most `max-connections` are open at once, and one beyond that
//! gets an immediate 503 and is closed (logged, at most every 10 s). Measured before: 20,000
//! idle loopback connections filled the process's file descriptors ("Too many open files") and
//! a normal request then timed out.

use super::errors::Refusals;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

const AT_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\
retry-after: 1\r\nconnection: close\r\n\r\n";

/// Raises the soft limit of open files to the hard one, and returns how many connections may be
/// open at once: `wanted`, or fewer if the limit cannot hold that many (with room for the
/// database, the store and the front end's files).
pub fn connection_cap(wanted: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(err) => {
            tracing::warn!(error = %err, "cannot raise the open-files limit");
            return wanted;
        }
    };
    let room = limit.saturating_sub(256) as usize;
    if room < wanted {
        tracing::warn!(
            open_files = limit,
            "the open-files limit allows only {room} connections, not {wanted}"
        );
    }
    wanted.min(room).max(1)
}

/// Serves `app` on `listener` until `shutdown`, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: tower_http::normalize_path::NormalizePath<super::router::Edge>,
    header_read_timeout: Duration,
    max_connections: usize,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true);
    let permits = Arc::new(Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let refused = Refusals::default();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            let _ = tcp.try_write(AT_CAPACITY);
            refused.note(|refused_so_far| {
                tracing::warn!(
                    event = "connection_limit",
                    max_connections,
                    refused_so_far,
                    "connection limit reached; refusing new connections with 503"
                )
            });
            continue;
        };
        // Without TCP_NODELAY each streamed (chunked) response waits ~40 ms on Nagle + delayed ACK.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::warn!(error = %err, "cannot set TCP_NODELAY");
        }
        let service = tower::ServiceExt::map_request(
            app.clone(),
            move |req: axum::extract::Request<hyper::body::Incoming>| {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            },
        );
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            // Until a first byte arrives, hyper's version sniffing waits without a timer of its
            // own: a connection that never speaks is closed here.
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(header_read_timeout, tcp.peek(&mut first)).await,
                Ok(Ok(1..))
            ) {
                return;
            }
            let conn = builder
                .serve_connection_with_upgrades(
                    TokioIo::new(tcp),
                    TowerToHyperService::new(service),
                )
                .into_owned();
            // Errors here are the client's (a reset, a timeout): nothing to report.
            let _ = watcher.watch(conn).await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
