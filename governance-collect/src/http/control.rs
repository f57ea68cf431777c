//! [`PollControl`]: the handle through which other parts of a system steer a running
//! [`HttpPollCollector`](super::HttpPollCollector): the alert flag that shortens its poll
//! interval, and requests to collect a time range again.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

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
    /// from its next wait.
    pub fn set_alert(&self, active: bool) {
        self.state.alert.store(active, Ordering::SeqCst);
    }

    /// Returns whether the alert flag is set.
    pub fn alert_active(&self) -> bool {
        self.state.alert.load(Ordering::SeqCst)
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
}
