//! Argon2id password hashing, off the async workers and within a fixed memory budget.
//!
//! Each hash needs 19 MiB of working memory. Allocating it per login lets glibc keep one such
//! block per blocking-pool thread (GBs under a login flood), so instead a fixed pool of
//! `max_concurrent` hashing threads each owns one preallocated buffer, and logins queue for them.
//! Memory is bounded by `max_concurrent × 19 MiB`; the async workers never hash, and the hashing
//! threads run at a lower priority so that pages keep being served during a login flood.
//!
//! The queue is bounded too (`max_queued`): beyond it a hash is refused at once
//! ([`HashError::Busy`], a 503 with `Retry-After`) rather than waited for, and a queued job
//! whose caller has gone (the client disconnected) is dropped unhashed.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version, ARGON2ID_IDENT};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// OWASP's recommended Argon2id setting: m = 19 MiB, t = 2, p = 1.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const OUTPUT_LEN: usize = 32;

pub use crate::limits::{MAX_PASSWORD_BYTES, MIN_NEW_PASSWORD_CHARS};

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Argon2(String),
    #[error("stored password hash is malformed: {0}")]
    Malformed(String),
    #[error("the hashing task was cancelled")]
    Cancelled,
    #[error("the hashing queue is full")]
    Busy,
}

/// Checks a new password (CLI, password change) against the policy.
pub fn validate_new_password(password: &str) -> Result<(), String> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "the password must be at most {MAX_PASSWORD_BYTES} bytes"
        ));
    }
    if password.chars().count() < MIN_NEW_PASSWORD_CHARS {
        return Err(format!(
            "the password must be at least {MIN_NEW_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

pub struct PasswordHasher {
    jobs: std::sync::mpsc::Sender<Job>,
    /// Jobs queued or running, and the most there may be.
    pending: Arc<AtomicUsize>,
    max_pending: usize,
    params: Params,
    /// Verified against when the user does not exist, so that an unknown user costs the same
    /// time as a wrong password.
    dummy_hash: String,
}

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Niceness of the hashing threads: a login flood then takes only the CPU that page requests
/// leave over, instead of half of it (Linux applies `setpriority` per thread).
const HASHER_NICENESS: i32 = 10;

impl PasswordHasher {
    /// Starts `threads` hashing threads, each owning one 19 MiB working buffer; at most
    /// `max_queued` hashes wait for them.
    pub fn new(threads: usize, max_queued: usize) -> Result<Arc<Self>, HashError> {
        let params = Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_LEN))
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            let block_count = params.block_count();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    // SAFETY: plain libc call on the current thread; failure only leaves the
                    // default priority.
                    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, HASHER_NICENESS) };
                    let mut blocks = vec![Block::default(); block_count];
                    loop {
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(&mut blocks),
                            Err(_) => return, // the hasher was dropped
                        }
                    }
                })
                .map_err(|e| HashError::Argon2(format!("cannot start a hashing thread: {e}")))?;
        }
        let mut random = [0u8; 32];
        OsRng.fill_bytes(&mut random);
        let mut blocks = vec![Block::default(); params.block_count()];
        let dummy_hash = hash_with(&params, &random, &mut blocks)?;
        Ok(Arc::new(Self {
            jobs,
            pending: Arc::default(),
            max_pending: threads.max(1) + max_queued,
            params,
            dummy_hash,
        }))
    }

    /// Hashes a new password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(self: &Arc<Self>, password: String) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run(move |blocks| hash_with(&params, password.as_bytes(), blocks))
            .await
    }

    /// Verifies `password` against `stored`; with `None` (no such user) it verifies against a
    /// dummy hash and returns `false`, taking the same time.
    pub async fn verify(
        self: &Arc<Self>,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        let (phc, real) = match stored {
            Some(phc) => (phc, true),
            None => (self.dummy_hash.clone(), false),
        };
        let ok = self
            .run(move |blocks| verify_with(&phc, password.as_bytes(), blocks))
            .await?;
        Ok(ok && real)
    }

    /// Hashes running or waiting now, and how many may at most (for the metrics).
    pub fn load(&self) -> (usize, usize) {
        (self.pending.load(Ordering::Relaxed), self.max_pending)
    }

    /// Whether a hash asked for now would be queued (a cheap check before any other work;
    /// [`Self::run`] decides).
    pub fn has_room(&self) -> bool {
        self.pending.load(Ordering::Relaxed) < self.max_pending
    }

    /// Queues `f` for the next free hashing thread and waits for its answer without blocking
    /// an async worker; refuses at once when the queue is full.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let taken = self.pending.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(self.pending.clone());
        if taken >= self.max_pending {
            return Err(HashError::Busy);
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |blocks: &mut Vec<Block>| {
                let _slot = slot;
                // The caller is gone (its client disconnected): nobody would read the answer.
                if reply.is_closed() {
                    tracing::debug!(event = "hash_skipped", "hash skipped: its caller has gone");
                    return;
                }
                let _ = reply.send(f(blocks));
            }))
            .map_err(|_| HashError::Cancelled)?;
        answer.await.map_err(|_| HashError::Cancelled)?
    }
}

/// One place in the queue, given back when the job is done, skipped or dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn hash_with(
    params: &Params,
    password: &[u8],
    blocks: &mut Vec<Block>,
) -> Result<String, HashError> {
    let err = |e: &dyn std::fmt::Display| HashError::Argon2(e.to_string());
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let mut out = [0u8; OUTPUT_LEN];
    fill(params, password, &salt, &mut out, blocks)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| err(&e))?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| err(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| err(&e))?),
    };
    Ok(phc.to_string())
}

fn verify_with(phc: &str, password: &[u8], blocks: &mut Vec<Block>) -> Result<bool, HashError> {
    let malformed = |e: &dyn std::fmt::Display| HashError::Malformed(e.to_string());
    let parsed = PasswordHash::new(phc).map_err(|e| malformed(&e))?;
    if parsed.algorithm != ARGON2ID_IDENT {
        return Err(HashError::Malformed(format!(
            "unsupported algorithm {}",
            parsed.algorithm
        )));
    }
    let params = Params::try_from(&parsed).map_err(|e| malformed(&e))?;
    let salt = parsed
        .salt
        .ok_or_else(|| HashError::Malformed("no salt".into()))?;
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(|e| malformed(&e))?;
    let expected = parsed
        .hash
        .ok_or_else(|| HashError::Malformed("no hash".into()))?;
    let mut out = vec![0u8; expected.len()];
    fill(&params, password, salt, &mut out, blocks)?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).map_err(|e| malformed(&e))? == expected)
}

fn fill(
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    blocks: &mut Vec<Block>,
) -> Result<(), HashError> {
    let needed = params.block_count();
    if blocks.len() < needed {
        // A hash stored with a larger memory cost than today's: grow this buffer once.
        blocks.resize(needed, Block::default());
    }
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
        .map_err(|e| HashError::Argon2(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify_and_interoperate_with_the_argon2_crate() {
        let hasher = PasswordHasher::new(2, 8).unwrap();
        let phc = hasher.hash("pässwörd with ünïcode".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher
            .verify("pässwörd with ünïcode".into(), Some(phc.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify("wrong".into(), Some(phc.clone()))
            .await
            .unwrap());
        // The stock verifier accepts our PHC strings (and so would any other Argon2 library).
        use argon2::PasswordVerifier;
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(Argon2::default()
            .verify_password("pässwörd with ünïcode".as_bytes(), &parsed)
            .is_ok());
    }

    #[tokio::test]
    async fn unknown_user_never_verifies() {
        let hasher = PasswordHasher::new(1, 8).unwrap();
        assert!(!hasher.verify(String::new(), None).await.unwrap());
    }

    /// Beyond the queue's bound a hash is refused at once; the room comes back as jobs end.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_frees_up() {
        let hasher = PasswordHasher::new(1, 2).unwrap();
        let jobs: Vec<_> = (0..3)
            .map(|_| {
                let h = hasher.clone();
                tokio::spawn(async move { h.hash("password".into()).await })
            })
            .collect();
        // Wait until the three (one hashing, two queued) have taken their places.
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while hasher.has_room() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("three hashes fill a queue of one thread and two places");
        assert!(matches!(
            hasher.hash("x".into()).await,
            Err(HashError::Busy)
        ));
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert!(hasher.has_room());
        hasher.hash("password".into()).await.unwrap();
    }

    #[test]
    fn new_password_policy() {
        assert!(validate_new_password("mypassword").is_ok());
        assert!(validate_new_password("short").is_err());
        assert!(validate_new_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }
}
