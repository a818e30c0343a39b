//! Scratch space on the test servers, for tests only (the store suite, the throttle tests and
//! the black-box tests share it): a fresh PostgreSQL schema or Redis key prefix on
//! `LATCHKEY_TEST_POSTGRES_URL` / `LATCHKEY_TEST_REDIS_URL` (defaults: this project's machines'
//! `postgres://postgres@127.0.0.1:5432/test` and `redis://127.0.0.1:6379`). A server that is
//! not there is a test failure that says what to start.

use sqlx::PgPool;

pub fn postgres_base() -> String {
    std::env::var("LATCHKEY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn redis_base() -> String {
    std::env::var("LATCHKEY_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A random lower-case name starting with `prefix`.
fn unique(prefix: &str) -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut random = [0u8; 6];
    OsRng.fill_bytes(&mut random);
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

async fn admin() -> PgPool {
    let base = postgres_base();
    PgPool::connect(&base).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is not reachable at {base} ({e}): start one, or point LATCHKEY_TEST_POSTGRES_URL at one")
    })
}

/// A fresh schema in the test PostgreSQL; returns a URL whose connections use it, and its name
/// (for [`drop_postgres_schema`]).
pub async fn postgres_schema() -> (String, String) {
    let admin = admin().await;
    let schema = unique("lk_test_");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let base = postgres_base();
    let sep = if base.contains('?') { '&' } else { '?' };
    (
        format!("{base}{sep}options=-csearch_path%3D{schema}"),
        schema,
    )
}

pub async fn drop_postgres_schema(schema: &str) {
    let admin = admin().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}

/// Rows in `schema.table` of the test PostgreSQL.
pub async fn postgres_count(schema: &str, table: &str) -> i64 {
    let admin = admin().await;
    let n = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {schema}.{table}"))
        .fetch_one(&admin)
        .await
        .unwrap();
    admin.close().await;
    n
}

/// A fresh key prefix on the test Redis; returns a store URL that uses it, and the prefix.
pub async fn redis_prefix() -> (String, String) {
    let base = redis_base();
    let prefix = unique("lk_test_") + ":";
    // Fail here, clearly, rather than in a server's start-up.
    redis_keys(&base, &prefix).await;
    (format!("{base}?key_prefix={prefix}"), prefix)
}

/// The keys under `prefix` on the Redis at `base`.
pub async fn redis_keys(base: &str, prefix: &str) -> Vec<String> {
    let client = redis::Client::open(base).unwrap();
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is not reachable at {base} ({e}): start one, or point LATCHKEY_TEST_REDIS_URL at one")
        });
    redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// Deletes the keys under `prefix` on the test Redis.
pub async fn drop_redis_prefix(prefix: &str) {
    let base = redis_base();
    let keys = redis_keys(&base, prefix).await;
    if keys.is_empty() {
        return;
    }
    let client = redis::Client::open(base).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("DEL")
        .arg(keys)
        .query_async(&mut conn)
        .await
        .unwrap();
}
