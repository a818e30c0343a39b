//! Purges expired records (and passed throttling windows) periodically. Errors are logged and
//! retried next round: a database hiccup must not end the task.

use crate::state::AppState;
use crate::store::SessionIndex;

pub fn spawn(state: &AppState) {
    let store = state.sessions.clone();
    let throttle = state.throttle.clone();
    let period = state.config.session.cleanup_interval;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            if let Err(err) = throttle.prune().await {
                tracing::warn!(error = %err, "throttle cleanup failed; will retry");
            }
            match store.delete_expired().await {
                Ok(n) => {
                    if std::mem::take(&mut failing) {
                        tracing::info!("expired-session cleanup works again");
                    }
                    if n > 0 {
                        tracing::info!(event = "expired_sessions_purged", count = n);
                    }
                }
                Err(err) => {
                    failing = true;
                    tracing::warn!(error = %err, "expired-session cleanup failed; will retry")
                }
            }
        }
    });
}
