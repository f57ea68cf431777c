//! The executor side of the task audit: [`AuditingEngine`] wraps each query stage with issue
//! columns in an [`AuditExec`], which counts rows and issue cells per partition and writes a
//! [`PartitionAudit`] file when the partition's stream ends.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::SchemaRef;
use ballista_core::JobId;
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, ReplaceChildrenOptions,
    replace_children_if_necessary,
};
use datafusion::prelude::SessionConfig;
use futures::{Stream, StreamExt};

use super::PartitionAudit;

/// Prefix of the issue columns that [`crate::ColumnChain`] adds.
const ISSUE_PREFIX: &str = "issues__";

/// An execution engine that runs Ballista's default engine on each query stage, after
/// wrapping the stage's plan in an [`AuditExec`] when its output has issue columns.
///
/// NOTE: Ballista's default executor engine pools its shuffle-read clients, but that pool is
/// private to `ballista-executor` 55, so this engine reads shuffle data without pooling.
pub struct AuditingEngine {
    inner: DefaultExecutionEngine,
    dir: PathBuf,
    executor_id: String,
}

impl AuditingEngine {
    /// Returns an engine that writes audit files into `dir` and names `executor_id` in them.
    pub fn new(dir: PathBuf, executor_id: String) -> Self {
        AuditingEngine {
            inner: DefaultExecutionEngine::new(),
            dir,
            executor_id,
        }
    }
}

impl ExecutionEngine for AuditingEngine {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> Result<Arc<dyn QueryStageExecutor>> {
        // The plan is a shuffle writer over the stage; the audit goes between the two.
        let stage = plan.children().first().map(|child| Arc::clone(*child));
        let plan = match stage {
            Some(stage) if has_issue_columns(&stage.schema()) => {
                let partition_ids = if keeps_partitioning(&stage) {
                    global_output_partition_ids.clone()
                } else {
                    Vec::new()
                };
                let audit = AuditExec {
                    input: stage,
                    dir: self.dir.clone(),
                    executor_id: self.executor_id.clone(),
                    job_id: job_id.to_string(),
                    stage_id,
                    partition_ids,
                };
                replace_children_if_necessary(plan, vec![Arc::new(audit)])?
            }
            _ => plan,
        };
        self.inner.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )
    }
}

/// Tells whether the partitions of `plan` are its input's partitions, so that a task's
/// local partition `i` is the stage's partition `global_output_partition_ids[i]`. After a
/// repartition or a merge, Ballista 55 numbers local partitions as the stage's own.
fn keeps_partitioning(plan: &Arc<dyn ExecutionPlan>) -> bool {
    if plan.downcast_ref::<RepartitionExec>().is_some()
        || plan.downcast_ref::<SortPreservingMergeExec>().is_some()
    {
        return false;
    }
    match plan.children().as_slice() {
        [child] => keeps_partitioning(child),
        _ => true,
    }
}

fn has_issue_columns(schema: &SchemaRef) -> bool {
    schema
        .fields()
        .iter()
        .any(|field| field.name().starts_with(ISSUE_PREFIX))
}

/// A pass-through operator that counts the rows and the non-null cells of each issue column
/// of every partition, and writes them as a [`PartitionAudit`] file when the partition's
/// stream ends without error.
#[derive(Debug)]
pub struct AuditExec {
    input: Arc<dyn ExecutionPlan>,
    dir: PathBuf,
    executor_id: String,
    job_id: String,
    stage_id: usize,
    /// Stage partition of each partition of `input`; without an entry, the stage partition
    /// is the local one.
    partition_ids: Vec<usize>,
}

impl DisplayAs for AuditExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "AuditExec: dir={}", self.dir.display())
    }
}

impl ExecutionPlan for AuditExec {
    fn name(&self) -> &'static str {
        "AuditExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return Err(DataFusionError::Internal(format!(
                "AuditExec takes one child but was given {}",
                children.len()
            )));
        }
        Ok(Arc::new(AuditExec {
            input: children.swap_remove(0),
            dir: self.dir.clone(),
            executor_id: self.executor_id.clone(),
            job_id: self.job_id.clone(),
            stage_id: self.stage_id,
            partition_ids: self.partition_ids.clone(),
        }))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(
                datafusion::physical_plan::ChildrenPropertiesMode::Recompute,
            ),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let identity = context.task_id().unwrap_or_default();
        let (stage_attempt, task_attempt) = parse_attempts(&identity).ok_or_else(|| {
            DataFusionError::Execution(format!(
                "AuditExec could not read the attempt numbers from the task id {identity:?}; \
                 it expects Ballista's form `TID JOB/STAGE.ATTEMPT/TASK.ATTEMPT`"
            ))
        })?;
        let input = self.input.execute(partition, context)?;
        let schema = input.schema();
        let issue_columns = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, field)| field.name().starts_with(ISSUE_PREFIX))
            .map(|(index, field)| (index, field.name().clone()))
            .collect();
        let audit = PartitionAudit {
            job_id: self.job_id.clone(),
            stage_id: self.stage_id,
            partition: self
                .partition_ids
                .get(partition)
                .copied()
                .unwrap_or(partition),
            stage_attempt,
            task_attempt,
            executor_id: self.executor_id.clone(),
            rows: 0,
            issue_cells: BTreeMap::new(),
        };
        Ok(Box::pin(AuditStream {
            input,
            schema,
            issue_columns,
            audit: Some(audit),
            dir: self.dir.clone(),
        }))
    }
}

/// Reads the stage and task attempts from Ballista's task id
/// `TID JOB/STAGE.STAGE_ATTEMPT/TASK.TASK_ATTEMPT` (`ballista-executor` 55).
fn parse_attempts(identity: &str) -> Option<(u32, u32)> {
    let rest = identity.strip_prefix("TID ")?;
    let mut parts = rest.rsplitn(3, '/');
    let task = parts.next()?;
    let stage = parts.next()?;
    let (_, task_attempt) = task.split_once('.')?;
    let (_, stage_attempt) = stage.split_once('.')?;
    Some((stage_attempt.parse().ok()?, task_attempt.parse().ok()?))
}

struct AuditStream {
    input: SendableRecordBatchStream,
    schema: SchemaRef,
    issue_columns: Vec<(usize, String)>,
    /// The counts so far; `None` once written or after an error.
    audit: Option<PartitionAudit>,
    dir: PathBuf,
}

impl AuditStream {
    fn count_batch(&mut self, batch: &RecordBatch) {
        let Some(audit) = &mut self.audit else {
            return;
        };
        audit.rows += batch.num_rows() as u64;
        for (index, name) in &self.issue_columns {
            let column = batch.column(*index);
            let cells = (column.len() - column.null_count()) as u64;
            *audit.issue_cells.entry(name.clone()).or_insert(0) += cells;
        }
    }
}

impl Stream for AuditStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.input.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(batch))) => {
                self.count_batch(&batch);
                Poll::Ready(Some(Ok(batch)))
            }
            Poll::Ready(Some(Err(error))) => {
                // A failed attempt writes nothing; the attempt that replaces it does.
                self.audit = None;
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => match self.audit.take() {
                Some(audit) => match audit.write(&self.dir) {
                    Ok(_) => Poll::Ready(None),
                    Err(error) => Poll::Ready(Some(Err(DataFusionError::Execution(format!(
                        "audit file of job {} stage {} partition {} could not be written to \
                         {}: {error}",
                        audit.job_id,
                        audit.stage_id,
                        audit.partition,
                        self.dir.display()
                    ))))),
                },
                None => Poll::Ready(None),
            },
            Poll::Pending => Poll::Pending,
        }
    }
}

impl RecordBatchStream for AuditStream {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_attempts;

    #[test]
    fn attempts_parse_from_task_id() {
        assert_eq!(parse_attempts("TID aBc12/3.1/7.2"), Some((1, 2)));
        assert_eq!(parse_attempts("TID aBc12/3/7.2"), None);
        assert_eq!(parse_attempts("task 7"), None);
    }
}
