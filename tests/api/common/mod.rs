//! What the black-box tests share: the two kinds of app under test (the real binary in a
//! process, [`TestApp`]; the same router in this process with a clock the test controls,
//! [`InProcessApp`]), the client side both deref to ([`Site`]), and scratch space on the test
//! PostgreSQL and Redis (the same code the unit tests use).

mod http;
mod in_process;
mod process;

pub use http::*;
pub use in_process::InProcessApp;
pub use latchkey::db::scratch::*;
pub use process::*;

/// The keys under `prefix` on the test Redis.
pub async fn redis_keys_of(prefix: &str) -> Vec<String> {
    redis_keys(&redis_base(), prefix).await
}

/// A string key's value on the test Redis.
pub async fn redis_get(key: &str) -> Option<String> {
    let client = redis::Client::open(redis_base()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}
