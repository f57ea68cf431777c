//! [`PollControl`]: the handle through which other parts of a system steer a running
//! [`HttpPollCollector`](super::HttpPollCollector): the alert flag that shortens its poll
//! interval, an alert hold that ends by itself, and requests to collect a time range again.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// A time range to query again because validation found a gap in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecollectionRequest {
    /// Start of the range, inclusive.
    pub from: DateTime<Utc>,
    /// End of the range, exclusive.
    pub to: DateTime<Utc>,
    /// Reason for the request, such as the validation rule that found the gap.
    pub reason: String,
}

/// Result of a re-collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecollectionOutcome {
    /// The request.
    pub request: RecollectionRequest,
    /// Items received.
    pub items: u64,
    /// Rows emitted.
    pub rows: u64,
    /// Items quarantined.
    pub quarantined: u64,
    /// The error that ended the re-collection, when it failed.
    pub error: Option<String>,
}

#[derive(Debug, Default)]
struct ControlState {
    alert: AtomicBool,
    /// End of the alert hold; the alert is active until then.
    alert_until: Mutex<Option<Instant>>,
    recollections: Mutex<VecDeque<RecollectionRequest>>,
}

/// A cloneable handle to a running [`HttpPollCollector`](super::HttpPollCollector).
///
/// ```
/// use governance_collect::http::PollControl;
///
/// let control = PollControl::default();
/// control.set_alert(true);
/// assert!(control.alert_active());
/// ```
#[derive(Debug, Clone, Default)]
pub struct PollControl {
    state: Arc<ControlState>,
}

impl PollControl {
    /// Sets or clears the alert flag. While it is set the collector polls every
    /// [`alert_interval_ms`](super::HttpPollConfig::alert_interval_ms); the change applies
    /// from its next wait. Clearing it also ends an alert hold.
    pub fn set_alert(&self, active: bool) {
        self.state.alert.store(active, Ordering::SeqCst);
        if !active && let Ok(mut until) = self.state.alert_until.lock() {
            *until = None;
        }
    }

    /// Keeps the alert active for at least `duration` from now; a later end already held
    /// stays. The alert ends by itself when the hold runs out, unless the flag of
    /// [`set_alert`](Self::set_alert) is set. Fails only when a thread panicked while
    /// holding the hold's lock.
    pub fn hold_alert(&self, duration: Duration) -> Result<()> {
        let end = Instant::now() + duration;
        let mut until = self
            .state
            .alert_until
            .lock()
            .map_err(|_| Error::Internal("alert hold lock poisoned".into()))?;
        if until.is_none_or(|current| current < end) {
            *until = Some(end);
        }
        Ok(())
    }

    /// Returns whether the alert flag is set or an alert hold is running.
    pub fn alert_active(&self) -> bool {
        if self.state.alert.load(Ordering::SeqCst) {
            return true;
        }
        // A poisoned lock counts as no hold: the flag alone then decides.
        self.state
            .alert_until
            .lock()
            .is_ok_and(|until| until.is_some_and(|end| Instant::now() < end))
    }

    /// Queues a re-collection of `[from, to)`; the collector runs it before its next poll.
    /// Fails when `from` is not before `to`.
    pub fn request_recollection(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        reason: impl Into<String>,
    ) -> Result<()> {
        if from >= to {
            return Err(Error::InvalidInput(format!(
                "re-collection range {from} to {to} is empty: the start must be before the end"
            )));
        }
        let mut queue = self
            .state
            .recollections
            .lock()
            .map_err(|_| Error::Internal("re-collection queue lock poisoned".into()))?;
        queue.push_back(RecollectionRequest {
            from,
            to,
            reason: reason.into(),
        });
        Ok(())
    }

    /// Returns whether a re-collection request is queued.
    pub(crate) fn has_recollection(&self) -> Result<bool> {
        let queue = self
            .state
            .recollections
            .lock()
            .map_err(|_| Error::Internal("re-collection queue lock poisoned".into()))?;
        Ok(!queue.is_empty())
    }

    /// Takes the oldest queued re-collection request.
    pub(crate) fn next_recollection(&self) -> Result<Option<RecollectionRequest>> {
        let mut queue = self
            .state
            .recollections
            .lock()
            .map_err(|_| Error::Internal("re-collection queue lock poisoned".into()))?;
        Ok(queue.pop_front())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_range_is_rejected() {
        let control = PollControl::default();
        let time = DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let error = control
            .request_recollection(time, time, "gap")
            .expect_err("empty range");
        assert!(error.to_string().contains("is empty"), "{error}");
    }

    #[test]
    fn alert_hold_ends_by_itself() {
        let control = PollControl::default();
        control
            .hold_alert(Duration::from_millis(50))
            .expect("hold alert");
        assert!(control.alert_active());
        std::thread::sleep(Duration::from_millis(80));
        assert!(!control.alert_active());
    }

    #[test]
    fn clearing_alert_ends_hold() {
        let control = PollControl::default();
        control.hold_alert(Duration::from_secs(60)).expect("hold");
        control.set_alert(false);
        assert!(!control.alert_active());
    }

    #[test]
    fn shorter_hold_keeps_later_end() {
        let control = PollControl::default();
        control.hold_alert(Duration::from_secs(60)).expect("hold");
        control.hold_alert(Duration::ZERO).expect("hold");
        assert!(control.alert_active());
    }
}
