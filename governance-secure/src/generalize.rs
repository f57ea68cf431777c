//! Generalisation: values replaced by a coarser value that many people share.
//!
//! - [`age_band`]: an age to a band of configurable width, with an optional open top band.
//! - [`grid_cell`]: a coordinate to a cell of a grid whose cells are about N metres wide.
//! - [`truncate_time`]: a timestamp to the start of its minute, hour, day, month or year.
//! - [`postcode_prefix`]: a postcode to its first characters.
//!
//! [`Generalization`] names one of them with its parameters, so a config can apply it to a
//! column with [`generalize_column`]. Suppression of whole cells is the
//! [`crate::mask::MaskOperator::Suppress`] operator, and of whole rows part of
//! [`crate::kanon`].
//!
//! ```
//! use governance_secure::generalize::{age_band, grid_cell, postcode_prefix};
//!
//! assert_eq!(age_band(37, 10, None)?.to_string(), "30-39");
//! assert_eq!(age_band(93, 10, Some(90))?.to_string(), "90+");
//! let cell = grid_cell(39.9087, 116.3975, 1000.0)?;
//! assert!((cell.centre_lat - 39.9087).abs() < 0.01);
//! assert_eq!(postcode_prefix("100080", 3).as_deref(), Some("100"));
//! # Ok::<(), governance_core::Error>(())
//! ```

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Date32Type, Int64Type, TimeUnit as ArrowTimeUnit};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Mean radius of the Earth in metres (IUGG), the radius of the sphere the grid is laid on.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Largest grid cell, in metres: half the meridian, above which a cell covers everything.
const MAX_CELL_M: f64 = 20_000_000.0;

/// Oldest age accepted; anything above is taken as a data error.
const MAX_AGE: i64 = 150;

/// An age band: `lower..=upper`, or `lower` and above for the open top band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgeBand {
    /// Youngest age in the band.
    pub lower: i64,
    /// Oldest age in the band; `None` for the open top band.
    pub upper: Option<i64>,
}

impl fmt::Display for AgeBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.upper {
            Some(upper) => write!(f, "{}-{upper}", self.lower),
            None => write!(f, "{}+", self.lower),
        }
    }
}

/// Returns the band of `width` years that contains `age`: bands start at multiples of `width`.
/// Ages at or above `top` fall in one open band `top+`, because the few very old people
/// stand out in any narrow band.
///
/// Fails on a negative age, an age above 150, a width of 0, or a `top` that is not a
/// multiple of the width.
pub fn age_band(age: i64, width: u32, top: Option<i64>) -> Result<AgeBand> {
    if width == 0 {
        return Err(Error::config(
            "age band",
            "the band width is 0; use a width of at least 1 year, such as 5 or 10",
        ));
    }
    let width = i64::from(width);
    if let Some(top) = top
        && (top <= 0 || top % width != 0)
    {
        return Err(Error::config(
            "age band",
            format!(
                "the top band starts at {top}, which is not a positive multiple of the width {width}"
            ),
        ));
    }
    if !(0..=MAX_AGE).contains(&age) {
        return Err(Error::InvalidInput(format!(
            "the age {age} is outside 0..={MAX_AGE}; correct or suppress the value"
        )));
    }
    if let Some(top) = top
        && age >= top
    {
        return Ok(AgeBand {
            lower: top,
            upper: None,
        });
    }
    let lower = age - age % width;
    Ok(AgeBand {
        lower,
        upper: Some(lower + width - 1),
    })
}

/// A cell of the grid laid by [`grid_cell`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GridCell {
    /// Row of the cell, from 0 at the south pole.
    pub row: u32,
    /// Column of the cell within its row, from 0 at longitude -180.
    pub col: u32,
    /// Latitude of the cell centre, in degrees.
    pub centre_lat: f64,
    /// Longitude of the cell centre, in degrees in -180..180.
    pub centre_lon: f64,
}

impl GridCell {
    /// Returns the cell id `r<row>c<col>`, unique for one cell size.
    pub fn id(&self) -> String {
        format!("r{}c{}", self.row, self.col)
    }
}

/// Returns the cell of a grid of cells about `cell_m` metres wide that contains the WGS84
/// point (`lat`, `lon`), in degrees.
///
/// # Projection and error
///
/// The grid is laid on a sphere of the Earth's mean radius. Latitude is cut into rows of
/// equal height, the whole number of rows nearest to `cell_m` metres each. Each row is cut
/// into the whole number of columns that makes a cell at least `cell_m` metres wide at the
/// row's central latitude, so cells stay about square from the equator to the poles (the
/// row around a pole has a few wide wedges: 3 for 1 km cells), and the columns of a row meet
/// exactly at the antimeridian (longitude 180 is the same cell as -180). A pole itself is
/// one point whatever its longitude, so latitude ±90 always falls in the column that holds
/// longitude 0.
///
/// Returning the cell centre moves a point by at most half the cell's diagonal: about
/// 0.71 × `cell_m`, somewhat more near the poles where the row's edges are narrower than its
/// centre line. Distances on the sphere differ from those on the WGS84 ellipsoid by up to
/// about 0.5%, so a cell is 0.5% larger or smaller than asked in places.
///
/// Fails on a latitude outside -90..=90, a longitude outside -180..=180, a value that is
/// not finite, or a cell size outside 1 m ..= 20,000 km.
pub fn grid_cell(lat: f64, lon: f64, cell_m: f64) -> Result<GridCell> {
    if !(cell_m.is_finite() && (1.0..=MAX_CELL_M).contains(&cell_m)) {
        return Err(Error::config(
            "grid cell",
            format!("the cell size {cell_m} m is outside 1 ..= {MAX_CELL_M} metres"),
        ));
    }
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        return Err(Error::InvalidInput(format!(
            "the latitude {lat} is outside -90..=90 degrees; check that latitude and longitude \
             are not swapped"
        )));
    }
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        return Err(Error::InvalidInput(format!(
            "the longitude {lon} is outside -180..=180 degrees; check that latitude and \
             longitude are not swapped"
        )));
    }

    let metres_per_degree = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
    let rows = ((180.0 * metres_per_degree / cell_m).round() as u32).max(1);
    let row_height = 180.0 / f64::from(rows);
    let row = (((lat + 90.0) / row_height).floor() as u32).min(rows - 1);
    let centre_lat = -90.0 + (f64::from(row) + 0.5) * row_height;

    let ring_m = 360.0 * metres_per_degree * centre_lat.to_radians().cos();
    let cols = ((ring_m / cell_m).floor() as u32).max(1);
    let col_width = 360.0 / f64::from(cols);
    // Longitude 180 wraps to -180, so both ends of the range fall in column 0.
    let wrapped = if lat.abs() == 90.0 {
        0.0
    } else if lon >= 180.0 {
        lon - 360.0
    } else {
        lon
    };
    let col = (((wrapped + 180.0) / col_width).floor() as u32).min(cols - 1);
    let centre_lon = -180.0 + (f64::from(col) + 0.5) * col_width;
    Ok(GridCell {
        row,
        col,
        centre_lat,
        centre_lon,
    })
}

/// Unit a timestamp is truncated to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Start of the minute.
    Minute,
    /// Start of the hour.
    Hour,
    /// Midnight at the start of the day.
    Day,
    /// Midnight on the first of the month.
    Month,
    /// Midnight on the first of January.
    Year,
}

/// Returns the start of the `unit` that contains `time`, in the same wall-clock time. Callers
/// with UTC timestamps and a local day in mind convert to local time first.
pub fn truncate_time(time: NaiveDateTime, unit: TimeUnit) -> NaiveDateTime {
    let date = time.date();
    let start_of = |date: NaiveDate| date.and_hms_opt(0, 0, 0).unwrap_or(time);
    match unit {
        TimeUnit::Minute => date
            .and_hms_opt(time.hour(), time.minute(), 0)
            .unwrap_or(time),
        TimeUnit::Hour => date.and_hms_opt(time.hour(), 0, 0).unwrap_or(time),
        TimeUnit::Day => start_of(date),
        TimeUnit::Month => start_of(date.with_day(1).unwrap_or(date)),
        TimeUnit::Year => start_of(NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date)),
    }
}

/// Returns the first `keep` characters of `postcode`, trimmed and upper-cased with inner
/// spaces removed, or `None` for an empty or blank postcode: a missing value stays missing.
/// A postcode shorter than `keep` is returned whole.
pub fn postcode_prefix(postcode: &str, keep: usize) -> Option<String> {
    let compact: String = postcode
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.is_empty() {
        return None;
    }
    Some(compact.chars().take(keep).collect())
}

/// A generalisation of a column, as written in configs, such as
/// `{"age_band": {"width": 10, "top": 90}}` or `{"truncate_time": "day"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Generalization {
    /// Integer ages to bands, see [`age_band`]; the output is text such as `30-39`.
    AgeBand {
        /// Band width in years.
        width: u32,
        /// Start of the open top band, if any.
        #[serde(default)]
        top: Option<i64>,
    },
    /// Timestamps to the start of a unit, see [`truncate_time`]; the output keeps the type.
    TruncateTime(TimeUnit),
    /// Postcodes to a prefix of this many characters, see [`postcode_prefix`].
    PostcodePrefix(usize),
}

/// Applies `generalization` to every cell of `column`. Nulls stay null.
///
/// Age bands take integer columns and return Utf8. Time truncation takes Timestamp columns
/// of any unit and Date32 and keeps the type. Postcode prefixes take string columns and
/// return Utf8.
///
/// NOTE: Arrow stores timestamps as UTC instants, so a column with a time zone is cut at
/// UTC hour and day boundaries, not local ones. Shift the values first for local days. Fails on
/// another type, or on the first invalid value, naming its row.
pub fn generalize_column(column: &dyn Array, generalization: &Generalization) -> Result<ArrayRef> {
    match generalization {
        Generalization::AgeBand { width, top } => {
            if !column.data_type().is_integer() {
                return Err(wrong_type(
                    "age_band",
                    column.data_type(),
                    "an integer type",
                ));
            }
            let ages = cast(column, &DataType::Int64)?;
            let bands = ages
                .as_primitive::<Int64Type>()
                .iter()
                .enumerate()
                .map(|(row, age)| {
                    age.map(|age| age_band(age, *width, *top).map(|band| band.to_string()))
                        .transpose()
                        .map_err(|error| at_row(row, error))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(StringArray::from(bands)))
        }
        Generalization::TruncateTime(unit) => truncate_column(column, *unit),
        Generalization::PostcodePrefix(keep) => {
            let text = match column.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    cast(column, &DataType::Utf8)?
                }
                other => return Err(wrong_type("postcode_prefix", other, "a string type")),
            };
            let prefixes: StringArray = text
                .as_string::<i32>()
                .iter()
                .map(|code| code.and_then(|code| postcode_prefix(code, *keep)))
                .collect();
            Ok(Arc::new(prefixes))
        }
    }
}

fn truncate_column(column: &dyn Array, unit: TimeUnit) -> Result<ArrayRef> {
    let (ticks_per_second, target) = match column.data_type() {
        DataType::Timestamp(arrow_unit, zone) => {
            let ticks: i64 = match arrow_unit {
                ArrowTimeUnit::Second => 1,
                ArrowTimeUnit::Millisecond => 1_000,
                ArrowTimeUnit::Microsecond => 1_000_000,
                ArrowTimeUnit::Nanosecond => 1_000_000_000,
            };
            (ticks, DataType::Timestamp(*arrow_unit, zone.clone()))
        }
        DataType::Date32 => (0, DataType::Date32),
        other => return Err(wrong_type("truncate_time", other, "Timestamp or Date32")),
    };
    if ticks_per_second == 0 {
        let days = column.as_primitive::<Date32Type>();
        let truncated: arrow::array::Date32Array = days
            .iter()
            .map(|day| {
                day.map(|day| {
                    let time = epoch_date(i64::from(day)).and_hms_opt(0, 0, 0);
                    time.map_or(day, |time| {
                        let start = truncate_time(time, unit.max(TimeUnit::Day));
                        (start.date() - unix_epoch()).num_days() as i32
                    })
                })
            })
            .collect();
        return Ok(Arc::new(truncated));
    }
    let ticks = cast(column, &DataType::Int64)?;
    let truncated = ticks
        .as_primitive::<Int64Type>()
        .iter()
        .enumerate()
        .map(|(row, tick)| {
            tick.map(|tick| truncate_ticks(tick, ticks_per_second, unit))
                .transpose()
                .map_err(|error| at_row(row, error))
        })
        .collect::<Result<Int64Array>>()?;
    Ok(cast(&truncated, &target)?)
}

/// Truncates a count of ticks since the Unix epoch, read as wall-clock time.
fn truncate_ticks(tick: i64, ticks_per_second: i64, unit: TimeUnit) -> Result<i64> {
    let seconds = tick.div_euclid(ticks_per_second);
    let time = DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "the timestamp {tick} is outside the range of calendar dates"
            ))
        })?
        .naive_utc();
    let start = truncate_time(time, unit).and_utc().timestamp();
    Ok(start * ticks_per_second)
}

fn unix_epoch() -> NaiveDate {
    DateTime::UNIX_EPOCH.date_naive()
}

fn epoch_date(days: i64) -> NaiveDate {
    unix_epoch() + chrono::Duration::days(days)
}

fn wrong_type(generalization: &str, found: &DataType, expected: &str) -> Error {
    Error::InvalidInput(format!(
        "{generalization} cannot generalise a column of type {found}; it takes {expected}, so \
         cast the column first"
    ))
}

fn at_row(row: usize, error: Error) -> Error {
    match error {
        Error::InvalidInput(message) => Error::InvalidInput(format!("row {row}: {message}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_cell_size_is_about_asked() {
        let cell = grid_cell(0.0, 0.0, 1000.0).expect("valid point");
        let next = grid_cell(0.0, cell.centre_lon + 0.01, 1000.0).expect("valid point");
        assert_ne!(cell.col, next.col);
        let metres_per_degree = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        let width_m = (next.centre_lon - cell.centre_lon) * metres_per_degree;
        assert!((1000.0..1001.0).contains(&width_m), "{width_m}");
    }
}
