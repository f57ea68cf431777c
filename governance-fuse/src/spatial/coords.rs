//! Latitude and longitude: validated points, the reading of coordinate columns with a report
//! of invalid values, and the haversine distance.
//!
//! Units: degrees (WGS 84 latitude in [-90, 90], longitude in [-180, 180]) and metres on a
//! sphere of the mean Earth radius.

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use governance_core::{Error, IssueKind, Result};
use serde::{Deserialize, Serialize};

/// Mean Earth radius in metres (IUGG, `(2a + b) / 3` of WGS 84).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Metres per degree of latitude on the sphere of [`EARTH_RADIUS_M`].
pub const METRES_PER_DEGREE: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;

/// Coordinate axis of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// Latitude, in [-90, 90] degrees.
    Latitude,
    /// Longitude, in [-180, 180] degrees.
    Longitude,
}

impl Axis {
    fn limit(self) -> f64 {
        match self {
            Axis::Latitude => 90.0,
            Axis::Longitude => 180.0,
        }
    }

    /// Returns the lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Axis::Latitude => "latitude",
            Axis::Longitude => "longitude",
        }
    }
}

/// Reason a coordinate is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CoordinateProblem {
    /// The value is null.
    Null {
        /// Coordinate that is null.
        axis: Axis,
    },
    /// The value is NaN.
    NotANumber {
        /// Coordinate that is NaN.
        axis: Axis,
    },
    /// The value is infinite or outside its range.
    OutOfRange {
        /// Coordinate out of range.
        axis: Axis,
        /// The value, in degrees.
        value: f64,
    },
}

impl CoordinateProblem {
    /// Returns the coordinate concerned.
    pub fn axis(&self) -> Axis {
        match *self {
            CoordinateProblem::Null { axis }
            | CoordinateProblem::NotANumber { axis }
            | CoordinateProblem::OutOfRange { axis, .. } => axis,
        }
    }

    /// Returns the issue kind that reports this problem in the issue log.
    pub fn issue_kind(&self) -> IssueKind {
        match self {
            CoordinateProblem::Null { .. } => IssueKind::Missing,
            CoordinateProblem::NotANumber { .. } => IssueKind::Format,
            CoordinateProblem::OutOfRange { .. } => IssueKind::OutOfRange,
        }
    }
}

impl std::fmt::Display for CoordinateProblem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            CoordinateProblem::Null { axis } => write!(formatter, "{} is null", axis.as_str()),
            CoordinateProblem::NotANumber { axis } => {
                write!(formatter, "{} is NaN", axis.as_str())
            }
            CoordinateProblem::OutOfRange { axis, value } => write!(
                formatter,
                "{} {value} is outside [-{limit}, {limit}] degrees",
                axis.as_str(),
                limit = axis.limit()
            ),
        }
    }
}

/// A valid point in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    lat: f64,
    lon: f64,
}

impl LatLon {
    /// Creates a point; fails when a coordinate is NaN, infinite or out of range.
    pub fn new(lat: f64, lon: f64) -> std::result::Result<Self, CoordinateProblem> {
        check(lat, Axis::Latitude)?;
        check(lon, Axis::Longitude)?;
        Ok(LatLon { lat, lon })
    }

    /// Creates a point with each coordinate clamped into its range. The caller passes no NaN:
    /// grid arithmetic on finite steps cannot produce one.
    pub(crate) fn clamped(lat: f64, lon: f64) -> Self {
        LatLon {
            lat: lat.clamp(-90.0, 90.0),
            lon: lon.clamp(-180.0, 180.0),
        }
    }

    /// Returns the latitude in degrees.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Returns the longitude in degrees.
    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// Returns the point on the unit sphere, for nearest-neighbour search by chord length.
    pub(crate) fn unit_vector(&self) -> [f64; 3] {
        let (lat, lon) = (self.lat.to_radians(), self.lon.to_radians());
        [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
    }
}

fn check(value: f64, axis: Axis) -> std::result::Result<(), CoordinateProblem> {
    if value.is_nan() {
        return Err(CoordinateProblem::NotANumber { axis });
    }
    if !(-axis.limit()..=axis.limit()).contains(&value) {
        return Err(CoordinateProblem::OutOfRange { axis, value });
    }
    Ok(())
}

/// Returns the great-circle distance in metres between two points, by the haversine formula
/// on a sphere of [`EARTH_RADIUS_M`]. Off by up to about 0.5 % from the WGS 84 ellipsoid.
pub fn haversine_m(from: LatLon, to: LatLon) -> f64 {
    let (lat1, lat2) = (from.lat.to_radians(), to.lat.to_radians());
    let half_dlat = (lat2 - lat1) / 2.0;
    let half_dlon = (to.lon - from.lon).to_radians() / 2.0;
    let h = half_dlat.sin().powi(2) + lat1.cos() * lat2.cos() * half_dlon.sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Counts of valid and invalid points in a coordinate column pair. A row with two problems
/// counts once, under its latitude problem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinateReport {
    /// Rows with a valid point.
    pub valid: u64,
    /// Rows with a null coordinate.
    pub null: u64,
    /// Rows with a NaN coordinate.
    pub not_a_number: u64,
    /// Rows with an infinite or out-of-range coordinate.
    pub out_of_range: u64,
}

impl CoordinateReport {
    /// Returns the rows without a valid point.
    pub fn invalid(&self) -> u64 {
        self.null + self.not_a_number + self.out_of_range
    }

    fn count(&mut self, point: &std::result::Result<LatLon, CoordinateProblem>) {
        match point {
            Ok(_) => self.valid += 1,
            Err(CoordinateProblem::Null { .. }) => self.null += 1,
            Err(CoordinateProblem::NotANumber { .. }) => self.not_a_number += 1,
            Err(CoordinateProblem::OutOfRange { .. }) => self.out_of_range += 1,
        }
    }
}

/// The points of a pair of coordinate columns, one per row, each valid or with its problem.
#[derive(Debug, Clone)]
pub struct Coordinates {
    points: Vec<std::result::Result<LatLon, CoordinateProblem>>,
    report: CoordinateReport,
}

impl Coordinates {
    /// Reads a latitude and a longitude column of any numeric type (cast to Float64).
    ///
    /// Fails, naming the column and its type, when a column is not numeric, and when the two
    /// lengths differ. Invalid values are not errors: they are kept per row and counted.
    pub fn read(
        latitude: &dyn Array,
        latitude_name: &str,
        longitude: &dyn Array,
        longitude_name: &str,
    ) -> Result<Self> {
        if latitude.len() != longitude.len() {
            return Err(Error::InvalidInput(format!(
                "latitude column {latitude_name:?} has {} rows but longitude column \
                 {longitude_name:?} has {}: pass columns of one batch",
                latitude.len(),
                longitude.len()
            )));
        }
        let lat = degrees(latitude, latitude_name, Axis::Latitude)?;
        let lon = degrees(longitude, longitude_name, Axis::Longitude)?;
        let lat = lat.as_primitive::<Float64Type>();
        let lon = lon.as_primitive::<Float64Type>();
        let mut report = CoordinateReport::default();
        let mut points = Vec::with_capacity(lat.len());
        for row in 0..lat.len() {
            let point = if lat.is_null(row) {
                Err(CoordinateProblem::Null {
                    axis: Axis::Latitude,
                })
            } else if lon.is_null(row) {
                Err(CoordinateProblem::Null {
                    axis: Axis::Longitude,
                })
            } else {
                LatLon::new(lat.value(row), lon.value(row))
            };
            report.count(&point);
            points.push(point);
        }
        Ok(Coordinates { points, report })
    }

    /// Returns the point of `row`, or its problem.
    pub fn get(&self, row: usize) -> Option<&std::result::Result<LatLon, CoordinateProblem>> {
        self.points.get(row)
    }

    /// Returns one entry per row.
    pub fn points(&self) -> &[std::result::Result<LatLon, CoordinateProblem>] {
        &self.points
    }

    /// Returns the counts of valid and invalid rows.
    pub fn report(&self) -> &CoordinateReport {
        &self.report
    }

    /// Returns the number of rows.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Returns true when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

fn degrees(array: &dyn Array, name: &str, axis: Axis) -> Result<arrow::array::ArrayRef> {
    if !array.data_type().is_numeric() && array.data_type() != &DataType::Null {
        return Err(Error::InvalidInput(format!(
            "{} column {name:?} has type {}; expected a numeric type in degrees: parse or cast \
             the column first",
            axis.as_str(),
            array.data_type()
        )));
    }
    Ok(cast(array, &DataType::Float64)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float32Array, Float64Array, StringArray};

    fn point(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).expect("valid point")
    }

    #[test]
    fn haversine_matches_known_distances() {
        // One degree of latitude on the mean sphere.
        let degree = haversine_m(point(0.0, 0.0), point(1.0, 0.0));
        assert!((degree - METRES_PER_DEGREE).abs() < 1e-6, "{degree}");
        // Across the antimeridian: 0.2 degrees of longitude at the equator.
        let across = haversine_m(point(0.0, 179.9), point(0.0, -179.9));
        assert!((across - 0.2 * METRES_PER_DEGREE).abs() < 1e-3, "{across}");
        // Antipodes: half the circumference.
        let antipodes = haversine_m(point(0.0, 0.0), point(0.0, 180.0));
        assert!((antipodes - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1e-3);
    }

    #[test]
    fn invalid_values_are_counted_per_kind() {
        let lat = Float64Array::from(vec![
            Some(39.9),
            None,
            Some(f64::NAN),
            Some(91.0),
            Some(39.9),
            Some(f64::INFINITY),
        ]);
        let lon = Float32Array::from(vec![
            Some(116.4),
            Some(116.4),
            Some(116.4),
            Some(116.4),
            Some(-181.0),
            Some(0.0),
        ]);
        let coordinates = Coordinates::read(&lat, "lat", &lon, "lon").expect("read");
        let report = coordinates.report();
        assert_eq!(report.valid, 1);
        assert_eq!(report.null, 1);
        assert_eq!(report.not_a_number, 1);
        assert_eq!(report.out_of_range, 3);
        assert_eq!(report.invalid(), 5);
        let problem = coordinates.get(4).expect("row").expect_err("invalid");
        assert_eq!(problem.axis(), Axis::Longitude);
        assert_eq!(problem.issue_kind(), IssueKind::OutOfRange);
        assert!(problem.to_string().contains("-181"), "{problem}");
    }

    #[test]
    fn text_column_names_column_and_type() {
        let lat = StringArray::from(vec!["39.9"]);
        let lon = Float64Array::from(vec![116.4]);
        let error = Coordinates::read(&lat, "lat", &lon, "lon").expect_err("text");
        let message = error.to_string();
        assert!(message.contains("\"lat\""), "{message}");
        assert!(message.contains("Utf8"), "{message}");
    }

    #[test]
    fn length_mismatch_is_rejected() {
        let lat = Float64Array::from(vec![1.0, 2.0]);
        let lon = Float64Array::from(vec![1.0]);
        assert!(Coordinates::read(&lat, "lat", &lon, "lon").is_err());
    }
}
