//! k-anonymity of a table about to be released, and a greedy generaliser that reaches it.
//!
//! A table is k-anonymous over its quasi-identifiers (columns such as age, postcode and
//! visit time that identify people when combined with outside data) when every combination
//! of their values that occurs, an equivalence class, occurs in at least k rows.
//! [`k_anonymity`] reports k and the class sizes. [`anonymize`] climbs one generalisation
//! hierarchy per column ([`Hierarchy`]) and suppresses the rows left in classes below k.
//!
//! # Algorithm
//!
//! Every column starts at level 0 (its values as written). While more rows are in classes
//! smaller than k than [`KAnonymityConfig::max_suppressed_fraction`] allows, one column
//! climbs one level. The chosen column is the one that moves the most rows out of small
//! classes per unit of added information loss. When no single step moves any row, it is the
//! column whose step loses least. Then the rows still in small classes are suppressed. The result is a local
//! optimum, like other greedy full-domain generalisers; an optimal search is exponential in
//! the number of columns.
//!
//! # Information loss
//!
//! [`InformationLoss::ncp`] is the normalised certainty penalty (NCP), in 0..=1, averaged
//! over every quasi-identifier cell of the input. For a cell:
//!
//! - a numeric band or a time unit costs its width divided by the column's range;
//! - a string prefix costs the share of the column's distinct values that start with it, or 0
//!   when only one does;
//! - `*` (the top of every hierarchy) and every cell of a suppressed row cost 1;
//! - values at level 0 and nulls cost 0.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Int64Array, RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use governance_secure::kanon::{anonymize, Hierarchy, KAnonymityConfig, QuasiIdentifier};
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("age", DataType::Int64, false),
//!     Field::new("postcode", DataType::Utf8, false),
//! ]));
//! let batch = RecordBatch::try_new(schema, vec![
//!     Arc::new(Int64Array::from(vec![31, 34, 37, 52, 55, 58])),
//!     Arc::new(StringArray::from(vec!["100080", "100081", "100085", "200030", "200031", "200032"])),
//! ])?;
//! let config = KAnonymityConfig::new(3, vec![
//!     QuasiIdentifier::new("age", Hierarchy::numeric_bands(5.0)),
//!     QuasiIdentifier::new("postcode", Hierarchy::Prefix),
//! ]);
//! let result = anonymize(&batch, &config)?;
//! assert_eq!(result.report.k, Some(3));
//! assert!(result.suppressed_rows.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod levels;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Schema};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use levels::ColumnLevels;

/// Component name used in errors.
const COMPONENT: &str = "k-anonymity";

/// Generalisation hierarchy of a column, climbed one level at a time. The top level of every
/// hierarchy replaces all values by `*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Hierarchy {
    /// Numbers to bands `[low, high)` aligned at multiples of the width. Level 1 has
    /// `base_width`, each further level `factor` times the previous width, up to `levels`
    /// levels of bands; the level above is `*`.
    NumericBands {
        /// Width of the bands at level 1, in the column's unit.
        base_width: f64,
        /// Growth of the width per level; above 1.
        factor: f64,
        /// Number of band levels.
        levels: u32,
    },
    /// Strings to prefixes: level l keeps the first `n - l` characters, where n is the
    /// longest value, and marks a shortened value with `*`.
    Prefix,
    /// Timestamps (any unit) and dates to the start of their minute, hour, day, month and
    /// year, in UTC wall-clock time.
    Time,
    /// Values as written, or `*`: for categories without a natural order.
    Categorical,
}

impl Hierarchy {
    /// Returns bands of `base_width` doubling 6 times, such as 5, 10, 20, 40, 80, 160 years.
    pub fn numeric_bands(base_width: f64) -> Self {
        Hierarchy::NumericBands {
            base_width,
            factor: 2.0,
            levels: 6,
        }
    }
}

/// A quasi-identifier column and its hierarchy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuasiIdentifier {
    /// Column name.
    pub column: String,
    /// Generalisation hierarchy of the column.
    pub hierarchy: Hierarchy,
}

impl QuasiIdentifier {
    /// Declares `column` a quasi-identifier generalised by `hierarchy`.
    pub fn new(column: impl Into<String>, hierarchy: Hierarchy) -> Self {
        QuasiIdentifier {
            column: column.into(),
            hierarchy,
        }
    }
}

/// Target and columns of [`anonymize`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KAnonymityConfig {
    /// Smallest class size to reach; at least 1.
    pub k: usize,
    /// Quasi-identifier columns with their hierarchies.
    pub quasi_identifiers: Vec<QuasiIdentifier>,
    /// Largest share of rows, in 0..=1, that may be suppressed instead of generalising
    /// further. Default 0.05.
    #[serde(default = "default_max_suppressed_fraction")]
    pub max_suppressed_fraction: f64,
}

fn default_max_suppressed_fraction() -> f64 {
    0.05
}

impl KAnonymityConfig {
    /// Creates a config with the default suppression limit of 5% of the rows.
    pub fn new(k: usize, quasi_identifiers: Vec<QuasiIdentifier>) -> Self {
        KAnonymityConfig {
            k,
            quasi_identifiers,
            max_suppressed_fraction: default_max_suppressed_fraction(),
        }
    }
}

/// Sizes of the equivalence classes of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KReport {
    /// Rows counted.
    pub rows: usize,
    /// Smallest class size; `None` for a table without rows.
    pub k: Option<usize>,
    /// Number of classes.
    pub classes: usize,
    /// Number of classes of each size, by size.
    pub class_sizes: BTreeMap<usize, usize>,
}

impl KReport {
    /// Returns the number of rows in classes smaller than `k`.
    pub fn rows_below(&self, k: usize) -> usize {
        self.class_sizes
            .range(..k)
            .map(|(size, count)| size * count)
            .sum()
    }
}

/// Generalisation chosen for one column, and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnLoss {
    /// Level reached, from 0 (as written).
    pub level: u32,
    /// Top level of the hierarchy (`*`).
    pub max_level: u32,
    /// The level in words, such as `band width 20`, `prefix of 3 characters` or `day`.
    pub description: String,
    /// Normalised certainty penalty of the column's cells, suppressed rows included.
    pub ncp: f64,
}

/// Information lost by [`anonymize`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InformationLoss {
    /// Per quasi-identifier column.
    pub columns: BTreeMap<String, ColumnLoss>,
    /// Rows suppressed.
    pub suppressed_rows: usize,
    /// Normalised certainty penalty over all quasi-identifier cells, in 0..=1.
    pub ncp: f64,
}

/// Output of [`anonymize`].
#[derive(Debug, Clone)]
pub struct Anonymized {
    /// The rows that were not suppressed, in input order, with each generalised
    /// quasi-identifier column as Utf8 (columns left at level 0 keep their type).
    pub released: RecordBatch,
    /// Indexes, in the input batch, of the suppressed rows: quarantine them with the reason
    /// that their equivalence class was smaller than k.
    pub suppressed_rows: Vec<usize>,
    /// Class sizes of the released rows.
    pub report: KReport,
    /// Whether the suppressed rows fit within [`KAnonymityConfig::max_suppressed_fraction`].
    /// False only when the whole table has fewer than k rows: every row is then suppressed,
    /// because the released rows are always k-anonymous.
    pub within_suppression_limit: bool,
    /// Generalisation per column and the information lost.
    pub loss: InformationLoss,
}

/// Reports k and the class sizes of `batch` over `columns`, with values as written. Nulls
/// form a class value of their own.
pub fn k_anonymity(batch: &RecordBatch, columns: &[&str]) -> Result<KReport> {
    let hierarchies: Vec<QuasiIdentifier> = columns
        .iter()
        .map(|column| QuasiIdentifier::new(*column, Hierarchy::Categorical))
        .collect();
    let mut levels = prepare(batch, &hierarchies)?;
    let zeros = vec![0; levels.len()];
    Ok(report(
        &class_sizes(&mut levels, &zeros, None),
        batch.num_rows(),
    ))
}

/// Generalises and suppresses `batch` until it is k-anonymous over the configured
/// quasi-identifiers; see the module docs for the algorithm and the loss measure.
///
/// Fails when k is 0, the suppression limit is outside 0..=1, a column is missing, listed
/// twice or of a type its hierarchy cannot handle, or a hierarchy's parameters are invalid.
pub fn anonymize(batch: &RecordBatch, config: &KAnonymityConfig) -> Result<Anonymized> {
    if config.k == 0 {
        return Err(Error::config(
            COMPONENT,
            "k is 0; use a k of at least 1, such as 5",
        ));
    }
    let fraction = config.max_suppressed_fraction;
    if !(0.0..=1.0).contains(&fraction) {
        return Err(Error::config(
            COMPONENT,
            format!("max_suppressed_fraction is {fraction}; use a share in 0..=1, such as 0.05"),
        ));
    }
    let rows = batch.num_rows();
    let max_suppressed = (fraction * rows as f64).floor() as usize;
    let mut levels = prepare(batch, &config.quasi_identifiers)?;
    let mut chosen = vec![0u32; levels.len()];

    let mut below = violating_rows(&mut levels, &chosen, config.k);
    while below > max_suppressed {
        let mut best: Option<(usize, f64, f64)> = None;
        for column in 0..levels.len() {
            if chosen[column] >= levels[column].max_level() {
                continue;
            }
            chosen[column] += 1;
            let after = violating_rows(&mut levels, &chosen, config.k);
            let added_loss =
                levels[column].ncp(chosen[column]) - levels[column].ncp(chosen[column] - 1);
            chosen[column] -= 1;
            let gain = below.saturating_sub(after) as f64;
            let score = gain / (added_loss.max(0.0) + 1e-9);
            let better = match best {
                None => true,
                Some((_, best_score, best_loss)) => {
                    score > best_score || (score == best_score && added_loss < best_loss)
                }
            };
            if better {
                best = Some((column, score, added_loss));
            }
        }
        let Some((column, _, _)) = best else {
            break;
        };
        chosen[column] += 1;
        tracing::debug!(
            column = levels[column].name(),
            level = chosen[column],
            "k-anonymity climbed a generalisation level"
        );
        below = violating_rows(&mut levels, &chosen, config.k);
    }

    let suppressed_rows = small_class_rows(&mut levels, &chosen, config.k);
    let within_suppression_limit = suppressed_rows.len() <= max_suppressed;
    let mut keep = vec![true; rows];
    for &row in &suppressed_rows {
        keep[row] = false;
    }
    let sizes = class_sizes(&mut levels, &chosen, Some(&keep));
    let released = release(batch, &mut levels, &chosen, &keep)?;
    let loss = information_loss(&mut levels, &chosen, &keep);
    tracing::info!(
        k = config.k,
        suppressed = suppressed_rows.len(),
        ncp = loss.ncp,
        "k-anonymity generalisation finished"
    );
    Ok(Anonymized {
        released,
        report: report(&sizes, rows - suppressed_rows.len()),
        suppressed_rows,
        within_suppression_limit,
        loss,
    })
}

fn prepare(
    batch: &RecordBatch,
    quasi_identifiers: &[QuasiIdentifier],
) -> Result<Vec<ColumnLevels>> {
    if quasi_identifiers.is_empty() {
        return Err(Error::config(
            COMPONENT,
            "no quasi-identifier columns are declared; list the columns that identify people \
             in combination, such as age and postcode",
        ));
    }
    let schema = batch.schema();
    let mut seen = Vec::new();
    quasi_identifiers
        .iter()
        .map(|quasi| {
            if seen.contains(&quasi.column.as_str()) {
                return Err(Error::config(
                    COMPONENT,
                    format!(
                        "the column {:?} is listed twice; list each column once",
                        quasi.column
                    ),
                ));
            }
            seen.push(quasi.column.as_str());
            let index = schema.index_of(&quasi.column).map_err(|_| {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                Error::config(
                    COMPONENT,
                    format!(
                        "the quasi-identifier column {:?} is not in the batch; its columns are {}",
                        quasi.column,
                        names.join(", ")
                    ),
                )
            })?;
            ColumnLevels::new(&quasi.column, batch.column(index), &quasi.hierarchy)
        })
        .collect()
}

/// Assigns each row that `keep` marks (all when `None`) to its class at the chosen levels.
/// Returns the class of each row (`None` for rows left out) and the size of each class.
fn classes(
    levels: &mut [ColumnLevels],
    chosen: &[u32],
    keep: Option<&[bool]>,
) -> (Vec<Option<u32>>, Vec<usize>) {
    let rows = levels.first().map_or(0, ColumnLevels::rows);
    for (column, &level) in levels.iter_mut().zip(chosen) {
        column.ensure(level);
    }
    let codes: Vec<&[u32]> = levels
        .iter()
        .zip(chosen)
        .map(|(column, &level)| column.codes(level))
        .collect();

    let mut index: HashMap<Vec<u32>, u32> = HashMap::new();
    let mut sizes: Vec<usize> = Vec::new();
    let mut assignment = Vec::with_capacity(rows);
    for row in 0..rows {
        if keep.is_some_and(|keep| !keep[row]) {
            assignment.push(None);
            continue;
        }
        let key: Vec<u32> = codes.iter().map(|column| column[row]).collect();
        let class = *index.entry(key).or_insert_with(|| {
            sizes.push(0);
            sizes.len() as u32 - 1
        });
        sizes[class as usize] += 1;
        assignment.push(Some(class));
    }
    (assignment, sizes)
}

fn class_sizes(levels: &mut [ColumnLevels], chosen: &[u32], keep: Option<&[bool]>) -> Vec<usize> {
    classes(levels, chosen, keep).1
}

fn violating_rows(levels: &mut [ColumnLevels], chosen: &[u32], k: usize) -> usize {
    class_sizes(levels, chosen, None)
        .into_iter()
        .filter(|&size| size < k)
        .sum()
}

/// Returns the rows in classes smaller than `k`, in ascending order.
fn small_class_rows(levels: &mut [ColumnLevels], chosen: &[u32], k: usize) -> Vec<usize> {
    let (assignment, sizes) = classes(levels, chosen, None);
    assignment
        .into_iter()
        .enumerate()
        .filter_map(|(row, class)| {
            let class = class?;
            (sizes[class as usize] < k).then_some(row)
        })
        .collect()
}

fn report(sizes: &[usize], rows: usize) -> KReport {
    let mut class_sizes = BTreeMap::new();
    for &size in sizes {
        *class_sizes.entry(size).or_insert(0) += 1;
    }
    KReport {
        rows,
        k: sizes.iter().copied().min(),
        classes: sizes.len(),
        class_sizes,
    }
}

fn release(
    batch: &RecordBatch,
    levels: &mut [ColumnLevels],
    chosen: &[u32],
    keep: &[bool],
) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for (column, &level) in levels.iter_mut().zip(chosen) {
        if level == 0 {
            continue;
        }
        column.ensure(level);
        let index = schema.index_of(column.name())?;
        let labels: StringArray = column.labels(level).into_iter().collect();
        fields[index] = Field::new(column.name(), DataType::Utf8, true)
            .with_metadata(fields[index].metadata().clone());
        columns[index] = Arc::new(labels);
    }
    let generalised = RecordBatch::try_new(
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
        columns,
    )?;
    Ok(filter_record_batch(
        &generalised,
        &BooleanArray::from(keep.to_vec()),
    )?)
}

fn information_loss(levels: &mut [ColumnLevels], chosen: &[u32], keep: &[bool]) -> InformationLoss {
    let rows = keep.len();
    let suppressed = keep.iter().filter(|kept| !**kept).count();
    let mut columns = BTreeMap::new();
    let mut total = 0.0;
    for (column, &level) in levels.iter_mut().zip(chosen) {
        column.ensure(level);
        let kept_penalty: f64 = column
            .cell_penalties(level)
            .iter()
            .zip(keep)
            .filter(|(_, kept)| **kept)
            .map(|(penalty, _)| penalty)
            .sum();
        let ncp = if rows == 0 {
            0.0
        } else {
            (kept_penalty + suppressed as f64) / rows as f64
        };
        total += ncp;
        columns.insert(
            column.name().to_string(),
            ColumnLoss {
                level,
                max_level: column.max_level(),
                description: column.describe(level),
                ncp,
            },
        );
    }
    InformationLoss {
        ncp: if levels.is_empty() {
            0.0
        } else {
            total / levels.len() as f64
        },
        columns,
        suppressed_rows: suppressed,
    }
}
