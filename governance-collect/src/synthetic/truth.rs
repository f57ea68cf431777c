//! Ground truth of the synthetic city: every error injected into the sensor readings and
//! every piece of personal data placed in the service tickets, for scoring detectors.

use serde::{Deserialize, Serialize};

/// Kind of an injected error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectedKind {
    /// A pollutant value multiplied by 8 to 15.
    Outlier,
    /// PM2.5 and PM10 exchanged; listed once per column.
    Swap,
    /// A second copy of a row with its own row id.
    Duplicate,
    /// A misspelt station name.
    Typo,
    /// A value set to null; listed once per null cell.
    Gap,
}

/// One injected error. A cell error names its column; a duplicate names the row it copies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InjectedError {
    /// Row id of the row that carries the error.
    pub row_id: u64,
    /// Column of the changed cell; `None` for a duplicate row.
    pub column: Option<String>,
    /// Kind of error.
    pub kind: InjectedKind,
    /// The value before the error, as text; `None` for a duplicate row.
    pub clean_value: Option<String>,
    /// Row id of the original row, for a duplicate.
    pub duplicate_of: Option<u64>,
}

/// Kind of a placed piece of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// A person's name, in Chinese characters or in pinyin.
    Name,
    /// A Chinese mobile number, possibly with `+86`, spaces or dashes.
    Phone,
    /// An e-mail address.
    Email,
    /// An 18-character resident identity card number (GB 11643).
    ResidentId,
}

/// One piece of personal data placed in a ticket's `text` column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedPii {
    /// Row id of the ticket.
    pub row_id: u64,
    /// Kind of data.
    pub kind: PiiKind,
    /// The text as placed, such as `138-1234-5678`.
    pub value: String,
    /// Byte offset of the first byte in the ticket text.
    pub start: usize,
    /// Byte offset one past the last byte, so `&text[start..end] == value`.
    pub end: usize,
}

/// Everything the generator did on purpose, for one whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Errors injected into sensor readings, in stream order.
    pub errors: Vec<InjectedError>,
    /// Personal data placed in tickets, in stream order.
    pub pii: Vec<PlacedPii>,
}

impl GroundTruth {
    /// Returns the injected errors of one kind.
    pub fn errors_of(&self, kind: InjectedKind) -> impl Iterator<Item = &InjectedError> {
        self.errors.iter().filter(move |error| error.kind == kind)
    }

    /// Returns the placed personal data of one kind.
    pub fn pii_of(&self, kind: PiiKind) -> impl Iterator<Item = &PlacedPii> {
        self.pii.iter().filter(move |placed| placed.kind == kind)
    }
}
