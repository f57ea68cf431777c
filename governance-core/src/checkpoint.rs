//! Source positions and checkpoints: how a streaming collector resumes where the last
//! committed batch ended.
//!
//! # Contract
//!
//! 1. A collector that can resume attaches a [`SourcePosition`] to every batch it emits, in
//!    [`Provenance::position`](crate::Provenance::position). The position describes the
//!    source just after the batch's last record (the last file and row read, the message
//!    keys seen) and is enough on its own to restart the collector there.
//! 2. A sink that implements [`CheckpointStore`] writes the position of the last batch it
//!    received together with that batch's rows, in one atomic step. The PostgreSQL sink
//!    uses the same transaction, and a file sink renames a checkpoint file after its data
//!    file.
//!    Either both the rows and the position become durable or neither does.
//! 3. After the sink committed, the driver calls
//!    [`Collector::committed`](crate::Collector::committed) with the position, so that the
//!    collector releases what it held for redelivery (an MQTT collector acknowledges the
//!    messages to the broker only now).
//! 4. On restart the driver reads [`CheckpointStore::load_position`] and passes the position
//!    to [`Collector::resume`](crate::Collector::resume) before the first batch.
//!
//! Two drivers follow this contract: a [`Chain`](crate::Chain) built with
//! [`ChainBuilder::apply_checkpointed`](crate::ChainBuilder::apply_checkpointed), which runs
//! every stage between the collector and the sink, and `governance_apply::run_checkpointed`,
//! which connects one collector to one sink without a chain.
//!
//! # What "exactly once" means here
//!
//! Every record of the source is in the sink once, after any number of crashes of the
//! process, the broker or the connection, provided the sink's commit is atomic (above) and
//! the source can replay from the position. Where the source replays more than the position
//! says, as an MQTT broker does with every message that was delivered but not acknowledged,
//! exactly once relies on idempotence: each record carries a key, the position holds the
//! keys of the most recently committed records, and a collector drops a replayed record
//! whose key is there. That window is bounded, so a duplicate that arrives after more than
//! the window's number of newer records is not caught; the MQTT collector documents its
//! window. Quarantined records are not part of the sink's transaction: after a crash they
//! may be quarantined a second time.

use serde::{Deserialize, Serialize};

use crate::Result;

/// A collector's place in its source after a batch: the state to resume from.
///
/// `kind` names the collector type that wrote it (such as `mqtt` or `folder`), so that a
/// collector can reject a position written by another kind. `state` is the collector's own
/// JSON and is stored as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourcePosition {
    /// The collector type that wrote the position.
    pub kind: String,
    /// The collector's state after the batch, in its own JSON layout.
    pub state: serde_json::Value,
}

impl SourcePosition {
    /// Creates a position of collector type `kind`.
    pub fn new(kind: impl Into<String>, state: serde_json::Value) -> Self {
        SourcePosition {
            kind: kind.into(),
            state,
        }
    }
}

/// The read side of a sink that commits source positions with its rows.
pub trait CheckpointStore {
    /// Returns the position committed with the last committed batch, or `None` when nothing
    /// was committed yet.
    fn load_position(&mut self) -> Result<Option<SourcePosition>>;

    /// Returns whether every `apply` commits its batch with the batch's position before it
    /// returns. A driver that acknowledges the source after each batch requires it. The
    /// default is `false`, which is safe for a sink that commits later.
    fn commits_each_batch(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_round_trips_through_json() {
        let position =
            SourcePosition::new("folder", serde_json::json!({"file": "a.csv", "rows": 3}));
        let text = serde_json::to_string(&position).expect("serialise");
        let back: SourcePosition = serde_json::from_str(&text).expect("deserialise");
        assert_eq!(back, position);
    }
}
