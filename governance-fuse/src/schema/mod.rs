//! Schema matching and schema drift.
//!
//! # Matching
//!
//! [`SchemaMatcher`] maps the columns of a [`RecordBatch`](arrow::array::RecordBatch) to the
//! attributes of a standard model from `governance_core::standard`. Each (column,
//! attribute) pair gets a confidence in [0, 1] from three kinds of evidence:
//!
//! - the name: equality with the attribute name or an alias after normalisation (case,
//!   separators and camel case removed, so `PM2.5` equals `pm25`), else the larger of the
//!   token Jaccard index and the normalised Levenshtein similarity (`strsim`), times 0.9;
//! - a name embedding: the cosine of [`TextEmbedder`](crate::embed::TextEmbedder) vectors,
//!   by default [`HashedNgramEmbedder`](crate::embed::HashedNgramEmbedder), mixed into the
//!   name score with weight 0.3;
//! - the value profile: whether the column's type fits the attribute's type, and what share
//!   of values lies in the plausible range. The range is also tried in every unit the
//!   attribute converts from, which reveals CO in µg/m³ where the model expects mg/m³. Coded
//!   attributes check the share of distinct values among their codes (`open`, `closed`).
//!   Patterns count too: timestamps for a date-time, compass points for a wind direction,
//!   and row numbers, which veto any measurement.
//!
//! The confidence is `name × (0.4 + 0.6 × profile)`: values that contradict an attribute
//! pull even an exact name below the default minimum of 0.5, and values that fit confirm a
//! name. A column whose values carry an attribute's pattern scores at least 0.55 × profile
//! whatever its name. Every mapping lists its [`Evidence`], one entry per signal with the
//! score and a sentence. Columns are assigned one to one, greedily by confidence (see
//! [`SchemaMatcher`] for why). Unmapped columns are reported with the reason and the best
//! candidate, never dropped.
//!
//! # Drift
//!
//! [`DriftDetector`] compares a new batch with a reference batch and reports new, missing,
//! renamed, retyped and swapped columns. When both batches have a time or key column, rows
//! are aligned on it and columns are paired by their values (share of equal values, else
//! Pearson correlation), so a column that kept its values under a new name, or that now
//! carries another column's values, is found whatever the names say. Without aligned rows,
//! columns are paired by name and value profile.
//!
//! # As a chain stage
//!
//! [`SchemaMap`] is a [`Fuser`](governance_core::Fuser) that runs the matcher on the stream,
//! renames confident mappings to the attribute names, converts values found in another unit,
//! and checks each new input schema against an optional reference source for renamed,
//! retyped and swapped columns. Columns it does not map pass through unchanged and are
//! reported in the stage's lineage events.

mod drift;
mod mapping;
mod matcher;
mod names;
mod profile;
mod score;
mod stage;
mod time;

pub use drift::{DriftConfig, DriftDetector, DriftFinding, DriftReport, PairEvidence};
pub use mapping::{Candidate, ColumnMapping, Evidence, SchemaMapping, Signal, UnmappedColumn};
pub use matcher::{SchemaMatcher, SchemaMatcherConfig};
pub use profile::{
    ColumnProfile, NumericSummary, ValueKind, ValuePattern, compass_degrees, profile_batch,
    profile_column,
};
pub use stage::{SchemaMap, SchemaMapConfig, SwapPolicy};

#[cfg(test)]
mod matcher_tests;
#[cfg(test)]
mod stage_tests;
