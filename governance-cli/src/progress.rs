//! A progress bar of the rows a collector reads, drawn on standard error with `indicatif`
//! only when standard error is a terminal.

use std::time::Duration;

use governance::{
    Adjustment, Collector, Feedback, GovernedBatch, Result, SourcePosition, Stage, StageContext,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The spinner shared by the collector wrapper and the runner; hidden when disabled.
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Creates the spinner; it draws nothing unless `enabled` and standard error is a
    /// terminal.
    pub fn new(enabled: bool) -> Self {
        let target = if enabled {
            // indicatif hides this target when standard error is not a terminal.
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        let style = ProgressStyle::with_template(
            "{spinner} {prefix} {human_pos} rows read ({per_sec}, {elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        Progress { bar }
    }

    /// Resets the counter for `round` of `rounds`.
    pub fn start_round(&self, round: u32, rounds: u32) {
        self.bar.reset();
        self.bar.set_prefix(format!("round {round}/{rounds}:"));
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }

    /// Stops the spinner and clears its line.
    pub fn finish_round(&self) {
        self.bar.finish_and_clear();
    }

    fn add_rows(&self, rows: usize) {
        self.bar.inc(rows as u64);
    }
}

/// A collector that counts the rows of every batch on a [`Progress`] and is otherwise its
/// inner collector: name, version and parameters are the inner one's, so lineage is the same.
pub struct ProgressCollector {
    inner: Box<dyn Collector>,
    progress: Progress,
}

impl ProgressCollector {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn Collector>, progress: Progress) -> Self {
        ProgressCollector { inner, progress }
    }
}

impl Stage for ProgressCollector {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn version(&self) -> String {
        self.inner.version()
    }

    fn params(&self) -> serde_json::Value {
        self.inner.params()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn learn(&mut self, feedback: &[Feedback]) -> Result<Option<Adjustment>> {
        self.inner.learn(feedback)
    }
}

impl Collector for ProgressCollector {
    fn start(&mut self, ctx: &mut StageContext) -> Result<()> {
        self.inner.start(ctx)
    }

    // Resume and commit go through to the inner collector, so that a checkpointing sink
    // resumes it and an MQTT collector acknowledges its messages.
    fn resume(&mut self, position: Option<&SourcePosition>) -> Result<()> {
        self.inner.resume(position)
    }

    fn committed(&mut self, position: &SourcePosition) -> Result<()> {
        self.inner.committed(position)
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        let batch = self.inner.next_batch(ctx)?;
        if let Some(batch) = &batch {
            self.progress.add_rows(batch.num_rows());
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A collector that records each call of `resume` and `committed` with the position kind.
    struct Recorder {
        calls: Arc<Mutex<Vec<String>>>,
    }

    impl Stage for Recorder {
        fn name(&self) -> &str {
            "recorder"
        }
    }

    impl Collector for Recorder {
        fn resume(&mut self, position: Option<&SourcePosition>) -> Result<()> {
            let kind = position.map_or("none", |position| position.kind.as_str());
            self.calls
                .lock()
                .expect("calls lock")
                .push(format!("resume {kind}"));
            Ok(())
        }

        fn committed(&mut self, position: &SourcePosition) -> Result<()> {
            self.calls
                .lock()
                .expect("calls lock")
                .push(format!("committed {}", position.kind));
            Ok(())
        }

        fn next_batch(&mut self, _ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
            Ok(None)
        }
    }

    #[test]
    fn resume_and_commit_reach_inner() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let inner = Recorder {
            calls: Arc::clone(&calls),
        };
        let mut wrapper = ProgressCollector::new(Box::new(inner), Progress::new(false));
        let position = SourcePosition::new("mqtt", serde_json::json!({"batch": 3}));

        wrapper.resume(Some(&position)).expect("resume");
        wrapper.committed(&position).expect("committed");

        let calls = calls.lock().expect("calls lock").clone();
        assert_eq!(calls, vec!["resume mqtt", "committed mqtt"]);
    }
}
