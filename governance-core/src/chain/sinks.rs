//! The chain's applicators, one of which may be the checkpointing sink that the runner
//! resumes the collector from (see [`crate::checkpoint`]).

use crate::stage::Applicator;
use crate::{CheckpointStore, Error, Result, SourcePosition};

/// An applicator that also stores the source position it committed.
pub(super) trait CheckpointingSink: Applicator + CheckpointStore {}

impl<T: Applicator + CheckpointStore> CheckpointingSink for T {}

/// One applicator of a chain.
pub(super) enum Sink {
    Plain(Box<dyn Applicator>),
    Checkpointing(Box<dyn CheckpointingSink>),
}

impl Sink {
    pub(super) fn applicator(&self) -> &dyn Applicator {
        match self {
            Sink::Plain(sink) => sink.as_ref(),
            Sink::Checkpointing(sink) => sink.as_ref(),
        }
    }

    pub(super) fn applicator_mut(&mut self) -> &mut dyn Applicator {
        match self {
            Sink::Plain(sink) => sink.as_mut(),
            Sink::Checkpointing(sink) => sink.as_mut(),
        }
    }
}

/// Checks the applicators of a chain being built: at most one checkpointing sink, and it
/// must commit every batch with its position before `apply` returns.
pub(super) fn check_checkpointing(sinks: &[Sink]) -> Result<()> {
    let mut found: Option<&str> = None;
    for sink in sinks {
        let Sink::Checkpointing(store) = sink else {
            continue;
        };
        if let Some(first) = found {
            return Err(Error::config(
                "chain",
                format!(
                    "two checkpointing sinks ({first:?} and {:?}): a chain resumes from one \
                     committed position, so add the second with ChainBuilder::apply",
                    store.name()
                ),
            ));
        }
        if !store.commits_each_batch() {
            return Err(Error::config(
                "chain",
                format!(
                    "sink {:?} does not commit each batch with its source position, so the \
                     collector would release records that are not durable; use a sink that \
                     does, such as the PostgreSQL sink with commit = \"batch\", or add it with \
                     ChainBuilder::apply",
                    store.name()
                ),
            ));
        }
        found = Some(store.name());
    }
    Ok(())
}

/// Reads the position committed by the checkpointing sink among `sinks`. Returns `None`
/// when the chain has no such sink or the sink committed nothing yet.
pub(super) fn load_position(sinks: &mut [Sink]) -> Result<Option<SourcePosition>> {
    for sink in sinks.iter_mut() {
        if let Sink::Checkpointing(store) = sink {
            return store.load_position();
        }
    }
    Ok(None)
}

/// Returns whether `sinks` contains a checkpointing sink.
pub(super) fn has_checkpointing(sinks: &[Sink]) -> bool {
    sinks
        .iter()
        .any(|sink| matches!(sink, Sink::Checkpointing(_)))
}
