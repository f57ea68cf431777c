//! Injection of realistic errors into a batch of clean sensor readings, recording each one as
//! ground truth.
//!
//! Errors never overlap: a gap skips cells that are already null, an outlier, swap or typo
//! only touches cells no earlier error touched, and only rows without any error are
//! duplicated. So every changed cell has exactly one ground-truth entry and its clean value.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::model::{BatchSpan, CityModel};
use super::random::{Stream, batch_rng, round_to};
use super::sensors::{PM10, PM25, POLLUTANTS, SensorRow};
use super::truth::{InjectedError, InjectedKind};

/// Maximum length of one gap, in hours.
const MAX_GAP_HOURS: usize = 6;

/// Column index used in `touched` for the station name.
const STATION: usize = POLLUTANTS.len();

/// A batch of readings after injection, with row ids and ground truth.
#[derive(Debug, Clone)]
pub(crate) struct InjectedBatch {
    pub rows: Vec<SensorRow>,
    pub row_ids: Vec<u64>,
    pub errors: Vec<InjectedError>,
}

/// An error recorded against a row's position before duplicates are inserted.
struct Pending {
    row: usize,
    column: usize,
    kind: InjectedKind,
    clean: String,
}

/// Injects errors into `rows` (ordered by hour, then station, as `span` lays them out) and
/// gives the rows the ids `first_id`, `first_id + 1`, and so on.
pub(crate) fn inject(
    model: &CityModel,
    span: &BatchSpan,
    mut rows: Vec<SensorRow>,
    first_id: u64,
) -> InjectedBatch {
    let rates = model.config.errors;
    let mut rng = batch_rng(model.config.seed, Stream::SensorErrors, span.index);
    let mut touched = vec![[false; POLLUTANTS.len() + 1]; rows.len()];
    let mut pending = Vec::new();

    let stride = span.stations.len();
    for start in 0..rows.len() {
        if rng.random::<f64>() >= rates.gap {
            continue;
        }
        let column = rng.random_range(0..POLLUTANTS.len());
        let length = rng.random_range(1..=MAX_GAP_HOURS);
        // The same station's next hours sit `stride` rows apart.
        for row in (start..rows.len()).step_by(stride).take(length) {
            let Some(clean) = rows[row].values[column] else {
                continue;
            };
            rows[row].values[column] = None;
            touched[row][column] = true;
            pending.push(Pending {
                row,
                column,
                kind: InjectedKind::Gap,
                clean: format_value(clean),
            });
        }
    }

    for row in 0..rows.len() {
        let draw = rng.random::<f64>();
        if draw < rates.outlier {
            inject_outlier(
                &mut rng,
                row,
                &mut rows[row],
                &mut touched[row],
                &mut pending,
            );
        } else if draw < rates.outlier + rates.swap {
            inject_swap(row, &mut rows[row], &mut touched[row], &mut pending);
        } else if draw < rates.outlier + rates.swap + rates.typo {
            let clean = rows[row].station.clone();
            rows[row].station = misspell(&clean, &model.stations, &mut rng);
            touched[row][STATION] = true;
            pending.push(Pending {
                row,
                column: STATION,
                kind: InjectedKind::Typo,
                clean,
            });
        }
    }

    let mut output = Vec::with_capacity(rows.len() + rows.len() / 50);
    let mut positions = Vec::with_capacity(rows.len());
    let mut duplicates = Vec::new();
    for (row, reading) in rows.into_iter().enumerate() {
        let duplicate = rng.random::<f64>() < rates.duplicate && !touched[row].contains(&true);
        positions.push(output.len());
        if duplicate {
            let copy = jitter(&reading, &mut rng);
            output.push(reading);
            duplicates.push((output.len(), output.len() - 1));
            output.push(copy);
        } else {
            output.push(reading);
        }
    }

    let row_ids: Vec<u64> = (first_id..first_id + output.len() as u64).collect();
    let mut errors: Vec<InjectedError> = pending
        .into_iter()
        .map(|error| InjectedError {
            row_id: row_ids[positions[error.row]],
            column: Some(column_name(error.column).to_string()),
            kind: error.kind,
            clean_value: Some(error.clean),
            duplicate_of: None,
        })
        .collect();
    errors.extend(
        duplicates
            .into_iter()
            .map(|(copy, original)| InjectedError {
                row_id: row_ids[copy],
                column: None,
                kind: InjectedKind::Duplicate,
                clean_value: None,
                duplicate_of: Some(row_ids[original]),
            }),
    );
    errors.sort_by_key(|error| error.row_id);
    InjectedBatch {
        rows: output,
        row_ids,
        errors,
    }
}

fn inject_outlier(
    rng: &mut ChaCha8Rng,
    row: usize,
    reading: &mut SensorRow,
    touched: &mut [bool],
    pending: &mut Vec<Pending>,
) {
    let candidates: Vec<usize> = (0..POLLUTANTS.len())
        .filter(|&column| !touched[column] && reading.values[column].is_some())
        .collect();
    if candidates.is_empty() {
        return;
    }
    let column = candidates[rng.random_range(0..candidates.len())];
    let factor = rng.random_range(8.0..15.0);
    let Some(clean) = reading.values[column] else {
        return;
    };
    reading.values[column] = Some(round_to(clean * factor, 1));
    touched[column] = true;
    pending.push(Pending {
        row,
        column,
        kind: InjectedKind::Outlier,
        clean: format_value(clean),
    });
}

fn inject_swap(
    row: usize,
    reading: &mut SensorRow,
    touched: &mut [bool],
    pending: &mut Vec<Pending>,
) {
    let (Some(pm25), Some(pm10)) = (reading.values[PM25], reading.values[PM10]) else {
        return;
    };
    if touched[PM25] || touched[PM10] || pm25 == pm10 {
        return;
    }
    reading.values.swap(PM25, PM10);
    for (column, clean) in [(PM25, pm25), (PM10, pm10)] {
        touched[column] = true;
        pending.push(Pending {
            row,
            column,
            kind: InjectedKind::Swap,
            clean: format_value(clean),
        });
    }
}

/// Returns a copy of `reading` in which each value, with probability one half, is moved by
/// up to 2 percent, like a second transmission of the same hour.
fn jitter(reading: &SensorRow, rng: &mut ChaCha8Rng) -> SensorRow {
    let mut copy = reading.clone();
    for value in copy.values.iter_mut().flatten() {
        if rng.random_bool(0.5) {
            *value = round_to(*value * (1.0 + rng.random_range(-0.02..0.02)), 1);
        }
    }
    copy
}

/// Returns `name` with one letter transposed, dropped or replaced by its neighbour in the
/// alphabet; never the name itself nor another station's name.
pub(crate) fn misspell(name: &str, stations: &[String], rng: &mut ChaCha8Rng) -> String {
    let letters: Vec<char> = name.chars().collect();
    for _ in 0..32 {
        let mut candidate = letters.clone();
        if letters.len() >= 2 {
            match rng.random_range(0..3) {
                0 => {
                    let at = rng.random_range(0..letters.len() - 1);
                    candidate.swap(at, at + 1);
                }
                1 => {
                    candidate.remove(rng.random_range(1..letters.len()));
                }
                _ => {
                    let at = rng.random_range(0..letters.len());
                    candidate[at] = alphabet_neighbour(candidate[at]);
                }
            }
        } else {
            candidate.push('x');
        }
        let misspelt: String = candidate.into_iter().collect();
        if misspelt != name && !stations.contains(&misspelt) {
            return misspelt;
        }
    }
    // Reached only when 32 random edits all failed, which station names make unlikely.
    format!("{name}x")
}

fn alphabet_neighbour(letter: char) -> char {
    match letter {
        'z' => 'y',
        'Z' => 'Y',
        'a'..='y' | 'A'..='Y' => char::from(letter as u8 + 1),
        other => other,
    }
}

fn column_name(column: usize) -> &'static str {
    POLLUTANTS.get(column).copied().unwrap_or("station")
}

/// Formats a clean value as ground-truth text: the shortest form that parses back to it.
pub(crate) fn format_value(value: f64) -> String {
    format!("{value}")
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::synthetic::config::{ErrorRates, SyntheticConfig};
    use crate::synthetic::sensors::clean_rows;

    fn model(errors: ErrorRates) -> CityModel {
        let config = SyntheticConfig {
            days: 14,
            batch_hours: 24 * 14,
            errors,
            ..SyntheticConfig::default()
        };
        let date = config.validate().expect("valid");
        CityModel::new(config, date)
    }

    #[test]
    fn misspelling_is_never_a_station_name() {
        let stations: Vec<String> = ["Dongsi", "Dongsj", "Gucheng"].map(String::from).to_vec();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for _ in 0..500 {
            let misspelt = misspell("Dongsi", &stations, &mut rng);
            assert!(!stations.contains(&misspelt), "{misspelt}");
        }
    }

    #[test]
    fn zero_rates_leave_rows_unchanged() {
        let model = model(ErrorRates::none());
        let span = model.span(0);
        let clean = clean_rows(&model, &span);
        let injected = inject(&model, &span, clean.clone(), 500);
        assert!(injected.errors.is_empty());
        assert_eq!(injected.rows, clean);
        assert_eq!(injected.row_ids.first(), Some(&500));
        assert_eq!(injected.row_ids.len(), clean.len());
    }

    #[test]
    fn gaps_null_only_listed_cells() {
        let model = model(ErrorRates {
            gap: 0.2,
            ..ErrorRates::none()
        });
        let span = model.span(0);
        let clean = clean_rows(&model, &span);
        let injected = inject(&model, &span, clean, 0);
        let listed: std::collections::HashSet<(u64, String)> = injected
            .errors
            .iter()
            .map(|error| (error.row_id, error.column.clone().expect("gap column")))
            .collect();
        let mut nulls = 0;
        for (row, id) in injected.rows.iter().zip(&injected.row_ids) {
            for (column, value) in POLLUTANTS.iter().zip(row.values) {
                if value.is_none() {
                    nulls += 1;
                    assert!(listed.contains(&(*id, column.to_string())));
                }
            }
        }
        assert_eq!(nulls, injected.errors.len());
        assert!(nulls > 0);
    }

    #[test]
    fn duplicates_follow_their_original() {
        let model = model(ErrorRates {
            duplicate: 0.1,
            ..ErrorRates::none()
        });
        let span = model.span(0);
        let clean = clean_rows(&model, &span);
        let count = clean.len();
        let injected = inject(&model, &span, clean, 0);
        let duplicates: Vec<&InjectedError> = injected.errors.iter().collect();
        assert_eq!(injected.rows.len(), count + duplicates.len());
        for duplicate in duplicates {
            assert_eq!(duplicate.kind, InjectedKind::Duplicate);
            assert_eq!(duplicate.duplicate_of, Some(duplicate.row_id - 1));
            let copy = &injected.rows[duplicate.row_id as usize];
            let original = &injected.rows[duplicate.row_id as usize - 1];
            assert_eq!(
                (copy.stamp, &copy.station),
                (original.stamp, &original.station)
            );
        }
    }
}
