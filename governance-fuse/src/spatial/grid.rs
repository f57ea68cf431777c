//! Grid cells for points: a regular latitude/longitude grid with a cell size in metres, and
//! geohash cells.
//!
//! The regular grid has a constant step in degrees: the latitude step is the cell size over
//! [`METRES_PER_DEGREE`], and the longitude step also divides by the cosine of a reference
//! latitude, so cells are square at that latitude (pick the centre of the city) and narrow
//! slowly away from it. Over a city of 50 km the width error is below 1 %.

use arrow::array::{Int64Array, StringArray};
use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::coords::{Coordinates, LatLon, METRES_PER_DEGREE};

/// A regular grid over latitude and longitude.
///
/// ```
/// use governance_fuse::spatial::{GridSpec, LatLon};
///
/// let grid = GridSpec::new(1000.0, 39.9)?;
/// let cell = grid.cell(LatLon::new(39.9042, 116.4074).expect("valid"));
/// let centre = grid.centre(cell);
/// assert!((centre.lat() - 39.9042).abs() < 0.005);
/// # Ok::<(), governance_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSpec {
    /// Cell edge in metres, greater than 0.
    pub cell_size_m: f64,
    /// Latitude in degrees where cells are square; within (-85, 85).
    pub reference_latitude: f64,
}

/// A cell of a [`GridSpec`]: row counts up from latitude -90, column from longitude -180.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GridCell {
    /// Row index, from the south.
    pub row: i64,
    /// Column index, from the west.
    pub col: i64,
}

impl GridSpec {
    /// Creates a grid; fails when the cell size is not a positive finite number of metres or
    /// the reference latitude is outside (-85, 85) degrees.
    pub fn new(cell_size_m: f64, reference_latitude: f64) -> Result<Self> {
        let grid = GridSpec {
            cell_size_m,
            reference_latitude,
        };
        grid.validate()?;
        Ok(grid)
    }

    /// Checks the fields, for a grid read from a config.
    pub fn validate(&self) -> Result<()> {
        if !(self.cell_size_m.is_finite() && self.cell_size_m > 0.0) {
            return Err(Error::InvalidInput(format!(
                "grid cell size {} m is invalid: use a positive number of metres",
                self.cell_size_m
            )));
        }
        if !(self.reference_latitude.is_finite() && self.reference_latitude.abs() < 85.0) {
            return Err(Error::InvalidInput(format!(
                "grid reference latitude {} is invalid: use a latitude within (-85, 85) degrees, \
                 such as the centre of the area",
                self.reference_latitude
            )));
        }
        Ok(())
    }

    /// Returns the latitude step in degrees.
    pub fn lat_step(&self) -> f64 {
        self.cell_size_m / METRES_PER_DEGREE
    }

    /// Returns the longitude step in degrees.
    pub fn lon_step(&self) -> f64 {
        self.cell_size_m / (METRES_PER_DEGREE * self.reference_latitude.to_radians().cos())
    }

    /// Returns the cell holding `point`. A point on an edge belongs to the cell north or
    /// east of it.
    pub fn cell(&self, point: LatLon) -> GridCell {
        GridCell {
            row: ((point.lat() + 90.0) / self.lat_step()).floor() as i64,
            col: ((point.lon() + 180.0) / self.lon_step()).floor() as i64,
        }
    }

    /// Returns the centre of `cell`, with the latitude clamped to [-90, 90] and the
    /// longitude to [-180, 180] for the last row and column.
    pub fn centre(&self, cell: GridCell) -> LatLon {
        let lat = -90.0 + (cell.row as f64 + 0.5) * self.lat_step();
        let lon = -180.0 + (cell.col as f64 + 0.5) * self.lon_step();
        LatLon::clamped(lat, lon)
    }
}

/// Returns the grid row and column of every point; null where the point is invalid.
pub fn grid_cells(coordinates: &Coordinates, grid: &GridSpec) -> Result<(Int64Array, Int64Array)> {
    grid.validate()?;
    let cells: Vec<Option<GridCell>> = coordinates
        .points()
        .iter()
        .map(|point| point.as_ref().ok().map(|point| grid.cell(*point)))
        .collect();
    let rows = cells.iter().map(|cell| cell.map(|cell| cell.row)).collect();
    let cols = cells.iter().map(|cell| cell.map(|cell| cell.col)).collect();
    Ok((rows, cols))
}

/// Longest geohash this module encodes: 12 characters, cells of a few centimetres.
pub const MAX_GEOHASH_PRECISION: usize = 12;

const GEOHASH_ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// Encodes `point` as a geohash of `precision` characters (1 to 12).
///
/// Bits alternate between longitude and latitude, starting with longitude; each bit halves
/// the current interval, and five bits make one base-32 character. A point on an edge goes
/// to the upper half.
pub fn geohash(point: LatLon, precision: usize) -> Result<String> {
    if !(1..=MAX_GEOHASH_PRECISION).contains(&precision) {
        return Err(Error::InvalidInput(format!(
            "geohash precision {precision} is invalid: use 1 to {MAX_GEOHASH_PRECISION} characters"
        )));
    }
    let (mut lat_low, mut lat_high) = (-90.0_f64, 90.0_f64);
    let (mut lon_low, mut lon_high) = (-180.0_f64, 180.0_f64);
    let mut hash = String::with_capacity(precision);
    let mut even_bit = true;
    for _ in 0..precision {
        let mut index = 0usize;
        for _ in 0..5 {
            let (value, low, high) = if even_bit {
                (point.lon(), &mut lon_low, &mut lon_high)
            } else {
                (point.lat(), &mut lat_low, &mut lat_high)
            };
            let middle = (*low + *high) / 2.0;
            index <<= 1;
            if value >= middle {
                index |= 1;
                *low = middle;
            } else {
                *high = middle;
            }
            even_bit = !even_bit;
        }
        hash.push(char::from(GEOHASH_ALPHABET[index]));
    }
    Ok(hash)
}

/// Returns the geohash of every point; null where the point is invalid.
pub fn geohash_cells(coordinates: &Coordinates, precision: usize) -> Result<StringArray> {
    let mut hashes: Vec<Option<String>> = Vec::with_capacity(coordinates.len());
    for point in coordinates.points() {
        hashes.push(match point {
            Ok(point) => Some(geohash(*point, precision)?),
            Err(_) => None,
        });
    }
    Ok(StringArray::from(hashes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::haversine_m;
    use arrow::array::{Array, Float64Array};

    fn point(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).expect("valid point")
    }

    #[test]
    fn geohash_matches_published_examples() {
        // Examples from the geohash description by its author, G. Niemeyer.
        assert_eq!(geohash(point(42.605, -5.603), 5).expect("hash"), "ezs42");
        assert_eq!(
            geohash(point(57.64911, 10.40744), 11).expect("hash"),
            "u4pruydqqvj"
        );
    }

    #[test]
    fn geohash_prefix_is_coarser_cell() {
        let fine = geohash(point(39.9042, 116.4074), 9).expect("hash");
        let coarse = geohash(point(39.9042, 116.4074), 4).expect("hash");
        assert!(fine.starts_with(&coarse), "{fine} {coarse}");
        assert!(fine.starts_with("wx4g"), "{fine}");
    }

    #[test]
    fn geohash_precision_is_checked() {
        assert!(geohash(point(0.0, 0.0), 0).is_err());
        let error = geohash(point(0.0, 0.0), 13).expect_err("too long");
        assert!(error.to_string().contains("13"), "{error}");
    }

    #[test]
    fn grid_cells_are_cell_size_apart() {
        let grid = GridSpec::new(500.0, 39.9).expect("grid");
        let here = point(39.9, 116.4);
        let cell = grid.cell(here);
        let north = grid.centre(GridCell {
            row: cell.row + 1,
            col: cell.col,
        });
        let east = grid.centre(GridCell {
            row: cell.row,
            col: cell.col + 1,
        });
        let centre = grid.centre(cell);
        assert!((haversine_m(centre, north) - 500.0).abs() < 0.5);
        assert!((haversine_m(centre, east) - 500.0).abs() < 0.5);
        assert_eq!(grid.cell(centre), cell);
    }

    #[test]
    fn grid_cells_are_null_for_invalid_points() {
        let lat = Float64Array::from(vec![Some(39.9), Some(f64::NAN), None]);
        let lon = Float64Array::from(vec![116.4, 116.4, 116.4]);
        let coordinates = Coordinates::read(&lat, "lat", &lon, "lon").expect("read");
        let grid = GridSpec::new(1000.0, 39.9).expect("grid");
        let (rows, cols) = grid_cells(&coordinates, &grid).expect("cells");
        assert!(rows.is_valid(0) && cols.is_valid(0));
        assert_eq!(rows.null_count(), 2);
        let hashes = geohash_cells(&coordinates, 6).expect("hashes");
        assert_eq!(hashes.null_count(), 2);
        assert_eq!(hashes.value(0).len(), 6);
    }

    #[test]
    fn bad_grid_specs_are_rejected() {
        assert!(GridSpec::new(0.0, 39.9).is_err());
        assert!(GridSpec::new(f64::NAN, 39.9).is_err());
        let error = GridSpec::new(100.0, 89.0).expect_err("polar reference");
        assert!(error.to_string().contains("89"), "{error}");
    }
}
