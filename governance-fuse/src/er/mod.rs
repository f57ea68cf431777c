//! Entity resolution: linking records of the same real-world entity within or across sources.
//!
//! Sources become [`RecordTable`]s, the text view that blocking and comparators work on.
//! A candidate pair names one record of each side by row position ([`CandidatePair`]); in
//! deduplication both sides are the same table and `left < right`.

pub mod active;
pub mod assign;
pub mod block;
pub mod cannot_link;
pub mod cluster;
pub mod compare;
pub mod context;
pub mod features;
pub mod fellegi_sunter;
pub mod golden;
pub mod joint;
pub mod metrics;
mod record;
pub mod term_frequency;

pub use record::RecordTable;

/// Two records that blocking proposes for comparison, by row position in their tables.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct CandidatePair {
    /// Row in the left table.
    pub left: u32,
    /// Row in the right table; in deduplication a row of the same table above `left`.
    pub right: u32,
}

impl CandidatePair {
    /// Creates a pair of row positions.
    pub fn new(left: u32, right: u32) -> Self {
        Self { left, right }
    }

    /// Orders the two rows so that `left < right`, as deduplication pairs are stored.
    pub fn ordered(a: u32, b: u32) -> Self {
        if a <= b {
            Self::new(a, b)
        } else {
            Self::new(b, a)
        }
    }
}

/// Whether records are linked across two tables or deduplicated within one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkMode {
    /// Pairs one record of the left table with one of the right table.
    Link,
    /// Pairs records of one table with each other.
    Dedupe,
}

/// Errors of entity resolution. Every variant names the table and value at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErError {
    /// A table with no records.
    #[error("table '{table}' has no records; entity resolution needs at least one per side")]
    EmptyInput {
        /// Table name.
        table: String,
    },
    /// Two tables without an attribute in common.
    #[error(
        "tables '{left}' and '{right}' have no common attribute ({left}: {}; {right}: {}); \
         rename columns to a shared schema or map them with the schema matcher first",
        left_attributes.join(", "),
        right_attributes.join(", ")
    )]
    NoCommonAttribute {
        /// Left table name.
        left: String,
        /// Attributes of the left table.
        left_attributes: Vec<String>,
        /// Right table name.
        right: String,
        /// Attributes of the right table.
        right_attributes: Vec<String>,
    },
    /// An attribute the table does not have.
    #[error(
        "table '{table}' has no attribute '{attribute}'; available: {}",
        available.join(", ")
    )]
    UnknownAttribute {
        /// Table name.
        table: String,
        /// Requested attribute.
        attribute: String,
        /// Attributes the table has.
        available: Vec<String>,
    },
    /// A key attribute without a single value.
    #[error(
        "attribute '{attribute}' of table '{table}' is null or blank in every record; \
         choose another key attribute"
    )]
    AllNull {
        /// Table name.
        table: String,
        /// Attribute without values.
        attribute: String,
    },
    /// A record with the wrong number of values.
    #[error(
        "record '{id}' of table '{table}' has {found} values but the table has {expected} \
         attributes"
    )]
    WrongArity {
        /// Table name.
        table: String,
        /// Record id.
        id: String,
        /// Number of attributes.
        expected: usize,
        /// Number of values given.
        found: usize,
    },
    /// An attribute name given twice.
    #[error("attribute '{0}' is listed twice; attribute names must be distinct")]
    DuplicateAttribute(String),
    /// A table with more records than row positions of a candidate pair can address.
    #[error(
        "table '{table}' has {records} records, more than the {max} that entity resolution \
         addresses by 32-bit row position; split the table, for example by region"
    )]
    TooManyRecords {
        /// Table name.
        table: String,
        /// Number of records.
        records: usize,
        /// Largest supported number of records.
        max: usize,
    },
    /// A setting, or an input that must agree with the settings, outside its valid range.
    /// Build it with [`ErError::invalid_config`].
    #[error("invalid {name} = {value}: {fix}")]
    InvalidConfig {
        /// Name of the setting or input, such as `window` or `budget`.
        name: String,
        /// Value given, as text.
        value: String,
        /// The valid range and the change to make.
        fix: String,
    },
    /// Blocking produced more candidate pairs than the configured budget.
    #[error(
        "blocking '{method}' produced more than {budget} candidate pairs; tighten its rules \
         (longer prefixes, more key attributes, a smaller window) or raise max_total_pairs"
    )]
    PairBudgetExceeded {
        /// Blocking method.
        method: String,
        /// Configured budget.
        budget: u64,
    },
    /// Two inputs that must align record for record have different lengths.
    #[error("{what} has {found} entries but {expected} were expected, one per record")]
    LengthMismatch {
        /// The input at fault.
        what: String,
        /// Expected length.
        expected: usize,
        /// Actual length.
        found: usize,
    },
    /// A candidate pair or edge that names a row outside its table.
    #[error("{what} names row {row}, but the table has {records} records")]
    RowOutOfRange {
        /// The input at fault.
        what: String,
        /// Row position given.
        row: u32,
        /// Number of records.
        records: usize,
    },
    /// An invalid MinHash or LSH setting.
    #[error(transparent)]
    Sketch(#[from] crate::sketch::SketchError),
    /// Feedback from a match oracle that does not fit the pairs it was asked about.
    #[error("invalid oracle feedback: {0}")]
    Oracle(String),
    /// A model of governance-llm failed to train or predict.
    #[error("pair model failed")]
    Model(#[from] governance_llm::Error),
    /// An Arrow column that could not be read as text.
    #[error("could not read a column as text: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

impl ErError {
    /// Creates an [`ErError::InvalidConfig`] for the setting or input `name`, the value
    /// given, and the fix.
    pub fn invalid_config(
        name: impl Into<String>,
        value: impl std::fmt::Display,
        fix: impl Into<String>,
    ) -> Self {
        Self::InvalidConfig {
            name: name.into(),
            value: value.to_string(),
            fix: fix.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErError;

    #[test]
    fn invalid_config_names_value_and_fix() {
        let error = ErError::invalid_config("window", 1, "use a window of at least 2 records");
        assert_eq!(
            error.to_string(),
            "invalid window = 1: use a window of at least 2 records"
        );
    }
}
