//! [`NearestStationJoin`]: a fuser that attaches to each row the id of the nearest station
//! within a radius, and its distance in metres.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, RecordBatch, UInt32Array};
use arrow::compute::{concat, take};
use arrow::datatypes::{DataType, Field, FieldRef, Schema};
use governance_core::audit::AuditAction;
use governance_core::{Error, Fuser, GovernedBatch, Issue, Result, Severity, Stage, StageContext};
use serde::{Deserialize, Serialize};

use super::coords::{CoordinateReport, Coordinates, LatLon};
use super::nearest::StationIndex;
use crate::asof::SideBatch;

/// Configuration of [`NearestStationJoin`].
///
/// ```
/// use governance_fuse::spatial::NearestStationConfig;
///
/// let config: NearestStationConfig = serde_json::from_str(r#"{
///     "source": "stations", "latitude": "lat", "longitude": "lon",
///     "station_id": "station", "radius_m": 2500
/// }"#)?;
/// assert_eq!(config.id_output, "nearest_station");
/// assert_eq!(config.distance_output, "nearest_station_distance_m");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearestStationConfig {
    /// Stage name, unique within a chain. Default `nearest_station`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Name of the station source, as returned by `Fuser::sources` and written to the audit
    /// log.
    pub source: String,
    /// Latitude column of the stream, in degrees (any numeric type).
    pub latitude: String,
    /// Longitude column of the stream, in degrees (any numeric type).
    pub longitude: String,
    /// Id column of the stations (any type); its values are attached.
    pub station_id: String,
    /// Latitude column of the stations; `None` means the same name as `latitude`.
    #[serde(default)]
    pub station_latitude: Option<String>,
    /// Longitude column of the stations; `None` means the same name as `longitude`.
    #[serde(default)]
    pub station_longitude: Option<String>,
    /// Largest distance of a match, in metres, inclusive.
    pub radius_m: f64,
    /// Name of the attached id column. Default `nearest_station`.
    #[serde(default = "default_id_output")]
    pub id_output: String,
    /// Name of the attached Float64 distance column, in metres. Default
    /// `nearest_station_distance_m`.
    #[serde(default = "default_distance_output")]
    pub distance_output: String,
    /// Whether to log an issue for every row with an invalid coordinate (null, NaN or out of
    /// range). Default true.
    #[serde(default = "default_true")]
    pub report_invalid: bool,
}

fn default_name() -> String {
    "nearest_station".to_string()
}

fn default_id_output() -> String {
    "nearest_station".to_string()
}

fn default_distance_output() -> String {
    "nearest_station_distance_m".to_string()
}

fn default_true() -> bool {
    true
}

impl NearestStationConfig {
    /// Creates a config with every optional field at its default.
    pub fn new(
        source: impl Into<String>,
        latitude: impl Into<String>,
        longitude: impl Into<String>,
        station_id: impl Into<String>,
        radius_m: f64,
    ) -> Self {
        NearestStationConfig {
            name: default_name(),
            source: source.into(),
            latitude: latitude.into(),
            longitude: longitude.into(),
            station_id: station_id.into(),
            station_latitude: None,
            station_longitude: None,
            radius_m,
            id_output: default_id_output(),
            distance_output: default_distance_output(),
            report_invalid: true,
        }
    }

    fn station_latitude(&self) -> &str {
        self.station_latitude.as_deref().unwrap_or(&self.latitude)
    }

    fn station_longitude(&self) -> &str {
        self.station_longitude.as_deref().unwrap_or(&self.longitude)
    }
}

/// Counts of the stream rows of the current round.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearestStationReport {
    /// Rows with a station within the radius.
    pub matched: u64,
    /// Rows with a valid point but no station within the radius.
    pub beyond_radius: u64,
    /// Valid and invalid points of the stream.
    pub coordinates: CoordinateReport,
}

/// Attaches the nearest station within a radius to each stream row, as a [`Fuser`].
///
/// Rows out equal rows in. The attached id column has the station id's type, and the distance
/// column is Float64 metres. Both are null for a row with an invalid point and for a row with
/// no station within the radius. Stations with invalid coordinates are left out of the index
/// and counted in [`NearestStationJoin::station_report`].
///
/// # Audit
///
/// Once per round: a `Read` of the station source with its counts. Per batch: a `Change`
/// with the rows matched, beyond the radius and invalid.
#[derive(Debug)]
pub struct NearestStationJoin {
    config: NearestStationConfig,
    index: StationIndex,
    /// Station ids of every station row, indexed rows first.
    ids: ArrayRef,
    /// Row in `ids` of each station in the index.
    id_rows: Vec<u32>,
    station_report: CoordinateReport,
    round: Option<u32>,
    report: NearestStationReport,
}

impl NearestStationJoin {
    /// Builds the join and indexes the stations in `side`.
    ///
    /// Fails when the radius is not a non-negative number of metres, `side` has no batches,
    /// a configured column is missing or a coordinate column is not numeric.
    pub fn new<B: SideBatch>(
        config: NearestStationConfig,
        side: impl IntoIterator<Item = B>,
    ) -> Result<Self> {
        if !(config.radius_m.is_finite() && config.radius_m >= 0.0) {
            return Err(Error::config(
                &config.name,
                format!(
                    "radius_m {} is invalid: use a non-negative number of metres",
                    config.radius_m
                ),
            ));
        }
        if config.id_output == config.distance_output {
            return Err(Error::config(
                &config.name,
                "id_output and distance_output must differ",
            ));
        }
        let batches: Vec<RecordBatch> =
            side.into_iter().map(SideBatch::into_record_batch).collect();
        if batches.is_empty() {
            return Err(Error::config(
                &config.name,
                format!(
                    "station source {:?} has no batches: pass at least one batch",
                    config.source
                ),
            ));
        }
        let stations = load_stations(&config, &batches)?;
        if stations.report.invalid() > 0 {
            tracing::warn!(
                stage = %config.name,
                source = %config.source,
                invalid = stations.report.invalid(),
                "stations with invalid coordinates are left out of the index"
            );
        }

        Ok(NearestStationJoin {
            index: StationIndex::new(stations.points),
            ids: stations.ids,
            id_rows: stations.id_rows,
            station_report: stations.report,
            config,
            round: None,
            report: NearestStationReport::default(),
        })
    }

    /// Returns the counts of valid and invalid station points.
    pub fn station_report(&self) -> &CoordinateReport {
        &self.station_report
    }

    /// Returns the counts of the current round.
    pub fn report(&self) -> &NearestStationReport {
        &self.report
    }

    fn start_round(&mut self, ctx: &StageContext) -> Result<()> {
        if self.round == Some(ctx.round()) {
            return Ok(());
        }
        let stations = &self.station_report;
        ctx.audit(
            AuditAction::Read,
            &self.config.source,
            &format!(
                "stations={} indexed={} null={} not_a_number={} out_of_range={}",
                stations.valid + stations.invalid(),
                stations.valid,
                stations.null,
                stations.not_a_number,
                stations.out_of_range
            ),
        )?;
        self.round = Some(ctx.round());
        self.report = NearestStationReport::default();
        Ok(())
    }
}

/// The valid stations of the side source, with the ids of every station row.
struct LoadedStations {
    points: Vec<LatLon>,
    /// Row in `ids` of each point.
    id_rows: Vec<u32>,
    ids: ArrayRef,
    report: CoordinateReport,
}

/// Reads the station coordinates and ids of every side batch, leaving out invalid points.
fn load_stations(config: &NearestStationConfig, batches: &[RecordBatch]) -> Result<LoadedStations> {
    let mut points = Vec::new();
    let mut id_rows = Vec::new();
    let mut id_arrays: Vec<ArrayRef> = Vec::with_capacity(batches.len());
    let mut report = CoordinateReport::default();
    let mut offset = 0usize;
    for batch in batches {
        let column = |name: &str| -> Result<ArrayRef> {
            batch.column_by_name(name).cloned().ok_or_else(|| {
                Error::config(
                    &config.name,
                    format!(
                        "column {name:?} not found in station source {:?}",
                        config.source
                    ),
                )
            })
        };
        let latitude = column(config.station_latitude())?;
        let longitude = column(config.station_longitude())?;
        let coordinates = Coordinates::read(
            latitude.as_ref(),
            config.station_latitude(),
            longitude.as_ref(),
            config.station_longitude(),
        )?;
        for (row, point) in coordinates.points().iter().enumerate() {
            if let Ok(point) = point {
                points.push(*point);
                id_rows.push(station_row(offset + row)?);
            }
        }
        merge_report(&mut report, coordinates.report());
        id_arrays.push(column(&config.station_id)?);
        offset += batch.num_rows();
    }

    let id_refs: Vec<&dyn Array> = id_arrays.iter().map(|array| array.as_ref()).collect();
    let ids = concat(&id_refs).map_err(|error| {
        Error::InvalidInput(format!(
            "station id column {:?} differs in type between batches of {:?}: {error}",
            config.station_id, config.source
        ))
    })?;
    Ok(LoadedStations {
        points,
        id_rows,
        ids,
        report,
    })
}

fn station_row(row: usize) -> Result<u32> {
    u32::try_from(row)
        .map_err(|_| Error::InvalidInput("more than u32::MAX stations: split the source".into()))
}

fn merge_report(total: &mut CoordinateReport, part: &CoordinateReport) {
    total.valid += part.valid;
    total.null += part.null;
    total.not_a_number += part.not_a_number;
    total.out_of_range += part.out_of_range;
}

impl Stage for NearestStationJoin {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "nearest station of {} within {} m",
            self.config.source, self.config.radius_m
        )
    }
}

impl Fuser for NearestStationJoin {
    fn fuse(&mut self, batch: GovernedBatch, ctx: &mut StageContext) -> Result<GovernedBatch> {
        self.start_round(ctx)?;
        let schema = batch.data().schema();
        for output in [&self.config.id_output, &self.config.distance_output] {
            if schema.index_of(output).is_ok() {
                return Err(Error::InvalidInput(format!(
                    "column {output:?} already exists in the stream: set id_output and \
                     distance_output to other names"
                )));
            }
        }
        let coordinates = Coordinates::read(
            batch.column(&self.config.latitude)?.as_ref(),
            &self.config.latitude,
            batch.column(&self.config.longitude)?.as_ref(),
            &self.config.longitude,
        )?;

        let mut id_rows: Vec<Option<u32>> = Vec::with_capacity(coordinates.len());
        let mut distances: Vec<Option<f64>> = Vec::with_capacity(coordinates.len());
        let mut issues = Vec::new();
        let mut beyond_radius = 0u64;
        for (row, point) in coordinates.points().iter().enumerate() {
            let found = match point {
                Ok(point) => {
                    let found = self.index.nearest_within(*point, self.config.radius_m);
                    if found.is_none() {
                        beyond_radius += 1;
                    }
                    found
                }
                Err(problem) => {
                    if self.config.report_invalid {
                        let column = match problem.axis() {
                            super::Axis::Latitude => &self.config.latitude,
                            super::Axis::Longitude => &self.config.longitude,
                        };
                        issues.push(Issue::cell(
                            batch.row_ids().value(row),
                            column,
                            problem.issue_kind(),
                            Severity::Warning,
                            &self.config.name,
                            format!("{problem}: no nearest station attached"),
                        ));
                    }
                    None
                }
            };
            id_rows.push(found.map(|found| self.id_rows[found.station]));
            distances.push(found.map(|found| found.distance_m));
        }

        let id_field = Field::new(&self.config.id_output, self.ids.data_type().clone(), true);
        let mut fields: Vec<FieldRef> = schema.fields().iter().cloned().collect();
        fields.push(Arc::new(id_field));
        fields.push(Arc::new(Field::new(
            &self.config.distance_output,
            DataType::Float64,
            true,
        )));
        let mut columns = batch.data().columns().to_vec();
        columns.push(take(self.ids.as_ref(), &UInt32Array::from(id_rows), None)?);
        columns.push(Arc::new(Float64Array::from(distances)));
        let data = RecordBatch::try_new(
            Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
            columns,
        )?;

        let rows = batch.num_rows() as u64;
        let invalid = coordinates.report().invalid();
        let matched = rows - invalid - beyond_radius;
        self.report.matched += matched;
        self.report.beyond_radius += beyond_radius;
        merge_report(&mut self.report.coordinates, coordinates.report());
        let mut joined = batch;
        joined.replace_data(data)?;
        for issue in issues {
            joined.push_issue(issue);
        }
        ctx.audit(
            AuditAction::Change,
            &self.config.source,
            &format!(
                "rows={rows} matched={matched} beyond_radius={beyond_radius} invalid={invalid}"
            ),
        )?;
        Ok(joined)
    }

    fn sources(&self) -> Vec<String> {
        vec![self.config.source.clone()]
    }
}

/// Returns the station points of `coordinates`, skipping invalid ones, for building a
/// [`StationIndex`] by hand.
pub fn valid_points(coordinates: &Coordinates) -> Vec<LatLon> {
    coordinates
        .points()
        .iter()
        .filter_map(|point| point.as_ref().ok().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Float64Array, StringArray};
    use arrow::datatypes::Float64Type;
    use governance_core::audit::AuditLog;
    use governance_core::{IssueKind, Provenance, RowIdAllocator};

    fn stations() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("station", DataType::Utf8, false),
            Field::new("lat", DataType::Float64, true),
            Field::new("lon", DataType::Float64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["Dongsi", "Tiantan", "Broken"])),
                Arc::new(Float64Array::from(vec![Some(39.929), Some(39.886), None])),
                Arc::new(Float64Array::from(vec![116.417, 116.407, 116.4])),
            ],
        )
        .expect("stations")
    }

    fn readings(lat: Vec<Option<f64>>, lon: Vec<Option<f64>>) -> GovernedBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("lat", DataType::Float64, true),
            Field::new("lon", DataType::Float64, true),
        ]));
        let rows = lat.len();
        let data = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(lat)),
                Arc::new(Float64Array::from(lon)),
            ],
        )
        .expect("readings");
        GovernedBatch::try_new(
            data,
            RowIdAllocator::default().allocate(rows),
            Provenance::new("readings"),
        )
        .expect("governed")
    }

    fn context() -> StageContext {
        StageContext::new("nearest_station", 1, AuditLog::in_memory().into_handle())
    }

    #[test]
    fn attaches_nearest_id_and_distance() {
        let config = NearestStationConfig::new("stations", "lat", "lon", "station", 2_000.0);
        let mut join = NearestStationJoin::new(config, vec![stations()]).expect("join");
        assert_eq!(join.station_report().null, 1);
        let batch = readings(
            vec![
                Some(39.928),
                Some(39.887),
                Some(40.5),
                None,
                Some(f64::NAN),
                Some(95.0),
            ],
            vec![
                Some(116.416),
                Some(116.406),
                Some(116.4),
                Some(116.4),
                Some(116.4),
                Some(116.4),
            ],
        );
        let out = join.fuse(batch, &mut context()).expect("fuse");
        assert_eq!(out.num_rows(), 6);
        let ids = out
            .column("nearest_station")
            .expect("ids")
            .as_string::<i32>();
        assert_eq!(ids.value(0), "Dongsi");
        assert_eq!(ids.value(1), "Tiantan");
        for row in 2..6 {
            assert!(ids.is_null(row), "row {row}");
        }
        let distances = out
            .column("nearest_station_distance_m")
            .expect("distances")
            .as_primitive::<Float64Type>();
        // 0.001 degrees of latitude and longitude at 39.9 N is about 140 m.
        assert!(
            (100.0..200.0).contains(&distances.value(0)),
            "{}",
            distances.value(0)
        );
        let report = join.report();
        assert_eq!(report.matched, 2);
        assert_eq!(report.beyond_radius, 1);
        assert_eq!(report.coordinates.invalid(), 3);
        let kinds: Vec<IssueKind> = out.issues.issues().iter().map(|issue| issue.kind).collect();
        assert_eq!(
            kinds,
            vec![IssueKind::Missing, IssueKind::Format, IssueKind::OutOfRange]
        );
    }

    #[test]
    fn negative_radius_is_a_config_error() {
        let config = NearestStationConfig::new("stations", "lat", "lon", "station", -1.0);
        let error = NearestStationJoin::new(config, vec![stations()]).expect_err("radius");
        assert!(error.to_string().contains("-1"), "{error}");
    }

    #[test]
    fn missing_station_column_is_named() {
        let config = NearestStationConfig::new("stations", "lat", "lon", "code", 10.0);
        let error = NearestStationJoin::new(config, vec![stations()]).expect_err("column");
        assert!(error.to_string().contains("\"code\""), "{error}");
    }

    #[test]
    fn text_stream_coordinates_are_rejected() {
        let config = NearestStationConfig::new("stations", "lat", "lon", "station", 10.0);
        let mut join = NearestStationJoin::new(config, vec![stations()]).expect("join");
        let schema = Arc::new(Schema::new(vec![
            Field::new("lat", DataType::Utf8, true),
            Field::new("lon", DataType::Float64, true),
        ]));
        let data = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["39.9"])),
                Arc::new(Float64Array::from(vec![116.4])),
            ],
        )
        .expect("batch");
        let batch = GovernedBatch::try_new(
            data,
            RowIdAllocator::default().allocate(1),
            Provenance::new("readings"),
        )
        .expect("governed");
        let error = join.fuse(batch, &mut context()).expect_err("text latitude");
        assert!(error.to_string().contains("Utf8"), "{error}");
    }
}
