//! The [`ModelImpute`] cleaner: fills missing numeric and categorical cells with a small
//! perceptron ([`governance_llm::TrainedImputer`]) that predicts each target column from the
//! other columns of the same row.
//!
//! For every target column with a null in the batch, the stage trains one model on the
//! batch's complete rows (target and every predictor present) and predicts the null cells.
//! All models train on the batch as it arrived, so the order of the targets does not change
//! the result. Each filled cell gets an `Imputed` issue whose message records that the cell
//! was null, with the model's confidence: `1 - rmse / std` on held-out rows with the row's
//! missing predictors hidden for a number, the class probability for a category. A prediction below `min_confidence` is not written and
//! the cell stays null. A target without enough complete rows is left as it is, with a
//! warning in the log.
//!
//! Numeric columns (any integer or float type) are standardised predictors; Utf8 columns are
//! one-hot predictors. A target must be Float64 or Utf8, the types the stage writes back.
//! NOTE: each batch trains its own models and nothing is kept between batches, so a batch
//! needs at least `model.min_train_rows` complete rows per target to be filled.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use governance_core::audit::AuditAction;
use governance_core::{
    Cleaner, Error, GovernedBatch, Issue, IssueKind, Result, Severity, Stage, StageContext,
};
use governance_llm::{
    ColumnValues, ImputationTable, ImputedValue, ImputerConfig, TableColumn, TrainedImputer,
};
use serde::{Deserialize, Serialize};

use crate::support::{ChangeCounts, column_index, text_values, with_columns};

const NAME: &str = "model_impute";

/// Configuration of [`ModelImpute`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelImputeConfig {
    /// Columns to fill, each Float64 or Utf8.
    pub targets: Vec<String>,
    /// Columns the models read, targets included; `None` reads every numeric and Utf8
    /// column.
    pub columns: Option<Vec<String>>,
    /// Smallest confidence, in [0, 1], at which a prediction is written.
    pub min_confidence: f32,
    /// The model and its training.
    pub model: ImputerConfig,
}

impl Default for ModelImputeConfig {
    fn default() -> Self {
        ModelImputeConfig {
            targets: Vec::new(),
            columns: None,
            min_confidence: 0.0,
            model: ImputerConfig::default(),
        }
    }
}

/// Fills nulls with per-batch cross-column models; see the module docs.
#[derive(Debug)]
pub struct ModelImpute {
    name: String,
    config: ModelImputeConfig,
}

impl ModelImpute {
    /// Creates the stage. Fails when no target is named, `min_confidence` is outside [0, 1]
    /// or the model config is invalid.
    pub fn new(config: ModelImputeConfig) -> Result<Self> {
        if config.targets.is_empty() {
            return Err(Error::config(
                NAME,
                "`targets` is empty; name at least one Float64 or Utf8 column to fill",
            ));
        }
        if !(0.0..=1.0).contains(&config.min_confidence) {
            return Err(Error::config(
                NAME,
                format!(
                    "`min_confidence` is {}; it must lie in [0, 1]",
                    config.min_confidence
                ),
            ));
        }
        config
            .model
            .validate()
            .map_err(|error| Error::config(NAME, format!("`model`: {error}")))?;
        Ok(ModelImpute {
            name: NAME.into(),
            config,
        })
    }

    /// Renames the stage.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Returns the configuration.
    pub fn config(&self) -> &ModelImputeConfig {
        &self.config
    }

    /// Resolves the model columns: the configured ones, or every numeric and Utf8 column,
    /// with the targets always included.
    fn model_columns(&self, batch: &GovernedBatch) -> Result<Vec<usize>> {
        let mut columns = match &self.config.columns {
            Some(names) => names
                .iter()
                .map(|name| column_index(batch, &self.name, "columns", name))
                .collect::<Result<Vec<usize>>>()?,
            None => batch
                .data()
                .schema()
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, field)| {
                    field.data_type().is_numeric() || field.data_type() == &DataType::Utf8
                })
                .map(|(index, _)| index)
                .collect(),
        };
        for target in &self.config.targets {
            let index = column_index(batch, &self.name, "targets", target)?;
            let data_type = batch.data().schema().field(index).data_type().clone();
            if data_type != DataType::Float64 && data_type != DataType::Utf8 {
                return Err(Error::config(
                    &self.name,
                    format!(
                        "target {target:?} is {data_type}; a target must be Float64 or Utf8, so \
                         convert it with the canonicalise stage's `numeric` setting first"
                    ),
                ));
            }
            if !columns.contains(&index) {
                columns.push(index);
            }
        }
        Ok(columns)
    }

    /// Reads the model columns of the batch as an imputation table.
    fn table(&self, batch: &GovernedBatch, columns: &[usize]) -> Result<ImputationTable> {
        let schema = batch.data().schema();
        let mut table_columns = Vec::with_capacity(columns.len());
        for &index in columns {
            let field = schema.field(index);
            let array = batch.data().column(index);
            let values = if field.data_type().is_numeric() {
                let numbers = cast(array, &DataType::Float64)?;
                let numbers = numbers
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .ok_or_else(|| {
                        Error::Internal("cast to Float64 returned another type".into())
                    })?;
                ColumnValues::Numeric(numbers.iter().collect())
            } else if field.data_type() == &DataType::Utf8 {
                let labels = text_values(array)?;
                ColumnValues::Categorical(
                    labels
                        .iter()
                        .map(|label| label.map(str::to_string))
                        .collect(),
                )
            } else {
                return Err(Error::config(
                    &self.name,
                    format!(
                        "column {:?} is {}; the model reads numeric and Utf8 columns only, so \
                         leave it out of `columns`",
                        field.name(),
                        field.data_type()
                    ),
                ));
            };
            table_columns.push(TableColumn {
                name: field.name().clone(),
                values,
            });
        }
        ImputationTable::new(table_columns).map_err(|error| Error::stage(&self.name, error))
    }
}

impl Stage for ModelImpute {
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "impute {} with cross-column models",
            self.config.targets.join(", ")
        )
    }
}

impl Cleaner for ModelImpute {
    fn clean(&mut self, mut batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        let columns = self.model_columns(&batch)?;
        let table = self.table(&batch, &columns)?;
        let mut replaced: Vec<ArrayRef> = batch.data().columns().to_vec();
        let mut changes = ChangeCounts::default();
        let mut issues = Vec::new();

        for target in &self.config.targets {
            let index = column_index(&batch, &self.name, "targets", target)?;
            if batch.data().column(index).null_count() == 0 {
                continue;
            }
            let model = match TrainedImputer::train(&self.config.model, &table, target) {
                Ok(model) => model,
                Err(governance_llm::Error::InvalidInput(message)) => {
                    tracing::warn!(stage = %self.name, target, %message, "column left unfilled");
                    continue;
                }
                Err(error) => return Err(Error::stage(&self.name, error)),
            };
            let imputations = model
                .impute(&table)
                .map_err(|error| Error::stage(&self.name, error))?;
            // The model is trained per batch, so its training-data hash is its version.
            ctx.audit(
                AuditAction::Decision,
                target,
                &format!(
                    "trained imputer data_sha256={} training_rows={}",
                    model
                        .training_data_hash()
                        .get(..12)
                        .unwrap_or(model.training_data_hash()),
                    model.metrics().training_rows
                ),
            )?;
            let metric = match (model.metrics().rmse, model.metrics().accuracy) {
                (Some(rmse), _) => format!("held-out rmse {rmse:.4}"),
                (None, Some(accuracy)) => format!("held-out accuracy {accuracy:.3}"),
                (None, None) => "no held-out measure".to_string(),
            };
            let kept: Vec<usize> = imputations
                .iter()
                .filter(|imputation| imputation.confidence >= self.config.min_confidence)
                .map(|imputation| imputation.row)
                .collect();
            let explanations = explain_imputations(&model, &table, &kept)
                .map_err(|error| Error::stage(&self.name, error))?;
            let mut numbers: Option<Vec<Option<f64>>> = None;
            let mut labels: Option<Vec<Option<String>>> = None;
            let mut filled = 0u64;
            for imputation in imputations {
                if imputation.confidence < self.config.min_confidence {
                    continue;
                }
                let text = match &imputation.value {
                    ImputedValue::Number(value) => {
                        let column = numbers.get_or_insert_with(|| float_options(&replaced[index]));
                        column[imputation.row] = Some(*value);
                        value.to_string()
                    }
                    ImputedValue::Category(label) => {
                        let column = match &mut labels {
                            Some(column) => column,
                            None => labels.insert(
                                text_values(&replaced[index])?
                                    .iter()
                                    .map(|label| label.map(str::to_string))
                                    .collect(),
                            ),
                        };
                        column[imputation.row] = Some(label.clone());
                        label.clone()
                    }
                };
                filled += 1;
                issues.push(
                    Issue::cell(
                        batch.row_ids().value(imputation.row),
                        target,
                        IssueKind::Imputed,
                        Severity::Info,
                        &self.name,
                        format!(
                            "the original value was null; a model over {} other columns \
                             predicted {text:?} ({metric}); moved most by {}",
                            model.predictors().len(),
                            explanations
                                .get(&imputation.row)
                                .map_or("no single column", String::as_str)
                        ),
                    )
                    .with_suggested(text)
                    .with_confidence(imputation.confidence),
                );
            }
            if let Some(numbers) = numbers {
                replaced[index] = Arc::new(Float64Array::from(numbers));
            }
            if let Some(labels) = labels {
                replaced[index] = Arc::new(StringArray::from(labels));
            }
            changes.add(target, filled);
        }

        if changes.total() > 0 {
            with_columns(&mut batch, replaced)?;
        }
        batch.issues.extend(issues);
        batch.provenance.stages.push(self.name.clone());
        changes.audit(ctx)?;
        Ok(batch)
    }
}

/// Returns, for each of `rows`, the predictors whose hiding moves the imputation most, as
/// `name +1.23` text, at most three of them, with the amounts in the target's units (a
/// probability for a categorical target). Rows where no predictor moves it get no entry.
fn explain_imputations(
    model: &TrainedImputer,
    table: &ImputationTable,
    rows: &[usize],
) -> governance_llm::Result<HashMap<usize, String>> {
    let contributions = model.contributions(table, rows)?;
    let names = model.predictors();
    Ok(rows
        .iter()
        .zip(contributions)
        .filter_map(|(&row, values)| {
            let mut ranked: Vec<(usize, f32)> = values
                .into_iter()
                .enumerate()
                .filter(|(_, value)| value.abs() > 0.0)
                .collect();
            ranked.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
            let named: Vec<String> = ranked
                .iter()
                .take(3)
                .map(|(index, value)| format!("{} {value:+.3}", names[*index]))
                .collect();
            (!named.is_empty()).then(|| (row, named.join(", ")))
        })
        .collect())
}

fn float_options(array: &ArrayRef) -> Vec<Option<f64>> {
    array
        .as_any()
        .downcast_ref::<Float64Array>()
        .map(|numbers| numbers.iter().collect())
        .unwrap_or_else(|| vec![None; array.len()])
}

#[cfg(test)]
mod tests {
    use governance_core::RowIdAllocator;

    use super::*;
    use crate::support::testing::{audit_details, batch, context, floats, texts};

    /// 300 rows where `no2 = 3 * co + 10` on weekdays and `+ 25` on "sunday", and `level` is
    /// "high" when `co > 4`; every 15th row has `no2` and `level` null.
    fn readings() -> GovernedBatch {
        let rows: usize = 300;
        let co: Vec<f64> = (0..rows).map(|i| (i % 9) as f64).collect();
        let day: Vec<&str> = (0..rows)
            .map(|i| {
                if i.is_multiple_of(4) {
                    "sunday"
                } else {
                    "monday"
                }
            })
            .collect();
        let no2: Vec<Option<f64>> = (0..rows)
            .map(|i| {
                let base = if i.is_multiple_of(4) { 25.0 } else { 10.0 };
                (!i.is_multiple_of(15)).then_some(3.0 * co[i] + base)
            })
            .collect();
        let level: Vec<Option<&str>> = (0..rows)
            .map(|i| (!i.is_multiple_of(15)).then_some(if co[i] > 4.0 { "high" } else { "low" }))
            .collect();
        let ids = RowIdAllocator::default();
        batch(
            vec![
                ("co", Arc::new(Float64Array::from(co)) as ArrayRef),
                ("day", Arc::new(StringArray::from(day)) as ArrayRef),
                ("no2", Arc::new(Float64Array::from(no2)) as ArrayRef),
                ("level", Arc::new(StringArray::from(level)) as ArrayRef),
            ],
            &ids,
        )
    }

    fn stage() -> ModelImpute {
        ModelImpute::new(ModelImputeConfig {
            targets: vec!["no2".into(), "level".into()],
            columns: None,
            min_confidence: 0.0,
            model: ImputerConfig {
                hidden: 16,
                epochs: 300,
                learning_rate: 0.01,
                batch_size: 64,
                ..ImputerConfig::default()
            },
        })
        .expect("valid")
    }

    #[test]
    fn numeric_and_categorical_cells_are_filled() {
        let mut ctx = context(NAME);
        let output = stage().clean(readings(), &mut ctx).expect("clean");

        let no2 = floats(&output, "no2");
        let level = texts(&output, "level");
        assert!(no2.iter().all(Option::is_some));
        assert!(level.iter().all(Option::is_some));
        let errors: Vec<f64> = (0..300usize)
            .step_by(15)
            .map(|row| {
                let base = if row.is_multiple_of(4) { 25.0 } else { 10.0 };
                let expected = 3.0 * (row % 9) as f64 + base;
                (no2[row].expect("filled") - expected).abs()
            })
            .collect();
        // `no2` spans 10 to 49; the column mean would miss by about 9 on average.
        let mean_error = errors.iter().sum::<f64>() / errors.len() as f64;
        assert!(
            mean_error < 1.5,
            "mean absolute error {mean_error}: {errors:?}"
        );
        let right = (0..300)
            .step_by(15)
            .filter(|&row| {
                let expected = if (row % 9) > 4 { "high" } else { "low" };
                level[row].as_deref() == Some(expected)
            })
            .count();
        assert!(right >= 18, "{right} of 20 levels right");

        let issues = output.issues.issues();
        assert_eq!(issues.len(), 40);
        assert!(issues.iter().all(|issue| issue.kind == IssueKind::Imputed));
        assert!(
            issues[0].message.contains("the original value was null"),
            "{}",
            issues[0].message
        );
        assert!(issues.iter().all(|issue| issue.confidence > 0.0));
        // Each fill names the predictors that moved it most, and `no2` depends on `co` and `day`.
        for issue in issues
            .iter()
            .filter(|issue| issue.column.as_deref() == Some("no2"))
        {
            let Some((_, top)) = issue.message.split_once("moved most by ") else {
                panic!("no explanation in {:?}", issue.message);
            };
            let first = top.split(' ').next().unwrap_or_default();
            assert!(["co", "day"].contains(&first), "{}", issue.message);
        }
        let details = audit_details(&ctx);
        assert_eq!(details.len(), 3, "{details:?}");
        for decision in &details[..2] {
            assert!(
                decision.starts_with("trained imputer data_sha256="),
                "{decision}"
            );
        }
        assert_eq!(details[2], "count=40 level=20 no2=20");
    }

    #[test]
    fn same_seed_gives_same_fills() {
        let first = stage()
            .clean(readings(), &mut context(NAME))
            .expect("first");
        let second = stage()
            .clean(readings(), &mut context(NAME))
            .expect("second");
        assert_eq!(floats(&first, "no2"), floats(&second, "no2"));
        assert_eq!(texts(&first, "level"), texts(&second, "level"));
    }

    #[test]
    fn high_min_confidence_fills_nothing() {
        let config = ModelImputeConfig {
            min_confidence: 1.0,
            ..stage().config().clone()
        };
        let output = ModelImpute::new(config)
            .expect("valid")
            .clean(readings(), &mut context(NAME))
            .expect("clean");
        assert_eq!(
            floats(&output, "no2")
                .iter()
                .filter(|v| v.is_none())
                .count(),
            20
        );
    }

    #[test]
    fn few_complete_rows_leave_column_unfilled() {
        let ids = RowIdAllocator::default();
        let input = batch(
            vec![
                (
                    "co",
                    Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])) as ArrayRef,
                ),
                (
                    "no2",
                    Arc::new(Float64Array::from(vec![Some(1.0), None, Some(3.0)])) as ArrayRef,
                ),
            ],
            &ids,
        );
        let config = ModelImputeConfig {
            targets: vec!["no2".into()],
            ..ModelImputeConfig::default()
        };
        let output = ModelImpute::new(config)
            .expect("valid")
            .clean(input, &mut context(NAME))
            .expect("clean");
        assert_eq!(floats(&output, "no2"), vec![Some(1.0), None, Some(3.0)]);
        assert!(output.issues.is_empty());
    }

    #[test]
    fn invalid_targets_are_rejected() {
        assert!(ModelImpute::new(ModelImputeConfig::default()).is_err());
        let config = ModelImputeConfig {
            targets: vec!["co".into()],
            min_confidence: 1.5,
            ..ModelImputeConfig::default()
        };
        let error = ModelImpute::new(config).expect_err("1.5");
        assert!(
            error.to_string().contains("`min_confidence` is 1.5"),
            "{error}"
        );

        let config = ModelImputeConfig {
            targets: vec!["missing".into()],
            ..ModelImputeConfig::default()
        };
        let error = ModelImpute::new(config)
            .expect("valid")
            .clean(readings(), &mut context(NAME))
            .expect_err("absent target");
        assert!(
            error
                .to_string()
                .contains("columns are: co, day, no2, level"),
            "{error}"
        );
    }
}
