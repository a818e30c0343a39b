//! Time, injectable: session deadlines and throttling windows read the clock through this trait,
//! so tests move time forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OffsetDateTime;

    fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }
}

pub type SharedClock = Arc<dyn Clock>;

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still (at the time it was made) until the test moves it.
#[derive(Debug)]
pub struct ManualClock {
    start: OffsetDateTime,
    offset_seconds: AtomicI64,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self {
            start: OffsetDateTime::now_utc(),
            offset_seconds: AtomicI64::new(0),
        }
    }
}

impl ManualClock {
    pub fn advance(&self, by: std::time::Duration) {
        self.offset_seconds
            .fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.start + time::Duration::seconds(self.offset_seconds.load(Ordering::SeqCst))
    }
}
