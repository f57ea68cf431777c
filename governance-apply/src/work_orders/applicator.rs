//! [`WorkOrderApplicator`]: raises work orders from a round's findings.

use std::path::PathBuf;

use governance_core::audit::AuditAction;
use governance_core::{
    Applicator, FindingKind, GovernedBatch, Result, RunSummary, Severity, Stage, StageContext,
};
use serde::{Deserialize, Serialize};

use super::{NewWorkOrder, WorkOrderStore};

/// Default stage name of a [`WorkOrderApplicator`].
pub const WORK_ORDER_APPLICATOR_NAME: &str = "work_orders";

/// Settings of a [`WorkOrderApplicator`]. Unknown fields are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkOrderConfig {
    /// The store's JSON Lines file.
    pub store: PathBuf,
    /// Lowest severity of a finding that raises an order. A finding without a severity counts
    /// as `info`. Default `error`.
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    /// Kinds of finding that raise orders. Default alert and anomaly.
    #[serde(default = "default_kinds")]
    pub kinds: Vec<FindingKind>,
}

fn default_min_severity() -> Severity {
    Severity::Error
}

fn default_kinds() -> Vec<FindingKind> {
    vec![FindingKind::Alert, FindingKind::Anomaly]
}

impl WorkOrderConfig {
    /// Creates a config with the defaults that stores orders in `store`.
    pub fn new(store: impl Into<PathBuf>) -> Self {
        WorkOrderConfig {
            store: store.into(),
            min_severity: default_min_severity(),
            kinds: default_kinds(),
        }
    }
}

/// Raises one work order per finding of a finished round whose kind and severity pass the
/// config, and saves them in the store. A finding whose name and subject match an order that
/// is still open or assigned adds an occurrence (and its row ids) to that order instead.
///
/// The applicator rereads the store file at the end of each round, so changes that a review
/// tool saved between rounds are kept.
#[derive(Debug)]
pub struct WorkOrderApplicator {
    name: String,
    config: WorkOrderConfig,
}

impl WorkOrderApplicator {
    /// Creates the applicator and checks that the store file, if present, can be read.
    pub fn new(config: WorkOrderConfig) -> Result<Self> {
        if config.store.as_os_str().is_empty() {
            return Err(governance_core::Error::config(
                WORK_ORDER_APPLICATOR_NAME,
                "store is empty; name the JSON Lines file for work orders",
            ));
        }
        WorkOrderStore::open(&config.store)?;
        Ok(WorkOrderApplicator {
            name: WORK_ORDER_APPLICATOR_NAME.to_string(),
            config,
        })
    }

    /// Renames the stage.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the config.
    pub fn config(&self) -> &WorkOrderConfig {
        &self.config
    }
}

impl Stage for WorkOrderApplicator {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "raises work orders from findings into {}",
            self.config.store.display()
        )
    }
}

impl Applicator for WorkOrderApplicator {
    /// Does nothing: orders come from the round's findings in `finish`.
    fn apply(&mut self, _batch: &GovernedBatch, _ctx: &mut StageContext) -> Result<()> {
        Ok(())
    }

    fn finish(&mut self, summary: &RunSummary, ctx: &mut StageContext) -> Result<()> {
        let mut store = WorkOrderStore::open(&self.config.store)?;
        // The findings are matched against the orders read under the store's lock, so an
        // order that another writer just created or closed counts.
        let (created, repeated) = store.locked(|store| {
            let mut created = 0_u64;
            let mut repeated = 0_u64;
            for finding in &summary.findings {
                let severity = finding.severity.unwrap_or(Severity::Info);
                if !self.config.kinds.contains(&finding.kind) || severity < self.config.min_severity
                {
                    continue;
                }
                let active = store
                    .active_for(&finding.name, finding.subject.as_deref())
                    .map(|order| order.id.clone());
                if let Some(id) = active {
                    store.record_occurrence(&id, &finding.row_ids);
                    repeated += 1;
                    continue;
                }
                store.insert(NewWorkOrder {
                    finding: finding.name.clone(),
                    title: finding.message.clone(),
                    subject: finding.subject.clone(),
                    severity,
                    analyzer: Some(finding.analyzer.clone()),
                    round: summary.round,
                    row_ids: finding.row_ids.clone(),
                    created_by: self.name.clone(),
                })?;
                created += 1;
            }
            if created + repeated > 0 {
                store.save()?;
            }
            Ok((created, repeated))
        })?;
        if created + repeated == 0 {
            return Ok(());
        }
        ctx.audit(
            AuditAction::Change,
            &self.config.store.display().to_string(),
            &format!("work_orders_created={created} occurrences_added={repeated}"),
        )?;
        tracing::info!(
            stage = %self.name,
            round = summary.round,
            created,
            repeated,
            "raised work orders"
        );
        Ok(())
    }
}
