//! The generalisation levels of one quasi-identifier column: per level a dictionary code and
//! a label per row, and each cell's normalised certainty penalty. Levels are computed on
//! first use, because the greedy search visits only a few of them.

use std::collections::{HashMap, HashSet};

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit as ArrowTimeUnit};
use chrono::DateTime;
use governance_core::{Error, Result};

use super::{COMPONENT, Hierarchy};
use crate::generalize::{TimeUnit, truncate_time};

/// Code of a null cell; nulls keep their own class at every level.
const NULL_CODE: u32 = u32::MAX;

/// Time units of the levels of [`Hierarchy::Time`], from level 1 up.
const TIME_LEVELS: [TimeUnit; 5] = [
    TimeUnit::Minute,
    TimeUnit::Hour,
    TimeUnit::Day,
    TimeUnit::Month,
    TimeUnit::Year,
];

/// Most levels a numeric hierarchy may have.
const MAX_NUMERIC_LEVELS: u32 = 64;

/// The values of a column in the form its hierarchy works on.
enum Source {
    Numbers {
        values: Vec<Option<f64>>,
        base_width: f64,
        factor: f64,
        range: f64,
    },
    Texts {
        max_chars: usize,
    },
    Times {
        seconds: Vec<Option<i64>>,
        range: f64,
    },
    Categories,
}

/// One level: a code per row, the label of each code, and a penalty per row.
struct Level {
    codes: Vec<u32>,
    dictionary: Vec<String>,
    penalties: Vec<f64>,
    ncp: f64,
}

pub(super) struct ColumnLevels {
    name: String,
    texts: Vec<Option<String>>,
    source: Source,
    max_level: u32,
    cache: Vec<Option<Level>>,
}

impl ColumnLevels {
    pub(super) fn new(name: &str, column: &dyn Array, hierarchy: &Hierarchy) -> Result<Self> {
        let data_type = column.data_type();
        let wrong_type = |expected: &str| {
            Error::config(
                COMPONENT,
                format!(
                    "the column {name:?} has type {data_type}, which its hierarchy cannot \
                     generalise; it needs {expected}"
                ),
            )
        };
        let texts = cast(column, &DataType::Utf8)
            .map_err(|_| wrong_type("a type that can be written as text"))?;
        let texts: Vec<Option<String>> = texts
            .as_string::<i32>()
            .iter()
            .map(|text| text.map(str::to_string))
            .collect();

        let (source, max_level) = match hierarchy {
            Hierarchy::NumericBands {
                base_width,
                factor,
                levels,
            } => {
                if !data_type.is_numeric() {
                    return Err(wrong_type("a numeric type"));
                }
                check_bands(name, *base_width, *factor, *levels)?;
                let numbers = cast(column, &DataType::Float64)?;
                let values: Vec<Option<f64>> = numbers
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|value| value.filter(|value| value.is_finite()))
                    .collect();
                let range = spread(values.iter().flatten().copied());
                let source = Source::Numbers {
                    values,
                    base_width: *base_width,
                    factor: *factor,
                    range,
                };
                (source, levels + 1)
            }
            Hierarchy::Prefix => {
                if !matches!(
                    data_type,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) {
                    return Err(wrong_type("a string type"));
                }
                let max_chars = texts
                    .iter()
                    .flatten()
                    .map(|text| text.chars().count())
                    .max()
                    .unwrap_or(0);
                (Source::Texts { max_chars }, max_chars.max(1) as u32)
            }
            Hierarchy::Time => {
                let seconds =
                    epoch_seconds(column).ok_or_else(|| wrong_type("Timestamp or Date32"))?;
                let range = spread(seconds.iter().flatten().map(|&s| s as f64));
                (
                    Source::Times { seconds, range },
                    TIME_LEVELS.len() as u32 + 1,
                )
            }
            Hierarchy::Categorical => (Source::Categories, 1),
        };
        let mut levels = ColumnLevels {
            name: name.to_string(),
            texts,
            source,
            max_level,
            cache: (0..=max_level).map(|_| None).collect(),
        };
        levels.ensure(0);
        Ok(levels)
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn rows(&self) -> usize {
        self.texts.len()
    }

    pub(super) fn max_level(&self) -> u32 {
        self.max_level
    }

    /// Computes `level` unless it is cached.
    pub(super) fn ensure(&mut self, level: u32) {
        let index = level.min(self.max_level) as usize;
        if self.cache[index].is_some() {
            return;
        }
        let labels: Vec<Option<String>> = (0..self.rows())
            .map(|row| self.label(row, index as u32))
            .collect();
        let built = self.build(labels, index as u32);
        self.cache[index] = Some(built);
    }

    /// Returns the codes of `level`, which [`ColumnLevels::ensure`] has computed.
    pub(super) fn codes(&self, level: u32) -> &[u32] {
        &self.level(level).codes
    }

    pub(super) fn cell_penalties(&self, level: u32) -> &[f64] {
        &self.level(level).penalties
    }

    pub(super) fn labels(&self, level: u32) -> Vec<Option<String>> {
        let level = self.level(level);
        level
            .codes
            .iter()
            .map(|&code| level.dictionary.get(code as usize).cloned())
            .collect()
    }

    /// Returns the mean penalty of the column's cells at `level`.
    pub(super) fn ncp(&mut self, level: u32) -> f64 {
        self.ensure(level);
        self.level(level).ncp
    }

    pub(super) fn describe(&self, level: u32) -> String {
        if level == 0 {
            return "as written".into();
        }
        if level >= self.max_level {
            return "suppressed (*)".into();
        }
        match &self.source {
            Source::Numbers {
                base_width, factor, ..
            } => format!(
                "band width {}",
                format_number(band_width(*base_width, *factor, level))
            ),
            Source::Texts { max_chars } => {
                format!("prefix of {} characters", max_chars - level as usize)
            }
            Source::Times { .. } => format!("{:?}", TIME_LEVELS[level as usize - 1]).to_lowercase(),
            Source::Categories => "suppressed (*)".into(),
        }
    }

    fn level(&self, level: u32) -> &Level {
        match self.cache.get(level.min(self.max_level) as usize) {
            Some(Some(level)) => level,
            _ => unreachable!("ensure() computes a level before it is read"),
        }
    }

    /// Returns the label of `row` at `level`; `None` for nulls.
    fn label(&self, row: usize, level: u32) -> Option<String> {
        let text = self.texts[row].as_ref()?;
        if level == 0 {
            return Some(text.clone());
        }
        if level >= self.max_level {
            return Some("*".into());
        }
        match &self.source {
            Source::Numbers {
                values,
                base_width,
                factor,
                ..
            } => {
                let Some(value) = values[row] else {
                    return Some("*".into());
                };
                let width = band_width(*base_width, *factor, level);
                let low = (value / width).floor() * width;
                Some(format!(
                    "[{}, {})",
                    format_number(low),
                    format_number(low + width)
                ))
            }
            Source::Texts { max_chars } => {
                let keep = max_chars - level as usize;
                if text.chars().count() <= keep {
                    Some(text.clone())
                } else {
                    Some(text.chars().take(keep).chain(['*']).collect())
                }
            }
            Source::Times { seconds, .. } => {
                let unit = TIME_LEVELS[level as usize - 1];
                let time = DateTime::from_timestamp(seconds[row]?, 0)?.naive_utc();
                let start = truncate_time(time, unit);
                let format = match unit {
                    TimeUnit::Minute => "%Y-%m-%d %H:%M",
                    TimeUnit::Hour => "%Y-%m-%d %H:00",
                    TimeUnit::Day => "%Y-%m-%d",
                    TimeUnit::Month => "%Y-%m",
                    TimeUnit::Year => "%Y",
                };
                Some(start.format(format).to_string())
            }
            Source::Categories => Some("*".into()),
        }
    }

    fn build(&self, labels: Vec<Option<String>>, level: u32) -> Level {
        let mut dictionary: Vec<String> = Vec::new();
        let mut index: HashMap<String, u32> = HashMap::new();
        let codes: Vec<u32> = labels
            .into_iter()
            .map(|label| match label {
                None => NULL_CODE,
                Some(label) => *index.entry(label).or_insert_with_key(|label| {
                    dictionary.push(label.clone());
                    dictionary.len() as u32 - 1
                }),
            })
            .collect();

        let penalties = self.penalties(&codes, level);
        let ncp = if penalties.is_empty() {
            0.0
        } else {
            penalties.iter().sum::<f64>() / penalties.len() as f64
        };
        Level {
            codes,
            dictionary,
            penalties,
            ncp,
        }
    }

    /// Returns the normalised certainty penalty of each cell at `level` (see the module
    /// docs of `kanon`).
    fn penalties(&self, codes: &[u32], level: u32) -> Vec<f64> {
        let rows = codes.len();
        if level == 0 {
            return vec![0.0; rows];
        }
        let top = level >= self.max_level;
        let interval_penalty = |width: f64, range: f64| {
            if range > 0.0 {
                (width / range).min(1.0)
            } else {
                0.0
            }
        };
        let fixed = match &self.source {
            _ if top => Some(1.0),
            Source::Numbers {
                base_width,
                factor,
                range,
                ..
            } => Some(interval_penalty(
                band_width(*base_width, *factor, level),
                *range,
            )),
            Source::Times { range, .. } => Some(interval_penalty(
                unit_seconds(TIME_LEVELS[level as usize - 1]),
                *range,
            )),
            Source::Texts { .. } | Source::Categories => None,
        };
        if let Some(penalty) = fixed {
            return codes
                .iter()
                .map(|&code| if code == NULL_CODE { 0.0 } else { penalty })
                .collect();
        }

        // A prefix covers the distinct values that start with it: count them per code.
        let originals = self.level(0).codes.as_slice();
        let distinct_total = originals
            .iter()
            .filter(|&&code| code != NULL_CODE)
            .collect::<HashSet<_>>()
            .len()
            .max(1) as f64;
        let mut covered: HashMap<u32, HashSet<u32>> = HashMap::new();
        for (&code, &original) in codes.iter().zip(originals) {
            covered.entry(code).or_default().insert(original);
        }
        codes
            .iter()
            .map(|code| {
                let leaves = covered.get(code).map_or(1, HashSet::len);
                if *code == NULL_CODE || leaves <= 1 {
                    0.0
                } else {
                    leaves as f64 / distinct_total
                }
            })
            .collect()
    }
}

fn check_bands(name: &str, base_width: f64, factor: f64, levels: u32) -> Result<()> {
    if !(base_width.is_finite() && base_width > 0.0) {
        return Err(Error::config(
            COMPONENT,
            format!("the column {name:?} has band width {base_width}; use a positive width"),
        ));
    }
    if !(factor.is_finite() && factor > 1.0) {
        return Err(Error::config(
            COMPONENT,
            format!(
                "the column {name:?} has band factor {factor}; use a factor above 1, such as 2"
            ),
        ));
    }
    if !(1..=MAX_NUMERIC_LEVELS).contains(&levels) {
        return Err(Error::config(
            COMPONENT,
            format!("the column {name:?} has {levels} band levels; use 1 to {MAX_NUMERIC_LEVELS}"),
        ));
    }
    Ok(())
}

fn band_width(base_width: f64, factor: f64, level: u32) -> f64 {
    base_width * factor.powi(level.saturating_sub(1) as i32)
}

/// Formats a band edge without float noise such as `0.30000000000000004`.
fn format_number(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// Returns max - min of `values`, or 0 when there are none.
fn spread(values: impl Iterator<Item = f64>) -> f64 {
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(min, max), value| {
        (min.min(value), max.max(value))
    });
    if max >= min { max - min } else { 0.0 }
}

/// Length of a time unit in seconds; months and years as their Gregorian averages.
fn unit_seconds(unit: TimeUnit) -> f64 {
    match unit {
        TimeUnit::Minute => 60.0,
        TimeUnit::Hour => 3_600.0,
        TimeUnit::Day => 86_400.0,
        TimeUnit::Month => 2_629_746.0,
        TimeUnit::Year => 31_556_952.0,
    }
}

/// Reads a Timestamp (any unit) or Date32 column as seconds since the Unix epoch.
fn epoch_seconds(column: &dyn Array) -> Option<Vec<Option<i64>>> {
    let ticks_per_second: i64 = match column.data_type() {
        DataType::Timestamp(ArrowTimeUnit::Second, _) => 1,
        DataType::Timestamp(ArrowTimeUnit::Millisecond, _) => 1_000,
        DataType::Timestamp(ArrowTimeUnit::Microsecond, _) => 1_000_000,
        DataType::Timestamp(ArrowTimeUnit::Nanosecond, _) => 1_000_000_000,
        DataType::Date32 => {
            let days = cast(column, &DataType::Int32).ok()?;
            return Some(
                days.as_primitive::<arrow::datatypes::Int32Type>()
                    .iter()
                    .map(|day| day.map(|day| i64::from(day) * 86_400))
                    .collect(),
            );
        }
        _ => return None,
    };
    let ticks = cast(column, &DataType::Int64).ok()?;
    Some(
        ticks
            .as_primitive::<Int64Type>()
            .iter()
            .map(|tick| tick.map(|tick| tick.div_euclid(ticks_per_second)))
            .collect(),
    )
}
