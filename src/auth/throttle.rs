//! Login throttling: failed attempts per account and per client address in a sliding window.
//!
//! An attempt is counted when it *starts* (and forgiven when it succeeds), so a burst of
//! concurrent guesses cannot all slip past the check before the first failure is recorded.
//! The account key is the name as submitted, whether or not such a user exists: throttling
//! looks the same for real and made-up accounts. In memory, per process.

use crate::clock::SharedClock;
use crate::config::ThrottleConfig;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Above this many tracked accounts and addresses, passed windows are pruned on the spot.
const MAX_TRACKED_KEYS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(String),
}

#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    clock: SharedClock,
    attempts: Mutex<HashMap<Key, VecDeque<i64>>>,
}

/// A counted attempt; call [`Throttle::succeeded`] with it when the login works.
#[derive(Debug)]
pub struct Attempt {
    account: String,
    address: String,
}

impl Throttle {
    pub fn new(config: ThrottleConfig, clock: SharedClock) -> Self {
        Self {
            config,
            clock,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt, or refuses it with the seconds until one is allowed again.
    pub fn begin(&self, account: &str, address: &str) -> Result<Attempt, u64> {
        let now = self.clock.unix();
        let window = self.config.window.as_secs() as i64;
        let mut map = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED_KEYS {
            // Memory stays bounded even under a spray of made-up names from many addresses.
            map.retain(|_, times| times.back().is_some_and(|&t| t > now - window));
        }
        let keys = [
            (
                Key::Account(account.to_owned()),
                self.config.max_failures_per_account,
            ),
            (
                Key::Address(address.to_owned()),
                self.config.max_failures_per_address,
            ),
        ];
        let mut retry_after = 0;
        for (key, limit) in &keys {
            if let Some(times) = map.get_mut(key) {
                while times.front().is_some_and(|&t| t <= now - window) {
                    times.pop_front();
                }
                if times.len() >= *limit as usize {
                    let oldest = *times.front().expect("len >= limit >= 1");
                    retry_after = retry_after.max((oldest + window - now).max(1) as u64);
                }
            }
        }
        if retry_after > 0 {
            return Err(retry_after);
        }
        for (key, _) in keys {
            map.entry(key).or_default().push_back(now);
        }
        Ok(Attempt {
            account: account.to_owned(),
            address: address.to_owned(),
        })
    }

    /// A successful login clears the account's failures and takes back this attempt.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut map = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&Key::Account(attempt.account));
        if let Some(times) = map.get_mut(&Key::Address(attempt.address)) {
            times.pop_back();
        }
    }

    /// Forgets windows that have passed (called by the periodic cleanup task).
    pub fn prune(&self) {
        let cutoff = self.clock.unix() - self.config.window.as_secs() as i64;
        let mut map = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, times| times.back().is_some_and(|&t| t > cutoff));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::Arc;
    use std::time::Duration;

    fn throttle(clock: Arc<ManualClock>) -> Throttle {
        let config = ThrottleConfig {
            window: Duration::from_secs(600),
            max_failures_per_account: 3,
            max_failures_per_address: 5,
        };
        Throttle::new(config, clock)
    }

    #[test]
    fn account_limit_then_window_expiry() {
        let clock = Arc::new(ManualClock::default());
        let t = throttle(clock.clone());
        for _ in 0..3 {
            t.begin("alice", "10.0.0.1").unwrap();
        }
        let retry = t.begin("alice", "10.0.0.2").unwrap_err();
        assert!((590..=600).contains(&retry), "{retry}");
        // Other accounts are unaffected.
        t.begin("bob", "10.0.0.2").unwrap();
        clock.advance(Duration::from_secs(601));
        t.begin("alice", "10.0.0.3").unwrap();
    }

    #[test]
    fn address_limit_spans_accounts_and_success_forgives() {
        let clock = Arc::new(ManualClock::default());
        let t = throttle(clock);
        for name in ["a", "b", "c", "d"] {
            t.begin(name, "10.0.0.9").unwrap();
        }
        let ok = t.begin("e", "10.0.0.9").unwrap();
        t.succeeded(ok);
        t.begin("f", "10.0.0.9").unwrap();
        assert!(t.begin("g", "10.0.0.9").is_err());
        t.prune();
    }
}
