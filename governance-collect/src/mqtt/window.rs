//! [`MqttPosition`]: the MQTT collector's source position, with the window of recent message
//! keys that drops redelivered duplicates.

use std::collections::{HashSet, VecDeque};

use governance_core::{Error, Result, SourcePosition};
use serde::{Deserialize, Serialize};

/// The `kind` of the MQTT collector's [`SourcePosition`].
pub const MQTT_POSITION_KIND: &str = "mqtt";

/// The state an MQTT collector resumes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttPosition {
    /// Number of the batch that carried the position, from 1.
    pub batch: u64,
    /// Messages taken from the broker in all batches so far, duplicates and quarantined
    /// ones included.
    pub messages: u64,
    /// Row id the next row gets.
    pub next_row_id: u64,
    /// Keys of the most recent messages that became rows, oldest first.
    pub keys: Vec<u64>,
}

impl MqttPosition {
    /// Converts to the chain's position type.
    pub fn to_source_position(&self) -> Result<SourcePosition> {
        let state = serde_json::to_value(self).map_err(|error| {
            Error::Internal(format!("cannot serialise an MQTT position: {error}"))
        })?;
        Ok(SourcePosition::new(MQTT_POSITION_KIND, state))
    }

    /// Reads a position written by an MQTT collector; `stage` names the collector in errors.
    pub fn from_source_position(stage: &str, position: &SourcePosition) -> Result<Self> {
        if position.kind != MQTT_POSITION_KIND {
            return Err(Error::config(
                stage,
                format!(
                    "the checkpoint holds a {:?} position, expected {MQTT_POSITION_KIND:?}: the \
                     sink's checkpoint belongs to another collector",
                    position.kind
                ),
            ));
        }
        serde_json::from_value(position.state.clone()).map_err(|error| {
            Error::config(
                stage,
                format!(
                    "the checkpoint's MQTT position is invalid ({error}): {}",
                    position.state
                ),
            )
        })
    }
}

/// The keys of the most recent `capacity` messages, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyWindow {
    capacity: usize,
    order: VecDeque<u64>,
    members: HashSet<u64>,
}

impl KeyWindow {
    pub fn new(capacity: usize) -> Self {
        KeyWindow {
            capacity,
            order: VecDeque::with_capacity(capacity),
            members: HashSet::with_capacity(capacity),
        }
    }

    pub fn contains(&self, key: u64) -> bool {
        self.members.contains(&key)
    }

    pub fn insert(&mut self, key: u64) {
        if !self.members.insert(key) {
            return;
        }
        self.order.push_back(key);
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.members.remove(&oldest);
            }
        }
    }

    pub fn keys(&self) -> Vec<u64> {
        self.order.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_forgets_oldest_key() {
        let mut window = KeyWindow::new(2);
        window.insert(1);
        window.insert(2);
        window.insert(2);
        window.insert(3);
        assert!(!window.contains(1));
        assert!(window.contains(2));
        assert_eq!(window.keys(), vec![2, 3]);
    }

    #[test]
    fn position_rejects_other_kind() {
        let position = SourcePosition::new("folder", serde_json::json!({}));
        let error = MqttPosition::from_source_position("mqtt", &position).expect_err("other kind");
        assert!(error.to_string().contains("\"folder\""), "{error}");
    }
}
