//! [`ColumnChain`]: compiles the column-level stages of a chain into one DataFusion plan.
//!
//! # Output and issues
//!
//! The plan returns every input column in input order, each in its form after the stages
//! (canonical numbers, trimmed text, nulled or corrected cells, masked text), followed by
//! the columns the stages add, in the order they were added:
//!
//! | added column | type | contents |
//! |---|---|---|
//! | `timestamp` (the configured output) | Timestamp(ms) | the timestamp built from date parts |
//! | `issues__STAGE__COLUMN` | List(Struct) | the issues that stage `STAGE` logged on cell `COLUMN` of the row |
//! | `pii_kinds__COLUMN` | Utf8 | kinds of personal data found in `COLUMN`, comma-separated |
//! | a name you choose | List(Utf8) or Float64 | blocking keys or similarity |
//!
//! An issue column maps to the [`governance_core::IssueLog`] of a `GovernedBatch` that the
//! local chain produces. A non-null cell of `issues__STAGE__COLUMN` lists each
//! [`governance_core::Issue`] of that row whose `column` is `COLUMN` and that stage `STAGE`
//! logged, in log order. Each list item is a struct with the issue's `kind` and `severity`
//! (the snake_case names of [`governance_core::IssueKind::as_str`] and
//! [`governance_core::Severity::as_str`]), `message`, `suggested` (null when the stage
//! suggested no value) and `confidence` (Float32), typed as
//! [`crate::kernel::issue_list_type`]. A row without such issues is null. `STAGE` is
//! `canonicalise`, `rules_N` for the N-th rule of the rules stage (counted from 0, in config
//! order), `checks_N` for the N-th rule of a check suite and `guard` for masking. Row ids are
//! not carried: the plan keeps no row order, so compare by key columns or by sorted rows.

use std::collections::BTreeMap;
use std::path::PathBuf;

use arrow::datatypes::SchemaRef;
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{Expr, ident};
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use governance_clean::checks::SuiteConfig;
use governance_clean::{CanonicaliseConfig, RuleAction, RulesConfig};
use governance_fuse::er::block::KeyFunction;
use governance_fuse::er::compare::Comparator;
use governance_secure::{DetectorConfig, MaskConfig, MaskOperator, PiiKind};

use crate::kernel::{KernelOutput, KeySource, ScalarKernel};
use crate::scalar::call;

/// The input files of a chain. In-memory tables cannot be sent to Ballista executors, so
/// inputs are files that every executor can read at the same path.
#[derive(Debug, Clone, PartialEq)]
pub enum ChainInput {
    /// A Parquet file, or a folder of Parquet files.
    Parquet(PathBuf),
    /// A CSV file with a header row, or a folder of such files. Column types are inferred
    /// from every row, so a column with a placeholder such as `NA` anywhere is read as text
    /// and left for the canonicalise stage to parse. This reads the files twice.
    Csv(PathBuf),
    /// CSV files with a header row, read with the given schema.
    CsvWithSchema(PathBuf, SchemaRef),
}

impl ChainInput {
    /// Returns the input as a DataFrame of `ctx`, before any stage.
    pub async fn read(&self, ctx: &SessionContext) -> Result<DataFrame> {
        match self {
            ChainInput::Parquet(path) => {
                ctx.read_parquet(path_text(path)?, ParquetReadOptions::default())
                    .await
            }
            ChainInput::Csv(path) => {
                let options = CsvReadOptions::new().schema_infer_max_records(usize::MAX);
                ctx.read_csv(path_text(path)?, options).await
            }
            ChainInput::CsvWithSchema(path, schema) => {
                let options = CsvReadOptions::new().schema(schema);
                ctx.read_csv(path_text(path)?, options).await
            }
        }
    }
}

/// A column of the plan's output that a stage added.
#[derive(Debug, Clone)]
struct Added {
    name: String,
    expr: Expr,
}

/// Builds a DataFusion plan from the configs of column-level stages. See the module docs
/// for the output columns and how issues map to the local chain's issue log.
///
/// Stages apply in the order they are added, each to the columns as the stages before it
/// left them, as in the local chain.
#[derive(Debug, Clone)]
pub struct ColumnChain {
    input: ChainInput,
    /// Current expression of each input column that a stage changed.
    changed: BTreeMap<String, Expr>,
    added: Vec<Added>,
}

impl ColumnChain {
    /// Starts a chain over `input`.
    pub fn new(input: ChainInput) -> Self {
        ColumnChain {
            input,
            changed: BTreeMap::new(),
            added: Vec::new(),
        }
    }

    /// Returns the current expression of `column`.
    fn current(&self, column: &str) -> Expr {
        self.changed
            .get(column)
            .cloned()
            .unwrap_or_else(|| ident(column))
    }

    fn add(&mut self, name: String, expr: Expr) -> Result<()> {
        if self.added.iter().any(|added| added.name == name) {
            return plan_err!(
                "the chain already has an output column {name:?}; give the step another name"
            );
        }
        self.added.push(Added { name, expr });
        Ok(())
    }

    /// Adds the canonicalise stage. `numeric` columns become Float64 with issue columns
    /// `issues__canonicalise__COLUMN`, and `trim` columns lose surrounding whitespace. A
    /// configured timestamp is added with its issue column.
    pub fn canonicalise(mut self, config: &CanonicaliseConfig) -> Result<Self> {
        // Validates the combination the same way the local stage does.
        governance_clean::Canonicalise::new(config.clone())
            .map_err(|error| DataFusionError::Plan(error.to_string()))?;
        for column in &config.numeric {
            let kernel = ScalarKernel::CanonicalNumber {
                na_tokens: config.na_tokens.clone(),
                units: config.units.clone(),
                output: KernelOutput::Value,
            };
            let before = self.current(column);
            let issues = call(
                kernel.clone().with_output(KernelOutput::Issue),
                vec![before.clone()],
            )?;
            self.add(issue_column("canonicalise", column), issues)?;
            self.changed
                .insert(column.clone(), call(kernel, vec![before])?);
        }
        for column in &config.trim {
            let trimmed = call(ScalarKernel::Trim, vec![self.current(column)])?;
            self.changed.insert(column.clone(), trimmed);
        }
        if let Some(timestamp) = &config.timestamp {
            let mut parts = vec![
                self.current(&timestamp.year),
                self.current(&timestamp.month),
                self.current(&timestamp.day),
            ];
            if let Some(hour) = &timestamp.hour {
                parts.push(self.current(hour));
            }
            let kernel = ScalarKernel::Timestamp {
                timestamp: timestamp.clone(),
                output: KernelOutput::Value,
            };
            let issues = call(
                kernel.clone().with_output(KernelOutput::Issue),
                parts.clone(),
            )?;
            self.add(timestamp.output.clone(), call(kernel, parts)?)?;
            self.add(issue_column("canonicalise", &timestamp.output), issues)?;
        }
        Ok(self)
    }

    /// Adds the rules stage: one issue column `issues__rules_N__COLUMN` per rule. A rule
    /// with the action `null_out` or `correct` also changes its column.
    pub fn rules(mut self, config: &RulesConfig) -> Result<Self> {
        governance_clean::Rules::new(config.clone())
            .map_err(|error| DataFusionError::Plan(error.to_string()))?;
        for (position, rule) in config.rules.iter().enumerate() {
            let kernel = ScalarKernel::Rule {
                rule: rule.clone(),
                max_edit_distance: config.max_edit_distance,
                output: KernelOutput::Issue,
            };
            let before = self.current(&rule.column);
            let issues = call(kernel.clone(), vec![before.clone()])?;
            self.add(
                issue_column(&format!("rules_{position}"), &rule.column),
                issues,
            )?;
            if rule.action != RuleAction::Flag {
                let value = call(kernel.with_output(KernelOutput::Value), vec![before])?;
                self.changed.insert(rule.column.clone(), value);
            }
        }
        Ok(self)
    }

    /// Adds the cell-level rules of a check suite, one issue column `issues__checks_N__COLUMN`
    /// per rule, named after its first column. Fails on whole-table rules, which a row-wise
    /// plan cannot decide; run those with the check suite stage.
    pub fn checks(mut self, config: &SuiteConfig) -> Result<Self> {
        for (position, rule) in config.rules.iter().enumerate() {
            let columns = rule.check.columns();
            let Some(first) = columns.first() else {
                return plan_err!(
                    "check rule {position} ({}) reads no column, so it is not cell-level; run \
                     it with the check suite stage",
                    rule.display_name()
                );
            };
            let args = columns.iter().map(|column| self.current(column)).collect();
            let issues = call(ScalarKernel::Check { rule: rule.clone() }, args)?;
            self.add(issue_column(&format!("checks_{position}"), first), issues)?;
        }
        Ok(self)
    }

    /// Adds a column `pii_kinds__COLUMN` with the kinds of personal data found in the text
    /// of `column`.
    pub fn pii_kinds(mut self, column: &str, detector: &DetectorConfig) -> Result<Self> {
        let kinds = call(
            ScalarKernel::PiiKinds {
                detector: detector.clone(),
            },
            vec![self.current(column)],
        )?;
        self.add(format!("pii_kinds__{column}"), kinds)?;
        Ok(self)
    }

    /// Masks the personal data found in the free text of `column`, as the guard does, with
    /// the guard's issues in `issues__guard__COLUMN`. Keyed operators read their key from
    /// `key` on each executor.
    pub fn mask_text(
        mut self,
        column: &str,
        detector: &DetectorConfig,
        mask: &MaskConfig,
        key: Option<KeySource>,
    ) -> Result<Self> {
        let kernel = ScalarKernel::PiiMask {
            detector: detector.clone(),
            mask: mask.clone(),
            key,
            output: KernelOutput::Value,
        };
        let before = self.current(column);
        let issues = call(
            kernel.clone().with_output(KernelOutput::Issue),
            vec![before.clone()],
        )?;
        self.add(issue_column("guard", column), issues)?;
        self.changed
            .insert(column.to_string(), call(kernel, vec![before])?);
        Ok(self)
    }

    /// Masks every cell of `column` as one value of `kind` with `operator`, such as keyed
    /// pseudonyms. A cell whose operator fails becomes null with an issue in
    /// `issues__guard__COLUMN`.
    pub fn mask_value(
        mut self,
        column: &str,
        kind: PiiKind,
        operator: MaskOperator,
        key: Option<KeySource>,
    ) -> Result<Self> {
        let kernel = ScalarKernel::MaskValue {
            kind,
            operator,
            key,
            output: KernelOutput::Value,
        };
        let before = self.current(column);
        let issues = call(
            kernel.clone().with_output(KernelOutput::Issue),
            vec![before.clone()],
        )?;
        self.add(issue_column("guard", column), issues)?;
        self.changed
            .insert(column.to_string(), call(kernel, vec![before])?);
        Ok(self)
    }

    /// Adds a column `name` with the blocking keys of `function` over `columns`.
    pub fn blocking_key(
        mut self,
        name: &str,
        columns: &[&str],
        function: KeyFunction,
    ) -> Result<Self> {
        let args = columns.iter().map(|column| self.current(column)).collect();
        let keys = call(ScalarKernel::BlockingKey { function }, args)?;
        self.add(name.to_string(), keys)?;
        Ok(self)
    }

    /// Adds a column `name` with the similarity of `left` and `right` under `comparator`.
    pub fn similarity(
        mut self,
        name: &str,
        left: &str,
        right: &str,
        comparator: Comparator,
    ) -> Result<Self> {
        let similarity = call(
            ScalarKernel::Similarity { comparator },
            vec![self.current(left), self.current(right)],
        )?;
        self.add(name.to_string(), similarity)?;
        Ok(self)
    }

    /// Returns the names of the output columns that the stages added, in order.
    pub fn added_columns(&self) -> Vec<String> {
        self.added.iter().map(|added| added.name.clone()).collect()
    }

    /// Reads the input in `ctx` and returns the plan as a DataFrame. Fails when a stage
    /// names a column that the input lacks.
    pub async fn plan(&self, ctx: &SessionContext) -> Result<DataFrame> {
        let input = self.input.read(ctx).await?;
        let names: Vec<String> = input
            .schema()
            .fields()
            .iter()
            .map(|field| field.name().clone())
            .collect();
        if let Some(missing) = self.changed.keys().find(|name| !names.contains(name)) {
            return plan_err!(
                "a stage changes column {missing:?}, which the input lacks; the input has {}",
                names.join(", ")
            );
        }
        let mut select: Vec<Expr> = names
            .iter()
            .map(|name| match self.changed.get(name) {
                Some(expr) => expr.clone().alias(name),
                None => ident(name),
            })
            .collect();
        select.extend(
            self.added
                .iter()
                .map(|added| added.expr.clone().alias(&added.name)),
        );
        input.select(select)
    }
}

/// Returns the name of the issue column of `stage` on `column`.
pub fn issue_column(stage: &str, column: &str) -> String {
    format!("issues__{stage}__{column}")
}

fn path_text(path: &std::path::Path) -> Result<&str> {
    path.to_str().ok_or_else(|| {
        DataFusionError::Plan(format!(
            "input path {} is not valid UTF-8; rename it",
            path.display()
        ))
    })
}
