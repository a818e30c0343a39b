//! One suite, run against every store (tower-sessions' pattern): each store must keep the same
//! contract, against a real server. PostgreSQL tests use their own schema in
//! `LATCHKEY_TEST_POSTGRES_URL` (default: this project's machines'
//! `postgres://postgres@127.0.0.1:5432/test`); Redis tests their own key prefix in
//! `LATCHKEY_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`).

use crate::clock::SystemClock;
use crate::db::testing::TestDb;
use crate::db::{scratch, Pool};
use crate::store::{AnyStore, RedisStore, SqlStore};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

pub struct Fixture {
    pub store: AnyStore,
    /// SQL stores: their database, dropped by `finish`.
    db: Option<TestDb>,
    /// Redis: the test's own key prefix, whose keys `finish` deletes.
    redis_prefix: Option<String>,
}

impl Fixture {
    pub async fn finish(self) {
        if let Some(db) = self.db {
            db.finish().await;
        }
        if let Some(prefix) = self.redis_prefix {
            scratch::drop_redis_prefix(&prefix).await;
        }
    }

    fn sql(db: TestDb) -> Self {
        Fixture {
            store: AnyStore::Sql(Arc::new(SqlStore::new(
                db.db.clone(),
                Arc::new(SystemClock),
            ))),
            db: Some(db),
            redis_prefix: None,
        }
    }
}

pub async fn sqlite() -> Fixture {
    let db = TestDb::sqlite().await;
    let Pool::Sqlite(pool) = db.db.pool() else {
        unreachable!()
    };
    // SQLite's sessions reference users: the suite's users 7 and 8 must exist.
    for id in [7, 8] {
        sqlx::query(
            "INSERT INTO users (id, username, password_hash, created_at) VALUES (?, ?, 'x', 0)",
        )
        .bind(id)
        .bind(format!("user{id}"))
        .execute(pool)
        .await
        .unwrap();
    }
    // Loads go through the same-thread reader, as in the server.
    assert!(db.db.reader().is_some());
    Fixture::sql(db)
}

pub async fn postgres() -> Fixture {
    Fixture::sql(TestDb::postgres().await)
}

/// Redis tests share the test Redis, each under its own key prefix.
pub async fn redis() -> Fixture {
    let (url, prefix) = scratch::redis_prefix().await;
    let target = crate::config::RedisUrl::parse(&url).unwrap();
    let store = RedisStore::connect(
        &target,
        Arc::new(SystemClock),
        crate::config::DEFAULT_TIMEOUT,
    )
    .await
    .unwrap();
    Fixture {
        store: AnyStore::Redis(Arc::new(store)),
        db: None,
        redis_prefix: Some(prefix),
    }
}

pub fn record(secs_from_now: i64, user: Option<i64>) -> Record {
    let mut data = HashMap::from([("k".to_string(), serde_json::json!("v"))]);
    if let Some(uid) = user {
        data.insert(crate::store::USER_ID_KEY.into(), serde_json::json!(uid));
    }
    Record {
        id: Id::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + time::Duration::seconds(secs_from_now),
    }
}

macro_rules! store_suite {
    ($name:ident, $fixture:path) => {
        mod $name {
            use crate::store::suite::record;
            use crate::store::SessionIndex;
            use tower_sessions::SessionStore;

            #[tokio::test]
            async fn save_after_delete_does_not_revive() {
                let f = $fixture().await;
                let mut r = record(3600, None);
                f.store.create(&mut r).await.unwrap();
                assert!(f.store.load(&r.id).await.unwrap().is_some());
                f.store.delete(&r.id).await.unwrap();
                f.store.save(&r).await.unwrap();
                assert!(f.store.load(&r.id).await.unwrap().is_none());
                f.finish().await;
            }

            #[tokio::test]
            async fn expired_records_do_not_load_and_are_purged() {
                let f = $fixture().await;
                let mut r = record(-1, Some(7));
                f.store.create(&mut r).await.unwrap();
                assert!(f.store.load(&r.id).await.unwrap().is_none());
                assert!(f.store.list_user_sessions(7).await.unwrap().is_empty());
                // SQL: the row; Redis (which dropped the record itself): the index entry.
                assert_eq!(f.store.delete_expired().await.unwrap(), 1);
                assert_eq!(f.store.delete_expired().await.unwrap(), 0);
                f.finish().await;
            }

            #[tokio::test]
            async fn create_never_overwrites_an_existing_id() {
                let f = $fixture().await;
                let mut a = record(3600, None);
                f.store.create(&mut a).await.unwrap();
                let mut b = record(3600, None);
                b.id = a.id;
                b.data.insert("k".into(), serde_json::json!("other"));
                f.store.create(&mut b).await.unwrap();
                assert_ne!(a.id, b.id);
                assert_eq!(f.store.load(&a.id).await.unwrap().unwrap().data["k"], "v");
                f.finish().await;
            }

            #[tokio::test]
            async fn save_updates_a_live_record() {
                let f = $fixture().await;
                let mut r = record(3600, None);
                f.store.create(&mut r).await.unwrap();
                r.data.insert("k".into(), serde_json::json!("changed"));
                f.store.save(&r).await.unwrap();
                assert_eq!(
                    f.store.load(&r.id).await.unwrap().unwrap().data["k"],
                    "changed"
                );
                f.finish().await;
            }

            #[tokio::test]
            async fn the_per_user_index_lists_and_revokes() {
                let f = $fixture().await;
                let (mut a, mut b, mut c) = (
                    record(3600, Some(7)),
                    record(3600, Some(7)),
                    record(3600, Some(8)),
                );
                for r in [&mut a, &mut b, &mut c] {
                    f.store.create(r).await.unwrap();
                }
                let listed = f.store.list_user_sessions(7).await.unwrap();
                assert_eq!(listed.len(), 2);
                let handle_a = crate::store::handle(&a.id);
                assert!(listed.iter().any(|s| s.handle == handle_a));
                // Someone else's handle: nothing happens.
                assert!(!f.store.delete_user_session(8, &handle_a).await.unwrap());
                assert!(f.store.delete_user_session(7, &handle_a).await.unwrap());
                assert!(f.store.load(&a.id).await.unwrap().is_none());
                // Everyone else out, keeping c's owner's other sessions untouched.
                let mut d = record(3600, Some(7));
                f.store.create(&mut d).await.unwrap();
                assert_eq!(
                    f.store.delete_user_sessions(7, Some(&d.id)).await.unwrap(),
                    1
                );
                assert!(f.store.load(&d.id).await.unwrap().is_some());
                assert!(f.store.load(&b.id).await.unwrap().is_none());
                assert!(f.store.load(&c.id).await.unwrap().is_some());
                assert_eq!(f.store.delete_user_sessions(8, None).await.unwrap(), 1);
                f.store.ping().await.unwrap();
                f.finish().await;
            }

            /// Oldest first: by login time, and within one second by expiry (which follows it).
            #[tokio::test]
            async fn trimming_ends_a_users_oldest_sessions_only() {
                let f = $fixture().await;
                let mut ids = Vec::new();
                for i in 0..5 {
                    let mut r = record(3600 + i, Some(7));
                    f.store.create(&mut r).await.unwrap();
                    ids.push(r.id);
                }
                let mut other = record(3600, Some(8));
                f.store.create(&mut other).await.unwrap();
                assert_eq!(f.store.trim_user_sessions(7, 2).await.unwrap(), 3);
                for (i, id) in ids.iter().enumerate() {
                    assert_eq!(
                        f.store.load(id).await.unwrap().is_some(),
                        i >= 3,
                        "session {i}"
                    );
                }
                assert!(f.store.load(&other.id).await.unwrap().is_some());
                assert_eq!(f.store.trim_user_sessions(7, 2).await.unwrap(), 0);
                f.finish().await;
            }

            #[tokio::test]
            async fn the_index_follows_saves_and_deletes() {
                let f = $fixture().await;
                // An anonymous session that logs in (as tower-sessions saves it) joins the
                // index; once deleted it leaves it.
                let mut r = record(3600, None);
                f.store.create(&mut r).await.unwrap();
                assert!(f.store.list_user_sessions(7).await.unwrap().is_empty());
                r.data
                    .insert(crate::store::USER_ID_KEY.into(), serde_json::json!(7));
                f.store.save(&r).await.unwrap();
                let listed = f.store.list_user_sessions(7).await.unwrap();
                assert_eq!(listed.len(), 1);
                assert_eq!(listed[0].handle, crate::store::handle(&r.id));
                assert_eq!(listed[0].data["k"], "v");
                f.store.delete(&r.id).await.unwrap();
                assert!(f.store.list_user_sessions(7).await.unwrap().is_empty());
                assert_eq!(f.store.delete_user_sessions(7, None).await.unwrap(), 0);
                f.finish().await;
            }
        }
    };
}

store_suite!(sqlite_store, crate::store::suite::sqlite);
store_suite!(postgres_store, crate::store::suite::postgres);
store_suite!(redis_store, crate::store::suite::redis);

/// A store in the users' own database reads the user's password version in the session's own
/// statement (SQLite: the same-thread reader; PostgreSQL: one round trip); the value lives in
/// the loaded record only and is never written back.
macro_rules! password_version_suite {
    ($name:ident, $fixture:path) => {
        #[tokio::test]
        async fn $name() {
            use tower_sessions::SessionStore;
            let f = $fixture().await;
            let db = f.db.as_ref().unwrap().db.clone();
            set_password_version(&db, 7, 3).await;
            let mut r = record(3600, Some(7));
            f.store.create(&mut r).await.unwrap();
            let loaded = f.store.load(&r.id).await.unwrap().unwrap();
            assert_eq!(loaded.data[crate::store::PASSWORD_VERSION_NOW], 3);

            f.store.save(&loaded).await.unwrap();
            let raw: Vec<u8> = crate::db::on_db!(&db, "SELECT data FROM sessions", |sql, pool| {
                sqlx::query_scalar(sql).fetch_one(pool).await
            })
            .unwrap();
            let stored: HashMap<String, serde_json::Value> = serde_json::from_slice(&raw).unwrap();
            assert_eq!(stored, r.data);

            f.finish().await;
        }
    };
}

password_version_suite!(
    sqlite_loads_the_password_version_with_the_session,
    crate::store::suite::sqlite
);
password_version_suite!(
    postgres_loads_the_password_version_with_the_session,
    crate::store::suite::postgres
);

/// Redis keeps a copy of each user's password version beside the sessions (the users database
/// is elsewhere), so that a page reads both in one round trip. The copy may be missing or
/// pending (the page then asks the database), never behind the database.
mod redis_password_version {
    use super::{record, redis, Fixture};
    use crate::store::{AnyStore, PASSWORD_VERSION_NOW};
    use tower_sessions::SessionStore;

    /// A logged-in session of user 7, and what a page's load reports as its version.
    async fn session(f: &Fixture) -> tower_sessions::session::Id {
        let mut r = record(3600, Some(7));
        f.store.create(&mut r).await.unwrap();
        r.id
    }

    async fn version(store: &AnyStore, id: &tower_sessions::session::Id) -> Option<i64> {
        let loaded = store.load(id).await.unwrap().unwrap();
        loaded
            .data
            .get(PASSWORD_VERSION_NOW)
            .map(|v| v.as_i64().unwrap())
    }

    #[tokio::test]
    async fn a_login_starts_the_copy_and_the_page_reads_it_with_the_session() {
        let f = redis().await;
        let id = session(&f).await;
        assert_eq!(
            version(&f.store, &id).await,
            None,
            "no copy yet: ask the database"
        );
        f.store.remember_password_version(7, 3).await.unwrap();
        assert_eq!(version(&f.store, &id).await, Some(3));
        // A login never overwrites a copy (here: one that an older read would contradict).
        f.store.remember_password_version(7, 2).await.unwrap();
        assert_eq!(version(&f.store, &id).await, Some(3));
        // Carried for the request only: a save does not write it into the session.
        let loaded = f.store.load(&id).await.unwrap().unwrap();
        f.store.save(&loaded).await.unwrap();
        let client = ::redis::Client::open(crate::db::scratch::redis_base()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let raw: Vec<u8> = ::redis::cmd("HGET")
            .arg(format!(
                "{}s:{}",
                f.redis_prefix.as_ref().unwrap(),
                crate::store::handle(&id)
            ))
            .arg("data")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!String::from_utf8(raw)
            .unwrap()
            .contains(PASSWORD_VERSION_NOW));
        f.finish().await;
    }

    #[tokio::test]
    async fn while_a_change_is_under_way_pages_ask_the_database() {
        let f = redis().await;
        let id = session(&f).await;
        let change = f.store.password_version_changing(7).await.unwrap();
        assert_eq!(version(&f.store, &id).await, None);
        // A login that read version 3 just before the change, while there is no copy yet: its
        // copy lands, but is not trusted while the change is pending...
        f.store.remember_password_version(7, 3).await.unwrap();
        assert_eq!(version(&f.store, &id).await, None);
        // ...and the change's version wins once it finishes.
        f.store.password_version_changed(change, Some(4)).await;
        assert_eq!(version(&f.store, &id).await, Some(4));
        f.finish().await;
    }

    #[tokio::test]
    async fn overlapping_changes_leave_pages_on_the_database_until_the_last_one_finishes() {
        let f = redis().await;
        let id = session(&f).await;
        f.store.remember_password_version(7, 3).await.unwrap();
        // The first to mark commits last: a lock marks, a password change marks, commits 4 and
        // finishes; only then does the lock commit 5 and finish.
        let lock = f.store.password_version_changing(7).await.unwrap();
        let change = f.store.password_version_changing(7).await.unwrap();
        f.store.password_version_changed(change, Some(4)).await;
        assert_eq!(
            version(&f.store, &id).await,
            None,
            "the lock is still pending"
        );
        f.store.password_version_changed(lock, Some(5)).await;
        assert_eq!(version(&f.store, &id).await, Some(5));
        // And in the other order: the copy keeps the highest version committed.
        let first = f.store.password_version_changing(7).await.unwrap();
        let second = f.store.password_version_changing(7).await.unwrap();
        f.store.password_version_changed(second, Some(7)).await;
        f.store.password_version_changed(first, Some(6)).await;
        assert_eq!(version(&f.store, &id).await, Some(7));
        f.finish().await;
    }

    #[tokio::test]
    async fn a_change_that_never_finishes_leaves_pages_on_the_database() {
        let f = redis().await;
        let id = session(&f).await;
        f.store.remember_password_version(7, 3).await.unwrap();
        let unfinished = f.store.password_version_changing(7).await.unwrap();
        drop(unfinished);
        f.store.remember_password_version(7, 4).await.unwrap();
        assert_eq!(version(&f.store, &id).await, None);
        // A deleted user's change stays pending too.
        let gone = f.store.password_version_changing(7).await.unwrap();
        f.store.password_version_changed(gone, None).await;
        assert_eq!(version(&f.store, &id).await, None);
        f.finish().await;
    }
}

/// Sessions in a PostgreSQL database of their own: its (empty) users table is not the users',
/// so a load reads no version there (the caller asks the users' database).
#[tokio::test]
async fn a_sessions_only_database_reads_no_password_version() {
    use tower_sessions::SessionStore;
    let db = TestDb::postgres().await;
    let store = SqlStore::sessions_only(db.db.clone(), Arc::new(SystemClock));
    let mut r = record(3600, Some(7));
    store.create(&mut r).await.unwrap();
    let loaded = store.load(&r.id).await.unwrap().unwrap();
    assert!(!loaded.data.contains_key(crate::store::PASSWORD_VERSION_NOW));
    db.finish().await;
}

/// Creates user `id` if missing (PostgreSQL's sessions have no foreign key, so the suite's
/// users exist only in SQLite) and sets its password version.
async fn set_password_version(db: &crate::db::Database, id: i64, version: i64) {
    crate::db::on_db!(
        db,
        "INSERT INTO users (id, username, password_hash, created_at) VALUES (?, ?, 'x', 0) \
         ON CONFLICT (id) DO NOTHING",
        |sql, pool| sqlx::query(sql)
            .bind(id)
            .bind(format!("user{id}"))
            .execute(pool)
            .await
            .map(|_| ())
    )
    .unwrap();
    crate::db::on_db!(
        db,
        "UPDATE users SET password_version = ? WHERE id = ?",
        |sql, pool| sqlx::query(sql)
            .bind(version)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    )
    .unwrap();
}
