//! Nearest station within a radius, through an R-tree.
//!
//! Stations are stored in an `rstar` R-tree as points on the unit sphere in three dimensions.
//! The straight-line (chord) distance between two such points rises with the great-circle
//! distance, so the R-tree's Euclidean nearest neighbour is also the nearest station on the
//! sphere, with no special case at the antimeridian or the poles. The haversine distance of
//! that station then decides whether it lies within the radius.

use rstar::RTree;
use rstar::primitives::GeomWithData;

use super::coords::{Coordinates, LatLon, haversine_m};

/// A match: the position of the station in the order given to [`StationIndex::new`], and
/// its distance in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearestStation {
    /// Position of the station.
    pub station: usize,
    /// Haversine distance in metres.
    pub distance_m: f64,
}

/// An R-tree over station points.
#[derive(Debug)]
pub struct StationIndex {
    tree: RTree<GeomWithData<[f64; 3], usize>>,
    points: Vec<LatLon>,
}

impl StationIndex {
    /// Builds the index over `stations`, bulk-loaded in O(n log n).
    pub fn new(stations: Vec<LatLon>) -> Self {
        let entries = stations
            .iter()
            .enumerate()
            .map(|(position, point)| GeomWithData::new(point.unit_vector(), position))
            .collect();
        StationIndex {
            tree: RTree::bulk_load(entries),
            points: stations,
        }
    }

    /// Returns the number of stations.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Returns true when there are no stations.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Returns the station at `position`.
    pub fn station(&self, position: usize) -> Option<LatLon> {
        self.points.get(position).copied()
    }

    /// Returns the nearest station to `point` when it lies within `radius_m` metres
    /// (inclusive). Of several stations at the same distance, one is returned.
    pub fn nearest_within(&self, point: LatLon, radius_m: f64) -> Option<NearestStation> {
        let found = self.tree.nearest_neighbor(&point.unit_vector())?;
        let station = found.data;
        let distance_m = haversine_m(point, self.points[station]);
        (distance_m <= radius_m).then_some(NearestStation {
            station,
            distance_m,
        })
    }
}

/// Returns, per row, the nearest station within `radius_m` metres; `None` for an invalid
/// point and for a point with no station within the radius.
pub fn nearest_stations(
    coordinates: &Coordinates,
    index: &StationIndex,
    radius_m: f64,
) -> Vec<Option<NearestStation>> {
    coordinates
        .points()
        .iter()
        .map(|point| {
            point
                .as_ref()
                .ok()
                .and_then(|point| index.nearest_within(*point, radius_m))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(lat: f64, lon: f64) -> LatLon {
        LatLon::new(lat, lon).expect("valid point")
    }

    /// Brute force over every station by haversine distance.
    fn brute_force(stations: &[LatLon], query: LatLon) -> (usize, f64) {
        stations
            .iter()
            .enumerate()
            .map(|(position, station)| (position, haversine_m(query, *station)))
            .fold((usize::MAX, f64::INFINITY), |best, next| {
                if next.1 < best.1 { next } else { best }
            })
    }

    #[test]
    fn matches_brute_force_on_a_lattice() {
        // A lattice of stations around Beijing and queries between them.
        let mut stations = Vec::new();
        for i in 0..20 {
            for j in 0..20 {
                stations.push(point(39.5 + 0.037 * i as f64, 116.0 + 0.041 * j as f64));
            }
        }
        let index = StationIndex::new(stations.clone());
        for k in 0..200 {
            let query = point(39.45 + 0.0043 * k as f64, 115.95 + 0.0047 * k as f64);
            let (expected, distance) = brute_force(&stations, query);
            let found = index
                .nearest_within(query, f64::INFINITY)
                .expect("a station");
            assert!(
                (found.distance_m - distance).abs() < 1e-6,
                "query {k}: found {} at {} m, brute force {expected} at {distance} m",
                found.station,
                found.distance_m
            );
        }
    }

    #[test]
    fn radius_is_inclusive_and_excludes_far_points() {
        let index = StationIndex::new(vec![point(0.0, 0.0)]);
        let query = point(0.0, 0.01);
        let distance = haversine_m(query, point(0.0, 0.0));
        assert!(index.nearest_within(query, distance).is_some());
        assert!(index.nearest_within(query, distance - 0.01).is_none());
    }

    #[test]
    fn works_across_the_antimeridian() {
        let index = StationIndex::new(vec![point(0.0, 179.99), point(0.0, 170.0)]);
        let found = index
            .nearest_within(point(0.0, -179.99), 5_000.0)
            .expect("station across the antimeridian");
        assert_eq!(found.station, 0);
        assert!(found.distance_m < 2_300.0, "{}", found.distance_m);
    }

    #[test]
    fn empty_index_finds_nothing() {
        let index = StationIndex::new(Vec::new());
        assert!(index.is_empty());
        assert!(index.nearest_within(point(1.0, 1.0), 1e9).is_none());
    }
}
