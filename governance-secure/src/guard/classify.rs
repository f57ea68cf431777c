//! Column-level classification in the guard: which visible columns hold a kind of personal
//! data as whole values, masking them through the guard's [`Masker`], and generalising
//! latitude and longitude pairs to grid cells.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, new_null_array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use governance_core::semantic::MASKING_KEY;
use governance_core::{Error, Result, Semantic, Sensitivity};
use serde::{Deserialize, Serialize};

use super::is_text_type;
use crate::detect::column::pair_coordinates;
use crate::detect::{
    ColumnClassification, ColumnClassifier, ColumnClassifierConfig, CoordinateAxis, CoordinatePair,
    DetectorConfig, PiiKind,
};
use crate::generalize::grid_cell;
use crate::mask::MaskOperator;
use crate::masker::{MaskFallback, Masker};

/// Column-level classification settings of a [`PiiGuard`](super::PiiGuard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ColumnGuardConfig {
    /// Classifies each visible column the first time it reaches the guard, from its name and a
    /// sample of its values, and annotates and audits the verdict. Default true.
    pub enabled: bool,
    /// Masks every value of a column classified as a kind of personal data with the operator
    /// the mask config sets for that kind, instead of scanning it as free text. Applies only
    /// where the access decision masks personal data. Default true.
    pub mask_whole_values: bool,
    /// Replaces the latitude and longitude of each classified coordinate column pair by the
    /// centre of the grid cell of this many metres that contains the point. `None`, the
    /// default, leaves coordinates unchanged (annotated and audited only).
    pub coordinate_cell_m: Option<f64>,
    /// Sample size and minimum confidence of the classifier.
    pub classifier: ColumnClassifierConfig,
}

impl Default for ColumnGuardConfig {
    fn default() -> Self {
        ColumnGuardConfig {
            enabled: true,
            mask_whole_values: true,
            coordinate_cell_m: None,
            classifier: ColumnClassifierConfig::default(),
        }
    }
}

impl ColumnGuardConfig {
    /// Checks the grid cell size, so that a bad value fails when the guard is built.
    pub(super) fn validate(&self, stage: &str) -> Result<()> {
        if let Some(cell_m) = self.coordinate_cell_m {
            grid_cell(0.0, 0.0, cell_m).map_err(|error| {
                Error::config(
                    stage,
                    format!(
                        "classification.coordinate_cell_m is invalid: {error}; use a size such as 1000"
                    ),
                )
            })?;
        }
        Ok(())
    }
}

/// The guard's verdicts on the columns it has seen. A column is classified once, so that
/// the stream's schema and masking stay the same from batch to batch.
#[derive(Debug)]
pub(super) struct ColumnVerdicts {
    classifier: ColumnClassifier,
    /// `None` for columns judged not to hold personal data.
    verdicts: BTreeMap<String, Option<ColumnClassification>>,
    pairs: Vec<CoordinatePair>,
}

impl ColumnVerdicts {
    pub(super) fn new(detector: &DetectorConfig, config: &ColumnGuardConfig) -> Result<Self> {
        Ok(ColumnVerdicts {
            classifier: ColumnClassifier::new(detector.clone(), config.classifier.clone())?,
            verdicts: BTreeMap::new(),
            pairs: Vec::new(),
        })
    }

    /// Classifies the columns of `batch` that have no verdict yet and returns the new
    /// classifications of personal data. An empty batch is skipped, because it has no values to
    /// classify.
    pub(super) fn classify_new(
        &mut self,
        batch: &RecordBatch,
    ) -> Result<Vec<ColumnClassification>> {
        if batch.num_rows() == 0 {
            return Ok(Vec::new());
        }
        let schema = batch.schema();
        let new: Vec<usize> = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, field)| !self.verdicts.contains_key(field.name()))
            .map(|(index, _)| index)
            .collect();
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let table = self.classifier.classify_batch(&batch.project(&new)?);
        for index in &new {
            let name = schema.field(*index).name();
            let verdict = table.columns.iter().find(|c| c.column == *name).cloned();
            self.verdicts.insert(name.clone(), verdict);
        }
        let all: Vec<ColumnClassification> = self.verdicts.values().flatten().cloned().collect();
        self.pairs = pair_coordinates(&all);
        Ok(table.columns)
    }

    /// Returns the verdict on `column`, when it contains personal data.
    pub(super) fn get(&self, column: &str) -> Option<&ColumnClassification> {
        self.verdicts.get(column).and_then(Option::as_ref)
    }

    /// Returns the kind of each classified column, for the policy's column masks.
    pub(super) fn kinds(&self) -> BTreeMap<String, PiiKind> {
        self.verdicts
            .iter()
            .filter_map(|(column, verdict)| verdict.as_ref().map(|v| (column.clone(), v.kind)))
            .collect()
    }

    /// Returns the latitude and longitude column pairs found so far.
    pub(super) fn pairs(&self) -> &[CoordinatePair] {
        &self.pairs
    }
}

/// A column whose every value was masked as one kind.
pub(super) struct WholeColumnMask {
    pub(super) array: ArrayRef,
    /// Non-null cells masked.
    pub(super) cells: u64,
    /// Row index and reason of each cell set to null because its operator failed.
    pub(super) fallbacks: Vec<(usize, MaskFallback)>,
}

/// Masks every value of `array` as a value of `kind` with `operator`.
///
/// String columns keep their type. Other types are cast to Utf8 first and come back as
/// Utf8, because a masked value is text. A column that does not cast to text (a list or
/// struct) becomes all null, with one fallback on row 0 that gives the reason.
pub(super) fn mask_whole_column(
    masker: &Masker,
    array: &ArrayRef,
    kind: PiiKind,
    operator: MaskOperator,
) -> Result<WholeColumnMask> {
    let cells = (array.len() - array.null_count()) as u64;
    let text = if is_text_type(array.data_type()) {
        Arc::clone(array)
    } else {
        match cast(array, &DataType::Utf8) {
            Ok(text) => text,
            Err(error) => {
                let fallback = MaskFallback {
                    kind,
                    operator,
                    byte_span: 0..0,
                    reason: format!(
                        "a column of type {} cannot be read as text ({error}), so every cell \
                         was set to null",
                        array.data_type()
                    ),
                };
                return Ok(WholeColumnMask {
                    array: new_null_array(array.data_type(), array.len()),
                    cells,
                    fallbacks: vec![(0, fallback)],
                });
            }
        }
    };
    let masked = masker.mask_column(text.as_ref(), kind, operator)?;
    let array = if is_text_type(array.data_type()) && array.data_type() != &DataType::Utf8 {
        cast(&masked.array, array.data_type())?
    } else {
        masked.array
    };
    Ok(WholeColumnMask {
        array,
        cells,
        fallbacks: masked.fallbacks,
    })
}

/// A latitude and longitude column pair after generalisation.
pub(super) struct GeneralisedPair {
    pub(super) latitude: ArrayRef,
    pub(super) longitude: ArrayRef,
    /// Rows whose position was replaced by a cell centre.
    pub(super) rows: u64,
    /// Row index and reason of each row whose two cells were set to null, because the
    /// position was incomplete or invalid.
    pub(super) nulled: Vec<(usize, String)>,
}

/// Replaces each position (`lat`, `lon`) by the centre of its grid cell of `cell_m` metres.
/// A row with only one of the two values, or with a value that is not a valid coordinate,
/// gets null in both, because half a position or a bad one could still point at a person.
/// Output columns keep their input types where Arrow can cast the degrees back.
pub(super) fn generalise_pair(
    lat: &ArrayRef,
    lon: &ArrayRef,
    cell_m: f64,
) -> Result<GeneralisedPair> {
    let lat_degrees = cast(lat, &DataType::Float64)?;
    let lon_degrees = cast(lon, &DataType::Float64)?;
    let lat_degrees = lat_degrees.as_primitive::<Float64Type>();
    let lon_degrees = lon_degrees.as_primitive::<Float64Type>();
    let mut lat_out = Vec::with_capacity(lat.len());
    let mut lon_out = Vec::with_capacity(lon.len());
    let mut rows = 0u64;
    let mut nulled = Vec::new();
    for row in 0..lat.len() {
        let (lat_value, lon_value) = (lat_degrees.is_valid(row), lon_degrees.is_valid(row));
        let cell = match (lat_value, lon_value) {
            (false, false) => {
                lat_out.push(None);
                lon_out.push(None);
                continue;
            }
            // The error of grid_cell names the value, which must not reach an issue.
            (true, true) => grid_cell(lat_degrees.value(row), lon_degrees.value(row), cell_m)
                .map_err(|_| {
                    "the latitude is outside -90..=90 or the longitude outside -180..=180 \
                     degrees, or one is not a finite number"
                        .to_string()
                }),
            _ => Err("only one of latitude and longitude is present".to_string()),
        };
        match cell {
            Ok(cell) => {
                rows += 1;
                lat_out.push(Some(cell.centre_lat));
                lon_out.push(Some(cell.centre_lon));
            }
            Err(reason) => {
                nulled.push((row, reason));
                lat_out.push(None);
                lon_out.push(None);
            }
        }
    }
    let back = |values: Vec<Option<f64>>, like: &ArrayRef| -> Result<ArrayRef> {
        let degrees: ArrayRef = Arc::new(Float64Array::from(values));
        Ok(cast(&degrees, like.data_type())?)
    };
    Ok(GeneralisedPair {
        latitude: back(lat_out, lat)?,
        longitude: back(lon_out, lon)?,
        rows,
        nulled,
    })
}

/// Returns the semantic type the guard writes for a classified column: the kind's name, or
/// `latitude` and `longitude` for coordinate columns.
pub(super) fn semantic_type(verdict: &ColumnClassification) -> &'static str {
    match verdict.axis {
        Some(CoordinateAxis::Latitude) => "latitude",
        Some(CoordinateAxis::Longitude) => "longitude",
        None => verdict.kind.as_str(),
    }
}

/// Writes `semantic_type`, a sensitivity of at least `sensitivity` and, when set, the
/// masking operator into the field metadata. An existing higher sensitivity is kept.
pub(super) fn annotate_field(
    field: &Field,
    semantic_type: &str,
    sensitivity: Sensitivity,
    masking: Option<&str>,
) -> Field {
    let existing = Semantic::from_field(field);
    let semantic = Semantic {
        semantic_type: Some(semantic_type.to_string()),
        sensitivity: Some(
            existing
                .sensitivity
                .map_or(sensitivity, |s| s.max(sensitivity)),
        ),
        ..Semantic::default()
    };
    with_masking(semantic.annotate(field.clone()), masking)
}

/// Returns `field` with `operator`, when set, under [`MASKING_KEY`] in its metadata.
pub(super) fn with_masking(field: Field, operator: Option<&str>) -> Field {
    match operator {
        Some(operator) => {
            let mut metadata = field.metadata().clone();
            metadata.insert(MASKING_KEY.to_string(), operator.to_string());
            field.with_metadata(metadata)
        }
        None => field,
    }
}

/// Returns the columns of `batch` named in `visible`, unmasked, for the classifier.
pub(super) fn visible_columns(batch: &RecordBatch, visible: &[String]) -> Result<RecordBatch> {
    let schema: &Schema = &batch.schema();
    let indices = visible
        .iter()
        .map(|name| schema.index_of(name))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(batch.project(&indices)?)
}
