//! Session setup: the same plan on a plain DataFusion context, on Ballista standalone and on
//! a remote Ballista cluster.

use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::common::Result;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::codec::{GovernanceLogicalCodec, GovernancePhysicalCodec};

/// Returns a session config for Ballista with the governance codecs installed.
///
/// The codecs carry each UDF's config inside the plan, so neither the scheduler nor the
/// executors need the UDFs registered by name. Ballista turns Parquet's `Utf8View` reading
/// off; the kernels accept `Utf8`, `LargeUtf8` and `Utf8View` alike.
pub fn ballista_config() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(Arc::new(GovernanceLogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(GovernancePhysicalCodec::default()))
}

/// Returns a session state with [`ballista_config`] and DataFusion's default functions.
pub fn ballista_state() -> SessionState {
    SessionStateBuilder::new()
        .with_config(ballista_config())
        .with_default_features()
        .build()
}

/// Starts an in-process Ballista scheduler and executor, both listening on `localhost`,
/// and returns a context that plans on them with the governance codecs.
#[cfg(feature = "standalone")]
pub async fn standalone_context() -> Result<SessionContext> {
    SessionContext::standalone_with_state(ballista_state()).await
}

/// Returns a context that sends its plans to the Ballista scheduler at `url`, such as
/// `df://127.0.0.1:50050`, with the governance codecs. The scheduler and the executors must
/// be started with the same codecs, from [`ballista_config`].
pub async fn remote_context(url: &str) -> Result<SessionContext> {
    SessionContext::remote_with_state(url, ballista_state()).await
}
