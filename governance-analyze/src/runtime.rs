//! Runs DataFusion's async API from synchronous stage code.
//!
//! The chain calls analyzers on rayon threads, outside any tokio runtime, so a small
//! current-thread runtime is built per call. A caller already inside a tokio runtime (a test
//! or an async application calling `finish` directly) cannot block on a second runtime in the
//! same thread, so there the query runs on a scoped thread of its own.

use std::future::Future;

use governance_core::{Error, Result};

/// Runs `future` to completion on a new current-thread tokio runtime. `stage` names the
/// stage in errors.
pub(crate) fn block_on<F>(stage: &str, future: F) -> Result<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let run = move || -> Result<F::Output> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| Error::stage(stage, error))?;
        Ok(runtime.block_on(future))
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|scope| scope.spawn(run).join())
            .map_err(|_| Error::Internal(format!("the query thread of stage {stage} panicked")))?
    } else {
        run()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_outside_a_runtime() {
        assert_eq!(block_on("test", async { 2 + 2 }).expect("ran"), 4);
    }

    #[test]
    fn runs_inside_a_runtime() {
        let outer = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let value = outer.block_on(async { block_on("test", async { 7 }) });
        assert_eq!(value.expect("ran"), 7);
    }
}
