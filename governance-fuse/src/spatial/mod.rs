//! Spatial alignment: points to grid cells, and the nearest station within a radius.
//!
//! - [`Coordinates::read`] turns a latitude and a longitude column into points, keeping a
//!   [`CoordinateProblem`] for each null, NaN or out-of-range value and counting them in a
//!   [`CoordinateReport`]; invalid values never cause an error or a panic.
//! - [`GridSpec`] and [`grid_cells`] map points to a regular grid with a cell size in metres;
//!   [`geohash`] and [`geohash_cells`] to geohash cells.
//! - [`StationIndex`] finds the nearest station within a radius through an R-tree (crate
//!   `rstar`, the R-tree of the GeoRust project), and [`NearestStationJoin`] attaches the
//!   station's id and distance to each stream row as a [`Fuser`](governance_core::Fuser).
//!
//! Units: coordinates in degrees (WGS 84), distances and cell sizes in metres, measured on a
//! sphere of the mean Earth radius by the haversine formula.

mod coords;
mod fuser;
mod grid;
mod nearest;

pub use coords::{
    Axis, CoordinateProblem, CoordinateReport, Coordinates, EARTH_RADIUS_M, LatLon,
    METRES_PER_DEGREE, haversine_m,
};
pub use fuser::{NearestStationConfig, NearestStationJoin, NearestStationReport, valid_points};
pub use grid::{GridCell, GridSpec, MAX_GEOHASH_PRECISION, geohash, geohash_cells, grid_cells};
pub use nearest::{NearestStation, StationIndex, nearest_stations};
