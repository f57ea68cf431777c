//! Configuration of the [`QualityGate`](super::QualityGate): which issues count against which
//! dimension, the usability weights, the tier thresholds and how rows are routed.

use governance_core::{Error, IssueKind, Result, Severity};
use serde::{Deserialize, Serialize};

use super::NAME;

/// Quality tier of a row or batch, from the usability score and [`TierThresholds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Usability below the bronze threshold.
    BelowBronze,
    /// Usability at or above the bronze threshold.
    Bronze,
    /// Usability at or above the silver threshold.
    Silver,
    /// Usability at or above the gold threshold.
    Gold,
}

impl Tier {
    /// Returns the snake_case name used in configs, columns and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::BelowBronze => "below_bronze",
            Tier::Bronze => "bronze",
            Tier::Silver => "silver",
            Tier::Gold => "gold",
        }
    }
}

/// Rounding allowance of [`TierThresholds::tier`].
pub const TIER_TOLERANCE: f64 = 1e-9;

/// Minimum usability score of each tier; a score at the threshold reaches the tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TierThresholds {
    /// Minimum usability for gold.
    pub gold: f64,
    /// Minimum usability for silver.
    pub silver: f64,
    /// Minimum usability for bronze.
    pub bronze: f64,
}

impl Default for TierThresholds {
    fn default() -> Self {
        TierThresholds {
            gold: 0.9,
            silver: 0.75,
            bronze: 0.5,
        }
    }
}

impl TierThresholds {
    /// Returns the tier that `usability` reaches. A score within [`TIER_TOLERANCE`] below a
    /// threshold reaches it, because a weighted mean such as `0.6 / 0.8` rounds to just below
    /// 0.75 in floating point.
    pub fn tier(&self, usability: f64) -> Tier {
        let usability = usability + TIER_TOLERANCE;
        if usability >= self.gold {
            Tier::Gold
        } else if usability >= self.silver {
            Tier::Silver
        } else if usability >= self.bronze {
            Tier::Bronze
        } else {
            Tier::BelowBronze
        }
    }

    fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("tiers.gold", self.gold),
            ("tiers.silver", self.silver),
            ("tiers.bronze", self.bronze),
        ] {
            check_unit(field, value)?;
        }
        if self.gold < self.silver || self.silver < self.bronze {
            return Err(Error::config(
                NAME,
                format!(
                    "tier thresholds must not rise from gold to bronze, but gold is {}, silver \
                     {} and bronze {}; set gold >= silver >= bronze",
                    self.gold, self.silver, self.bronze
                ),
            ));
        }
        Ok(())
    }
}

/// Weights of the four dimensions in the usability score.
///
/// Usability is the weighted mean of the dimensions that have a score. A dimension without
/// one drops out, such as timeliness without a time column or the accuracy of a row whose
/// cells are all null, and the remaining weights are rescaled to sum to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsabilityWeights {
    /// Weight of completeness.
    pub completeness: f64,
    /// Weight of accuracy.
    pub accuracy: f64,
    /// Weight of consistency.
    pub consistency: f64,
    /// Weight of timeliness.
    pub timeliness: f64,
}

impl Default for UsabilityWeights {
    fn default() -> Self {
        UsabilityWeights {
            completeness: 0.3,
            accuracy: 0.3,
            consistency: 0.2,
            timeliness: 0.2,
        }
    }
}

impl UsabilityWeights {
    fn validate(&self) -> Result<()> {
        let weights = [
            ("weights.completeness", self.completeness),
            ("weights.accuracy", self.accuracy),
            ("weights.consistency", self.consistency),
            ("weights.timeliness", self.timeliness),
        ];
        for (field, value) in weights {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::config(
                    NAME,
                    format!("`{field}` is {value}; a weight must be a finite number of at least 0"),
                ));
            }
        }
        if weights.iter().map(|(_, value)| value).sum::<f64>() <= 0.0 {
            return Err(Error::config(
                NAME,
                "every usability weight is 0; give at least one dimension a positive weight",
            ));
        }
        Ok(())
    }
}

/// Timeliness settings: the time column and how old a row may be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelinessConfig {
    /// Time column: a timestamp of any unit, a date, or an integer read as milliseconds since
    /// the Unix epoch.
    pub column: String,
    /// Freshness window in seconds. A row's timeliness is `1 - age / window`, clamped to
    /// [0, 1]: 1 for a row stamped at the reference time or later, 0 once it is a whole window
    /// old. A null time scores 0.
    pub window_seconds: f64,
    /// Reference time in milliseconds since the Unix epoch; `None` uses the batch's collection
    /// time from its provenance.
    #[serde(default)]
    pub reference_ms: Option<i64>,
}

/// Whether tiers are decided per row or once per batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// Each row gets the tier of its own usability score, from its own cells' issues.
    #[default]
    Row,
    /// Every row of a batch gets the tier of the batch's usability score, so a batch passes or
    /// goes to quarantine whole.
    Batch,
}

/// Configuration of [`QualityGate`](super::QualityGate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualityConfig {
    /// Columns to score; `None` scores every column except the score and tier columns.
    pub columns: Option<Vec<String>>,
    /// Issue kinds that mark a cell as inaccurate.
    pub accuracy_kinds: Vec<IssueKind>,
    /// Issue kinds that count as a rule or dependency violation of their row.
    pub consistency_kinds: Vec<IssueKind>,
    /// Issues below this severity count for neither accuracy nor consistency.
    pub min_severity: Severity,
    /// Timeliness settings; `None` leaves timeliness out of the usability score.
    pub timeliness: Option<TimelinessConfig>,
    /// Weights of the usability score.
    pub weights: UsabilityWeights,
    /// Tier thresholds on the usability score.
    pub tiers: TierThresholds,
    /// Rows whose tier is below this one go to quarantine; `below_bronze` routes none.
    pub min_tier: Tier,
    /// Per-row or per-batch tiers.
    pub routing: Routing,
    /// Float64 column that receives each passing row's usability score; `None` adds none.
    pub score_column: Option<String>,
    /// Utf8 column that receives each passing row's tier; `None` adds none.
    pub tier_column: Option<String>,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            columns: None,
            accuracy_kinds: vec![
                IssueKind::OutOfRange,
                IssueKind::NotAllowed,
                IssueKind::Format,
                IssueKind::Outlier,
                IssueKind::Anomaly,
            ],
            consistency_kinds: vec![
                IssueKind::Missing,
                IssueKind::OutOfRange,
                IssueKind::NotAllowed,
                IssueKind::Inconsistent,
            ],
            min_severity: Severity::Warning,
            timeliness: None,
            weights: UsabilityWeights::default(),
            tiers: TierThresholds::default(),
            min_tier: Tier::Bronze,
            routing: Routing::Row,
            score_column: Some("quality_score".into()),
            tier_column: Some("quality_tier".into()),
        }
    }
}

impl QualityConfig {
    /// Checks every setting that does not depend on the data; the error names the field and
    /// its valid range.
    pub fn validate(&self) -> Result<()> {
        self.tiers.validate()?;
        self.weights.validate()?;
        if let Some(timeliness) = &self.timeliness {
            let window = timeliness.window_seconds;
            if !(window.is_finite() && window > 0.0) {
                return Err(Error::config(
                    NAME,
                    format!(
                        "`timeliness.window_seconds` is {window}; it must be a positive number \
                         of seconds, such as 3600 for one hour"
                    ),
                ));
            }
        }
        if let Some(columns) = &self.columns
            && columns.is_empty()
        {
            return Err(Error::config(
                NAME,
                "`columns` is an empty list; name at least one column or leave it out to score \
                 every column",
            ));
        }
        if let (Some(score), Some(tier)) = (&self.score_column, &self.tier_column)
            && score == tier
        {
            return Err(Error::config(
                NAME,
                format!(
                    "`score_column` and `tier_column` are both {score:?}; give them different names"
                ),
            ));
        }
        Ok(())
    }
}

fn check_unit(field: &str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        return Ok(());
    }
    Err(Error::config(
        NAME,
        format!("`{field}` is {value}; it must lie in [0, 1]"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(QualityConfig::default().validate().is_ok());
    }

    #[test]
    fn threshold_out_of_range_names_field() {
        let config: QualityConfig =
            serde_json::from_str(r#"{"tiers": {"gold": 1.5}}"#).expect("parses");
        let message = config.validate().expect_err("1.5 is invalid").to_string();
        assert!(message.contains("`tiers.gold` is 1.5"), "{message}");
        assert!(message.contains("[0, 1]"), "{message}");
    }

    #[test]
    fn rising_thresholds_are_rejected() {
        let config: QualityConfig =
            serde_json::from_str(r#"{"tiers": {"gold": 0.6, "silver": 0.8, "bronze": 0.5}}"#)
                .expect("parses");
        let message = config
            .validate()
            .expect_err("silver above gold")
            .to_string();
        assert!(message.contains("gold >= silver >= bronze"), "{message}");
    }

    #[test]
    fn negative_weight_names_field() {
        let config: QualityConfig =
            serde_json::from_str(r#"{"weights": {"accuracy": -1}}"#).expect("parses");
        let message = config.validate().expect_err("negative").to_string();
        assert!(message.contains("`weights.accuracy` is -1"), "{message}");
    }

    #[test]
    fn all_zero_weights_are_rejected() {
        let config: QualityConfig = serde_json::from_str(
            r#"{"weights": {"completeness": 0, "accuracy": 0, "consistency": 0, "timeliness": 0}}"#,
        )
        .expect("parses");
        assert!(config.validate().is_err());
    }

    #[test]
    fn zero_window_is_rejected() {
        let config: QualityConfig =
            serde_json::from_str(r#"{"timeliness": {"column": "timestamp", "window_seconds": 0}}"#)
                .expect("parses");
        let message = config.validate().expect_err("zero window").to_string();
        assert!(
            message.contains("`timeliness.window_seconds` is 0"),
            "{message}"
        );
    }

    #[test]
    fn unknown_field_is_rejected() {
        let error = serde_json::from_str::<QualityConfig>(r#"{"tier": {"gold": 0.9}}"#)
            .expect_err("unknown field");
        assert!(error.to_string().contains("tier"), "{error}");
        let error = serde_json::from_str::<QualityConfig>(r#"{"min_tier": "platinum"}"#)
            .expect_err("unknown tier");
        assert!(error.to_string().contains("platinum"), "{error}");
    }

    #[test]
    fn tiers_follow_thresholds() {
        let tiers = TierThresholds::default();
        assert_eq!(tiers.tier(0.9), Tier::Gold);
        assert_eq!(tiers.tier(0.89), Tier::Silver);
        assert_eq!(tiers.tier(0.75), Tier::Silver);
        assert_eq!(tiers.tier(0.5), Tier::Bronze);
        assert_eq!(tiers.tier(0.49), Tier::BelowBronze);
        assert_eq!(tiers.tier(0.6 / 0.8), Tier::Silver);
    }
}
