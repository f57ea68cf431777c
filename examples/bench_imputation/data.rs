//! Reading the Beijing station files into one governed batch, and hiding known values.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use governance::{GovernedBatch, Provenance, RowIdAllocator};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The numeric measurement columns of the station files.
pub const MEASUREMENTS: [&str; 11] = [
    "PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "TEMP", "PRES", "DEWP", "RAIN", "WSPM",
];

/// The hidden cells of one column: row id and the true value.
pub struct Masked {
    /// Column name.
    pub column: String,
    /// Row id and true value of each hidden cell.
    pub cells: Vec<(u64, f64)>,
}

/// Reads every `*.csv` file of `dir`, in name order, into one batch with the columns
/// `station`, `No` (the hour index within a station), `month`, `hour`, `timestamp` (UTC
/// milliseconds from the date and hour fields), the measurements and `wd`. `NA` and empty
/// fields are null.
pub fn load(dir: &Path) -> Result<GovernedBatch, Box<dyn std::error::Error>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "csv"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(format!("no .csv file in {}", dir.display()).into());
    }

    let mut station: Vec<Option<String>> = Vec::new();
    let mut wind: Vec<Option<String>> = Vec::new();
    let mut integers: [Vec<Option<i64>>; 3] = Default::default();
    let mut timestamps: Vec<Option<i64>> = Vec::new();
    let mut measurements: Vec<Vec<Option<f64>>> = vec![Vec::new(); MEASUREMENTS.len()];
    for path in &paths {
        let mut reader = csv::Reader::from_path(path)?;
        let headers = reader.headers()?.clone();
        let position = |name: &str| {
            headers
                .iter()
                .position(|header| header == name)
                .ok_or_else(|| format!("{} has no column {name:?}", path.display()))
        };
        let integer_positions = [position("No")?, position("month")?, position("hour")?];
        let date_positions = [
            position("year")?,
            position("month")?,
            position("day")?,
            position("hour")?,
        ];
        let measurement_positions = MEASUREMENTS
            .iter()
            .map(|name| position(name))
            .collect::<Result<Vec<_>, _>>()?;
        let (station_position, wind_position) = (position("station")?, position("wd")?);
        for record in reader.records() {
            let record = record?;
            let field = |index: usize| record.get(index).filter(|v| !v.is_empty() && *v != "NA");
            for (values, &index) in integers.iter_mut().zip(&integer_positions) {
                values.push(field(index).and_then(|value| value.parse().ok()));
            }
            for (values, &index) in measurements.iter_mut().zip(&measurement_positions) {
                values.push(field(index).and_then(|value| value.parse().ok()));
            }
            let date: Option<Vec<i64>> = date_positions
                .iter()
                .map(|&index| field(index).and_then(|value| value.parse().ok()))
                .collect();
            timestamps.push(date.map(|parts| {
                (days_from_civil(parts[0], parts[1], parts[2]) * 24 + parts[3]) * 3_600_000
            }));
            station.push(field(station_position).map(str::to_string));
            wind.push(field(wind_position).map(str::to_string));
        }
    }

    let mut fields = vec![
        Field::new("station", DataType::Utf8, true),
        Field::new("No", DataType::Int64, true),
        Field::new("month", DataType::Int64, true),
        Field::new("hour", DataType::Int64, true),
    ];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(station))];
    for values in integers {
        columns.push(Arc::new(Int64Array::from(values)));
    }
    fields.push(Field::new(
        "timestamp",
        DataType::Timestamp(TimeUnit::Millisecond, None),
        true,
    ));
    columns.push(Arc::new(TimestampMillisecondArray::from(timestamps)));
    for (name, values) in MEASUREMENTS.iter().zip(measurements) {
        fields.push(Field::new(*name, DataType::Float64, true));
        columns.push(Arc::new(Float64Array::from(values)));
    }
    fields.push(Field::new("wd", DataType::Utf8, true));
    columns.push(Arc::new(StringArray::from(wind)));

    let data = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    let ids = RowIdAllocator::default().allocate(data.num_rows());
    Ok(GovernedBatch::try_new(
        data,
        ids,
        Provenance::new(dir.display().to_string()),
    )?)
}

/// Sets `share` of the known values of each of `columns` to null, chosen by a ChaCha RNG
/// seeded with `seed`, and returns the batch with the hidden cells.
pub fn mask_values(
    mut batch: GovernedBatch,
    columns: &[String],
    share: f64,
    seed: u64,
) -> Result<(GovernedBatch, Vec<Masked>), Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let schema = batch.data().schema();
    let mut arrays: Vec<ArrayRef> = batch.data().columns().to_vec();
    let mut hidden = Vec::with_capacity(columns.len());
    for column in columns {
        let index = schema.index_of(column).map_err(|_| {
            format!("column {column:?} is not in the data; use one of {MEASUREMENTS:?}")
        })?;
        let values: Vec<Option<f64>> = arrays[index]
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| {
                format!("column {column:?} is not numeric; use one of {MEASUREMENTS:?}")
            })?
            .iter()
            .collect();
        let known: Vec<usize> = (0..values.len())
            .filter(|&row| values[row].is_some())
            .collect();
        let count = (known.len() as f64 * share).round() as usize;
        let mut picked: Vec<usize> = rand::seq::index::sample(&mut rng, known.len(), count)
            .into_iter()
            .map(|position| known[position])
            .collect();
        picked.sort_unstable();

        let mut masked = values.clone();
        let mut cells = Vec::with_capacity(picked.len());
        for row in picked {
            if let Some(truth) = masked[row].take() {
                cells.push((batch.row_ids().value(row), truth));
            }
        }
        arrays[index] = Arc::new(Float64Array::from(masked));
        hidden.push(Masked {
            column: column.clone(),
            cells,
        });
    }
    batch.replace_data(RecordBatch::try_new(schema, arrays)?)?;
    Ok((batch, hidden))
}

/// Sets to null, in each of `columns`, runs of `length` rows per station: one run at a random
/// offset in every block of `10 * length` rows, so about a tenth of the rows. Cells already
/// null stay null and are not scored.
pub fn mask_runs(
    mut batch: GovernedBatch,
    columns: &[String],
    length: usize,
    seed: u64,
) -> Result<(GovernedBatch, Vec<Masked>), Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let schema = batch.data().schema();
    let stations = batch
        .column("station")?
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or("column \"station\" is not Utf8")?
        .clone();
    let mut arrays: Vec<ArrayRef> = batch.data().columns().to_vec();
    let mut hidden = Vec::with_capacity(columns.len());
    for column in columns {
        let index = schema.index_of(column).map_err(|_| {
            format!("column {column:?} is not in the data; use one of {MEASUREMENTS:?}")
        })?;
        let mut values: Vec<Option<f64>> = arrays[index]
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| {
                format!("column {column:?} is not numeric; use one of {MEASUREMENTS:?}")
            })?
            .iter()
            .collect();
        let mut cells = Vec::new();
        let block = 10 * length;
        let mut start = 0;
        while start < values.len() {
            let end = (start + block).min(values.len());
            // A run stays inside one station and leaves a row on each side.
            let first = start + 1 + rng.random_range(0..block.saturating_sub(length + 2).max(1));
            let last = first + length;
            let same_station = last < end && stations.value(first - 1) == stations.value(last);
            if same_station {
                for (row, value) in values.iter_mut().enumerate().take(last).skip(first) {
                    if let Some(truth) = value.take() {
                        cells.push((batch.row_ids().value(row), truth));
                    }
                }
            }
            start = end;
        }
        arrays[index] = Arc::new(Float64Array::from(values));
        hidden.push(Masked {
            column: column.clone(),
            cells,
        });
    }
    batch.replace_data(RecordBatch::try_new(schema, arrays)?)?;
    Ok((batch, hidden))
}

/// Returns the days from 1970-01-01 to a date of the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Shift the year to start in March, so that the leap day is the last day of a year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2013, 3, 1), 15_765);
    }
}
