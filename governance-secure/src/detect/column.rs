//! Column-level classification: which columns of a table hold a kind of personal data.
//!
//! Two kinds of evidence are combined for each column:
//!
//! - the column name, in English or Chinese (`phone`, `mobile`, `手机号`, `身份证号`, `email`,
//!   `lat`/`lon`, `纬度`/`经度`; camel case and `_`-separated names are split into words);
//! - the hit rate of the validators on a sample of the values: the share of sampled values
//!   that one recognizer matches as a whole (a validated match counts 1, a pattern-only
//!   match 0.5).
//!
//! The confidence is `0.5 + 0.5 × hit rate` when the name names the kind, and
//! `0.9 × hit rate` on values alone, so a named column whose values no longer look like the
//! kind (already masked, for example) still scores 0.5. Kinds that free-text detection
//! reports only next to a keyword (dates of birth, nine-digit SSNs, other passports) count
//! value hits only when the name names the kind: a column of plain dates is not a column of
//! birth dates.
//!
//! Latitude and longitude columns are numbers that only their names identify. A column named
//! as one (`lat`, `pickup_latitude`, `纬度`) is classified as [`PiiKind::GpsCoordinate`]
//! when its values are numbers in range. A latitude column and a longitude column form a
//! [`CoordinatePair`] when their names are equal without the axis word (`pickup_lat` and
//! `pickup_lon`), or when they are the only two.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Float64Array, RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use governance_secure::detect::{ColumnClassifier, PiiKind};
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("手机号", DataType::Utf8, true),
//!     Field::new("lat", DataType::Float64, true),
//!     Field::new("lon", DataType::Float64, true),
//! ]));
//! let batch = RecordBatch::try_new(schema, vec![
//!     Arc::new(StringArray::from(vec!["13812345678", "13912345678"])),
//!     Arc::new(Float64Array::from(vec![39.9042, 31.2304])),
//!     Arc::new(Float64Array::from(vec![116.4074, 121.4737])),
//! ])?;
//! let table = ColumnClassifier::with_defaults()?.classify_batch(&batch);
//! assert_eq!(table.columns[0].kind, PiiKind::Phone);
//! assert_eq!(table.coordinate_pairs[0].latitude, "lat");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Schema};
use governance_core::{Error, Result, Semantic, Sensitivity};
use serde::{Deserialize, Serialize};

use super::column_names::{NameHint, coordinate_stem, name_hint};
use super::{ConfidenceTier, Detector, DetectorConfig, PiiKind, Today};

/// Settings of a [`ColumnClassifier`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ColumnClassifierConfig {
    /// Maximum number of non-null values read per column, spread evenly over the column.
    /// Default 200.
    pub sample_size: usize,
    /// Columns below this confidence are not reported. Default 0.5, in `[0, 1]`.
    pub min_confidence: f32,
}

impl Default for ColumnClassifierConfig {
    fn default() -> Self {
        ColumnClassifierConfig {
            sample_size: 200,
            min_confidence: 0.5,
        }
    }
}

/// Axis of a coordinate column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoordinateAxis {
    /// Latitudes in degrees, from -90 to 90.
    Latitude,
    /// Longitudes in degrees, from -180 to 180.
    Longitude,
}

/// The verdict on one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnClassification {
    /// Column name.
    pub column: String,
    /// Kind of personal data the column holds.
    pub kind: PiiKind,
    /// For coordinate columns, which half of a position the column holds.
    pub axis: Option<CoordinateAxis>,
    /// Confidence in `[0, 1]`, computed as the module docs describe.
    pub confidence: f32,
    /// Whether the column name names the kind.
    pub name_matched: bool,
    /// Number of non-null values sampled.
    pub sampled: usize,
    /// Number of sampled values that matched the kind (validated or pattern-only).
    pub hits: usize,
    /// The evidence in words, for reviewers.
    pub explanation: String,
}

impl ColumnClassification {
    /// Returns the sensitivity level of the column: secret for government and financial
    /// identifiers, internal for URLs and domain names, sensitive for every other kind.
    pub fn sensitivity(&self) -> Sensitivity {
        match self.kind {
            PiiKind::ResidentId
            | PiiKind::PaymentCard
            | PiiKind::Iban
            | PiiKind::UsSsn
            | PiiKind::Passport => Sensitivity::Secret,
            PiiKind::Url | PiiKind::Domain => Sensitivity::Internal,
            _ => Sensitivity::Sensitive,
        }
    }
}

/// A latitude column and a longitude column that together hold positions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoordinatePair {
    /// Name of the latitude column.
    pub latitude: String,
    /// Name of the longitude column.
    pub longitude: String,
    /// The lower confidence of the two columns.
    pub confidence: f32,
    /// The evidence in words.
    pub explanation: String,
}

/// The verdicts on the columns of one table.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TableClassification {
    /// Columns that hold personal data, in schema order.
    pub columns: Vec<ColumnClassification>,
    /// Latitude and longitude columns that pair up.
    pub coordinate_pairs: Vec<CoordinatePair>,
}

impl TableClassification {
    /// Returns `schema` with the semantic type (the kind's name, or `latitude` and
    /// `longitude` for coordinate columns) and the sensitivity of every classified column
    /// written into its field metadata. Other fields are unchanged.
    pub fn annotate(&self, schema: &Schema) -> Schema {
        let fields: Vec<_> = schema
            .fields()
            .iter()
            .map(|field| {
                let Some(found) = self.columns.iter().find(|c| c.column == *field.name()) else {
                    return field.as_ref().clone();
                };
                let semantic_type = match found.axis {
                    Some(CoordinateAxis::Latitude) => "latitude",
                    Some(CoordinateAxis::Longitude) => "longitude",
                    None => found.kind.as_str(),
                };
                let semantic = Semantic {
                    semantic_type: Some(semantic_type.to_string()),
                    sensitivity: Some(found.sensitivity()),
                    ..Semantic::default()
                };
                semantic.annotate(field.as_ref().clone())
            })
            .collect();
        Schema::new_with_metadata(fields, schema.metadata().clone())
    }
}

/// Classifies table columns by name and by a sample of their values.
#[derive(Debug)]
pub struct ColumnClassifier {
    detector: Detector,
    config: ColumnClassifierConfig,
}

impl ColumnClassifier {
    /// Builds a classifier. Fails when the detector config is invalid, the sample size is 0
    /// or the minimum confidence lies outside `[0, 1]`.
    pub fn new(detector: DetectorConfig, config: ColumnClassifierConfig) -> Result<Self> {
        if config.sample_size == 0 {
            return Err(Error::config(
                "column classifier",
                "sample_size is 0: set at least 1 (default 200)",
            ));
        }
        if !(0.0..=1.0).contains(&config.min_confidence) {
            return Err(Error::config(
                "column classifier",
                format!(
                    "min_confidence {} is outside [0, 1]: set a value such as 0.5",
                    config.min_confidence
                ),
            ));
        }
        Ok(ColumnClassifier {
            detector: Detector::new(detector)?,
            config,
        })
    }

    /// Builds a classifier with the default settings.
    pub fn with_defaults() -> Result<Self> {
        Self::new(DetectorConfig::default(), ColumnClassifierConfig::default())
    }

    /// Classifies every column of `batch`. Columns of types that do not convert to text
    /// (lists, structs) are judged by their names alone.
    pub fn classify_batch(&self, batch: &RecordBatch) -> TableClassification {
        let mut columns = Vec::new();
        for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
            let values = sample_strings(array, self.config.sample_size);
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            if let Some(found) = self.classify_column(field.name(), &values) {
                columns.push(found);
            }
        }
        let coordinate_pairs = pair_coordinates(&columns);
        TableClassification {
            columns,
            coordinate_pairs,
        }
    }

    /// Classifies one column from its name and a sample of its non-null values, rendered as
    /// text. Returns `None` when no kind reaches the minimum confidence.
    pub fn classify_column(&self, name: &str, values: &[&str]) -> Option<ColumnClassification> {
        let hint = name_hint(name);
        if let Some((NameHint::Latitude | NameHint::Longitude, keyword)) = &hint {
            let axis = match hint.as_ref().map(|(h, _)| *h) {
                Some(NameHint::Latitude) => CoordinateAxis::Latitude,
                _ => CoordinateAxis::Longitude,
            };
            return self.classify_axis(name, keyword, axis, values);
        }
        let named_kind = match &hint {
            Some((NameHint::Kind(kind), _)) => Some(*kind),
            _ => None,
        };

        let today = Today::default();
        let mut weights: BTreeMap<PiiKind, (f32, usize)> = BTreeMap::new();
        for value in values {
            let mut best: BTreeMap<PiiKind, f32> = BTreeMap::new();
            for found in self.detector.match_whole_value(value, &today) {
                if found.requires_context && named_kind != Some(found.kind) {
                    continue;
                }
                let weight = if found.tier >= ConfidenceTier::Validated {
                    1.0
                } else {
                    0.5
                };
                let entry = best.entry(found.kind).or_insert(0.0);
                *entry = entry.max(weight);
            }
            for (kind, weight) in best {
                let entry = weights.entry(kind).or_insert((0.0, 0));
                entry.0 += weight;
                entry.1 += 1;
            }
        }

        let sampled = values.len();
        let score = |kind: PiiKind| {
            let (weight, hits) = weights.get(&kind).copied().unwrap_or((0.0, 0));
            let rate = if sampled == 0 {
                0.0
            } else {
                weight / sampled as f32
            };
            let confidence = if named_kind == Some(kind) {
                0.5 + 0.5 * rate
            } else {
                0.9 * rate
            };
            (confidence, hits)
        };
        let candidates = named_kind.into_iter().chain(weights.keys().copied());
        let (kind, (confidence, hits)) = candidates
            .map(|kind| (kind, score(kind)))
            .max_by(|a, b| a.1.0.total_cmp(&b.1.0))?;
        if confidence < self.config.min_confidence {
            return None;
        }

        let name_matched = named_kind == Some(kind);
        let name_part = match (&hint, name_matched) {
            (Some((_, keyword)), true) => {
                format!("column name {name:?} contains {keyword:?}, which names {kind}")
            }
            _ => format!("column name {name:?} names no kind"),
        };
        let explanation =
            format!("{name_part}; {hits} of {sampled} sampled values match {kind} as a whole");
        Some(ColumnClassification {
            column: name.to_string(),
            kind,
            axis: None,
            confidence,
            name_matched,
            sampled,
            hits,
            explanation,
        })
    }

    /// Classifies a column whose name says latitude or longitude by the share of values that
    /// are numbers in range.
    fn classify_axis(
        &self,
        name: &str,
        keyword: &str,
        axis: CoordinateAxis,
        values: &[&str],
    ) -> Option<ColumnClassification> {
        let limit = match axis {
            CoordinateAxis::Latitude => 90.0,
            CoordinateAxis::Longitude => 180.0,
        };
        let hits = values
            .iter()
            .filter(|value| {
                value
                    .trim()
                    .parse::<f64>()
                    .is_ok_and(|degrees| degrees.abs() <= limit)
            })
            .count();
        let sampled = values.len();
        let rate = if sampled == 0 {
            0.0
        } else {
            hits as f32 / sampled as f32
        };
        // Names such as `lat` are short and a column of text under one is not a position.
        if sampled > 0 && rate < 0.5 {
            return None;
        }
        let confidence = 0.5 + 0.5 * rate;
        if confidence < self.config.min_confidence {
            return None;
        }
        let axis_name = match axis {
            CoordinateAxis::Latitude => "latitude",
            CoordinateAxis::Longitude => "longitude",
        };
        Some(ColumnClassification {
            column: name.to_string(),
            kind: PiiKind::GpsCoordinate,
            axis: Some(axis),
            confidence,
            name_matched: true,
            sampled,
            hits,
            explanation: format!(
                "column name {name:?} contains {keyword:?}, which names a {axis_name}; \
                 {hits} of {sampled} sampled values are degrees within ±{limit}"
            ),
        })
    }
}

/// Reads up to `limit` non-null values of a column as text, spread evenly over the column.
/// Types that do not cast to text give no values.
fn sample_strings(array: &ArrayRef, limit: usize) -> Vec<String> {
    let text = match array.data_type() {
        DataType::Utf8 => array.clone(),
        _ => match cast(array, &DataType::Utf8) {
            Ok(text) => text,
            Err(error) => {
                tracing::debug!(%error, data_type = %array.data_type(), "column values not sampled");
                return Vec::new();
            }
        },
    };
    let strings = text.as_string::<i32>();
    let non_null = strings.len() - strings.null_count();
    let step = non_null.div_ceil(limit).max(1);
    strings
        .iter()
        .flatten()
        .step_by(step)
        .take(limit)
        .map(str::to_string)
        .collect()
}

/// Pairs latitude and longitude columns with the same stem; when there is exactly one of
/// each, they pair whatever their stems.
pub(crate) fn pair_coordinates(columns: &[ColumnClassification]) -> Vec<CoordinatePair> {
    let of_axis = |axis| {
        columns
            .iter()
            .filter(move |c| c.axis == Some(axis))
            .collect::<Vec<_>>()
    };
    let latitudes = of_axis(CoordinateAxis::Latitude);
    let longitudes = of_axis(CoordinateAxis::Longitude);
    let pair = |lat: &ColumnClassification, lon: &ColumnClassification, why: &str| CoordinatePair {
        latitude: lat.column.clone(),
        longitude: lon.column.clone(),
        confidence: lat.confidence.min(lon.confidence),
        explanation: format!(
            "{:?} holds latitudes and {:?} longitudes; {why}",
            lat.column, lon.column
        ),
    };
    if let ([lat], [lon]) = (latitudes.as_slice(), longitudes.as_slice()) {
        return vec![pair(lat, lon, "they are the only coordinate columns")];
    }
    let mut pairs = Vec::new();
    for lat in &latitudes {
        let stem = coordinate_stem(&lat.column);
        if let Some(lon) = longitudes
            .iter()
            .find(|lon| coordinate_stem(&lon.column) == stem)
        {
            pairs.push(pair(lat, lon, "their names differ only in the axis"));
        }
    }
    pairs
}
