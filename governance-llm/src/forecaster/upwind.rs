//! The upwind mean: for each series, the mean target of the other series that lie in the
//! direction the wind comes from, weighted by how closely each lies in that direction.
//!
//! Pollution travels with the wind, so a station downwind of a polluted one often measures
//! the rise some hours later. The weight of series `j` for series `i` at an hour is
//! `max(0, cos a)`, where `a` is the angle between the direction the wind at `i` comes from
//! and the bearing from `i` to `j`. Bearings come from positions on a flat local map
//! (longitude scaled by the cosine of the latitude), which is accurate enough over the tens
//! of kilometres between city stations.

use serde::{Deserialize, Serialize};

use super::series::{HOUR_MS, SeriesSet};
use crate::{Error, Result};

/// Position of one series, such as a monitoring station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesPosition {
    /// Series name.
    pub name: String,
    /// Latitude in degrees north.
    pub latitude: f64,
    /// Longitude in degrees east.
    pub longitude: f64,
}

/// Settings of the upwind mean column `target[upwind]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpwindMean {
    /// Positions of the series; a series without one gets a missing upwind mean and adds
    /// nothing to the others'.
    pub positions: Vec<SeriesPosition>,
    /// Covariate holding the east component of the vector pointing to where the wind comes
    /// from, such as the wind speed times the sine of the meteorological wind direction.
    pub wind_from_east: String,
    /// Covariate holding the north component of that vector (speed times the cosine).
    pub wind_from_north: String,
}

/// Kilometres per degree of latitude, on a sphere of the Earth's mean radius (6371 km).
const KM_PER_DEGREE: f64 = 111.195;

impl UpwindMean {
    /// Checks that the wind columns are covariates and that the positions are valid
    /// coordinates.
    pub(crate) fn validate(&self, covariate_names: &[String]) -> Result<()> {
        for name in [&self.wind_from_east, &self.wind_from_north] {
            if !covariate_names.contains(name) {
                return Err(Error::Config(format!(
                    "the upwind mean needs the wind covariate {name:?}, which is not among \
                     the covariates [{}]",
                    covariate_names.join(", ")
                )));
            }
        }
        for position in &self.positions {
            let valid_latitude = position.latitude.is_finite() && position.latitude.abs() <= 90.0;
            let valid_longitude =
                position.longitude.is_finite() && position.longitude.abs() <= 180.0;
            if !valid_latitude || !valid_longitude {
                return Err(Error::Config(format!(
                    "position of series {:?} is ({}, {}); give the latitude within ±90 and \
                     the longitude within ±180 degrees",
                    position.name, position.latitude, position.longitude
                )));
            }
        }
        Ok(())
    }

    /// Returns one upwind-mean column per series of `data`, on that series' hours. `warp`
    /// maps a target value to the unit of the mean (such as `ln(1 + y)`).
    pub(crate) fn columns(&self, data: &SeriesSet, warp: impl Fn(f32) -> f32) -> Vec<Vec<f32>> {
        let column_of = |name: &String| {
            data.covariate_names
                .iter()
                .position(|candidate| candidate == name)
        };
        let (Some(east_column), Some(north_column)) = (
            column_of(&self.wind_from_east),
            column_of(&self.wind_from_north),
        ) else {
            return data
                .series
                .iter()
                .map(|one| vec![f32::NAN; one.values.len()])
                .collect();
        };
        let position_of = |name: &str| self.positions.iter().find(|position| position.name == name);
        let mut result = Vec::with_capacity(data.series.len());
        for receptor in &data.series {
            let mut column = vec![f32::NAN; receptor.values.len()];
            let Some(origin) = position_of(&receptor.name) else {
                result.push(column);
                continue;
            };
            let first_hour = receptor.start_ms.div_euclid(HOUR_MS);
            // Unit vectors from this series to every other positioned one.
            let others: Vec<(usize, f64, f64)> = data
                .series
                .iter()
                .enumerate()
                .filter(|(_, other)| other.name != receptor.name)
                .filter_map(|(index, other)| {
                    let target = position_of(&other.name)?;
                    let east = (target.longitude - origin.longitude)
                        * KM_PER_DEGREE
                        * origin.latitude.to_radians().cos();
                    let north = (target.latitude - origin.latitude) * KM_PER_DEGREE;
                    let distance = east.hypot(north);
                    (distance > 0.0).then_some((index, east / distance, north / distance))
                })
                .collect();
            for (hour, slot) in column.iter_mut().enumerate() {
                let wind_east = f64::from(receptor.covariates[east_column][hour]);
                let wind_north = f64::from(receptor.covariates[north_column][hour]);
                let speed = wind_east.hypot(wind_north);
                // Calm or missing wind (NaN) has no upwind direction.
                if speed.is_nan() || speed <= 0.0 {
                    continue;
                }
                let absolute = first_hour + hour as i64;
                let (mut weighted, mut weights) = (0.0f64, 0.0f64);
                for &(index, east, north) in &others {
                    let other = &data.series[index];
                    let Some(value) =
                        usize::try_from(absolute - other.start_ms.div_euclid(HOUR_MS))
                            .ok()
                            .and_then(|at| other.values.get(at).copied())
                            .filter(|value| !value.is_nan())
                    else {
                        continue;
                    };
                    let weight = ((wind_east * east + wind_north * north) / speed).max(0.0);
                    weighted += weight * f64::from(warp(value));
                    weights += weight;
                }
                if weights > 0.0 {
                    *slot = (weighted / weights) as f32;
                }
            }
            result.push(column);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecaster::HourlySeries;

    fn station(name: &str, value: f32, wind: (f32, f32)) -> HourlySeries {
        HourlySeries {
            name: name.into(),
            start_ms: 0,
            values: vec![value, value],
            covariates: vec![vec![wind.0, f32::NAN], vec![wind.1, wind.1]],
        }
    }

    fn place(name: &str, latitude: f64, longitude: f64) -> SeriesPosition {
        SeriesPosition {
            name: name.into(),
            latitude,
            longitude,
        }
    }

    #[test]
    fn upwind_mean_weights_by_direction() {
        // "here" has a station 10 km north and one 10 km east; the wind comes from the north.
        let data = SeriesSet {
            covariate_names: vec!["from_east".into(), "from_north".into()],
            series: vec![
                station("here", 1.0, (0.0, 3.0)),
                station("north", 50.0, (0.0, 3.0)),
                station("east", 9.0, (0.0, 3.0)),
            ],
        };
        let upwind = UpwindMean {
            positions: vec![
                place("here", 40.0, 116.0),
                place("north", 40.09, 116.0),
                place("east", 40.0, 116.117),
            ],
            wind_from_east: "from_east".into(),
            wind_from_north: "from_north".into(),
        };
        let columns = upwind.columns(&data, |value| value);
        assert!(
            (columns[0][0] - 50.0).abs() < 0.1,
            "north only: {}",
            columns[0][0]
        );
        assert!(
            columns[0][1].is_nan(),
            "a missing wind gives no upwind mean"
        );
        assert!(
            columns[1][0].is_nan(),
            "nothing lies north of the north station"
        );
    }

    #[test]
    fn derived_covariates_append_upwind_mean() {
        let data = SeriesSet {
            covariate_names: vec!["from_east".into(), "from_north".into()],
            series: vec![
                station("here", 1.0, (3.0, 0.0)),
                station("east", 20.0, (3.0, 0.0)),
            ],
        };
        let derived = crate::forecaster::DerivedCovariates {
            upwind: Some(UpwindMean {
                positions: vec![place("here", 40.0, 116.0), place("east", 40.0, 116.1)],
                wind_from_east: "from_east".into(),
                wind_from_north: "from_north".into(),
            }),
            ..crate::forecaster::DerivedCovariates::default()
        };
        let names = vec!["here".to_string(), "east".to_string()];
        let out = derived.apply(&data, &names, true).expect("derive");
        assert_eq!(
            out.covariate_names.last().map(String::as_str),
            Some("target[upwind]")
        );
        let upwind = &out.series[0].covariates[2];
        assert!((upwind[0] - 20.0f32.ln_1p()).abs() < 1e-6, "{}", upwind[0]);
    }

    #[test]
    fn unknown_wind_column_is_rejected() {
        let upwind = UpwindMean {
            positions: Vec::new(),
            wind_from_east: "u".into(),
            wind_from_north: "v".into(),
        };
        let error = upwind
            .validate(&["temp".to_string()])
            .expect_err("unknown column");
        assert!(error.to_string().contains("\"u\""), "{error}");
    }
}
