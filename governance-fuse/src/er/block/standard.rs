//! Standard blocking: records that agree on a key form a block; several rules are united.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::groups::{Keyed, PairCollector};
use super::keys::{BoundExpr, KeyExpr};
use super::{BlockCap, Blocker, Blocking, BlockingInput, BlockingReport};
use crate::er::{ErError, RecordTable};
use crate::sketch::hash_value;

/// One blocking rule: records whose key expressions all agree share a block.
///
/// An expression that yields several keys (such as [`super::KeyFunction::Tokens`]) puts the
/// record in several blocks; the rule's keys are the combinations of its expressions' keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingRule {
    /// Name for reports; defaults to the expressions joined with `&`.
    #[serde(default)]
    pub name: Option<String>,
    /// Key expressions that must all agree.
    pub keys: Vec<KeyExpr>,
}

impl BlockingRule {
    /// A rule over the given expressions.
    pub fn new(keys: Vec<KeyExpr>) -> Self {
        Self { name: None, keys }
    }

    /// Name for reports.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.keys
                .iter()
                .map(KeyExpr::describe)
                .collect::<Vec<_>>()
                .join(" & ")
        })
    }
}

/// Configuration of [`StandardBlocker`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandardBlockerConfig {
    /// Rules whose candidate pairs are united.
    pub rules: Vec<BlockingRule>,
    /// Limits on block size and on the total.
    #[serde(default)]
    pub cap: BlockCap,
}

/// Blocking on keys, united over rules (as Splink's blocking rules are).
#[derive(Debug, Clone)]
pub struct StandardBlocker {
    config: StandardBlockerConfig,
}

impl StandardBlocker {
    /// Creates a blocker from its rules.
    ///
    /// # Errors
    /// [`ErError::InvalidConfig`] for no rules, a rule without expressions, or an invalid
    /// expression.
    pub fn new(config: StandardBlockerConfig) -> Result<Self, ErError> {
        if config.rules.is_empty() {
            return Err(ErError::invalid_config(
                "rules",
                "[]",
                "add at least one blocking rule",
            ));
        }
        for rule in &config.rules {
            if rule.keys.is_empty() {
                return Err(ErError::invalid_config(
                    format!("keys of rule '{}'", rule.label()),
                    "[]",
                    "give the rule at least one key expression",
                ));
            }
            for key in &rule.keys {
                key.validate()?;
            }
        }
        Ok(Self { config })
    }

    /// A blocker with one rule per expression list and the default cap.
    ///
    /// # Errors
    /// As [`StandardBlocker::new`].
    pub fn from_rules(rules: Vec<Vec<KeyExpr>>) -> Result<Self, ErError> {
        Self::new(StandardBlockerConfig {
            rules: rules.into_iter().map(BlockingRule::new).collect(),
            cap: BlockCap::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &StandardBlockerConfig {
        &self.config
    }

    fn attributes(&self) -> Vec<&str> {
        let mut attributes: Vec<&str> = self
            .config
            .rules
            .iter()
            .flat_map(|rule| &rule.keys)
            .flat_map(|key| key.attributes.iter().map(String::as_str))
            .collect();
        attributes.sort_unstable();
        attributes.dedup();
        attributes
    }
}

/// Keys of one rule for every record of a table, as `(hash, row)` entries.
fn rule_keys(rule: &BlockingRule, table: &RecordTable) -> Result<(Vec<Keyed>, u64), ErError> {
    let bound: Vec<BoundExpr<'_>> = rule
        .keys
        .iter()
        .map(|key| key.bind(table))
        .collect::<Result<_, _>>()?;
    let per_row: Vec<Vec<u64>> = (0..table.len())
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(parts, scratch): &mut (Vec<String>, Vec<String>), row| {
                combined_keys(&bound, table, row, parts, scratch)
            },
        )
        .collect();
    let mut keyed = Vec::with_capacity(table.len());
    let mut without_key = 0;
    for (row, hashes) in per_row.into_iter().enumerate() {
        if hashes.is_empty() {
            without_key += 1;
        }
        keyed.extend(hashes.into_iter().map(|hash| (hash, row as u32)));
    }
    Ok((keyed, without_key))
}

/// The hashes of all combinations of the expressions' keys for one record; empty when any
/// expression yields no key.
fn combined_keys(
    bound: &[BoundExpr<'_>],
    table: &RecordTable,
    row: usize,
    combined: &mut Vec<String>,
    scratch: &mut Vec<String>,
) -> Vec<u64> {
    combined.clear();
    combined.push(String::new());
    for (position, expr) in bound.iter().enumerate() {
        scratch.clear();
        expr.keys(table, row, scratch);
        if scratch.is_empty() {
            return Vec::new();
        }
        let mut next = Vec::with_capacity(combined.len() * scratch.len());
        for prefix in combined.iter() {
            for key in scratch.iter() {
                let mut joined = String::with_capacity(prefix.len() + key.len() + 1);
                joined.push_str(prefix);
                if position > 0 {
                    // A unit separator cannot occur in a normalised key, so parts stay apart.
                    joined.push('\u{1f}');
                }
                joined.push_str(key);
                next.push(joined);
            }
        }
        *combined = next;
    }
    combined
        .iter()
        .map(|key| hash_value(key.as_bytes()))
        .collect()
}

/// Renders the key of `row` under `rule`, for the report of a capped block.
fn describe_key(rule: &BlockingRule, table: &RecordTable, row: u32) -> String {
    let mut parts = Vec::new();
    for key in &rule.keys {
        let mut keys = Vec::new();
        if let Ok(bound) = key.bind(table) {
            bound.keys(table, row as usize, &mut keys);
        }
        parts.push(keys.join("|"));
    }
    parts.join(" & ")
}

impl Blocker for StandardBlocker {
    fn name(&self) -> &str {
        "standard"
    }

    fn block(&self, input: BlockingInput<'_>) -> Result<Blocking, ErError> {
        let started = std::time::Instant::now();
        input.validate(&self.attributes())?;
        let mut report = BlockingReport::new(self.name(), &input);
        let mut collector = PairCollector::new(self.config.cap, &mut report);
        for rule in &self.config.rules {
            let label = rule.label();
            match input {
                BlockingInput::Dedupe(table) => {
                    let (keyed, without) = rule_keys(rule, table)?;
                    collector.report().records_without_key += without;
                    collector.add_dedupe(&label, keyed, |row| describe_key(rule, table, row))?;
                }
                BlockingInput::Link { left, right } => {
                    let (left_keys, left_without) = rule_keys(rule, left)?;
                    let (right_keys, right_without) = rule_keys(rule, right)?;
                    collector.report().records_without_key += left_without + right_without;
                    collector.add_link(&label, left_keys, right_keys, |row| {
                        describe_key(rule, left, row)
                    })?;
                }
            }
        }
        let pairs = collector.finish()?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(Blocking { pairs, report })
    }
}
