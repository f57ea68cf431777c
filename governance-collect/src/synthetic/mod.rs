//! A synthetic city: hourly air-quality readings with injected errors, weather, and service
//! tickets with personal data, all with ground truth, generated lazily from a seed.
//!
//! The same seed and config always give the same batches, row ids and ground truth, on any
//! machine. Each batch is generated from its own random generator, keyed by (seed, stream,
//! batch index), so batches can be generated on demand, in any order, and memory stays
//! bounded by one batch whatever the scale.
//!
//! Row ids are fixed per batch: sensor readings use ids from [`SENSOR_ID_OFFSET`], weather
//! from [`WEATHER_ID_OFFSET`] and tickets from [`TICKET_ID_OFFSET`], and batch `i` of a feed
//! starts at `offset + i * block`, where the block holds the batch's largest possible row
//! count. Ids are thus unique across all three feeds but not consecutive.

mod collector;
mod config;
mod errors;
mod model;
pub mod persons;
pub mod pii;
mod random;
mod sensors;
mod tickets;
mod truth;
mod weather;

use std::sync::Arc;

use arrow::array::UInt64Array;
use arrow::datatypes::SchemaRef;
use governance_core::{GovernedBatch, Provenance, Result};

pub use self::collector::{Feed, SyntheticCollector};
pub use self::config::{ErrorRates, SyntheticConfig};
use self::model::CityModel;
pub use self::sensors::POLLUTANTS;
pub use self::truth::{GroundTruth, InjectedError, InjectedKind, PiiKind, PlacedPii};
pub use self::weather::COMPASS;

/// First row id of sensor readings.
pub const SENSOR_ID_OFFSET: u64 = 0;
/// First row id of weather rows.
pub const WEATHER_ID_OFFSET: u64 = 1 << 40;
/// First row id of service tickets.
pub const TICKET_ID_OFFSET: u64 = 2 << 40;

/// A generated city. Cloning is cheap: clones share the layout.
///
/// ```
/// use governance_collect::synthetic::{SyntheticCity, SyntheticConfig};
///
/// let city = SyntheticCity::new(SyntheticConfig { days: 2, ..SyntheticConfig::default() })?;
/// let readings = city.sensor_batch(0)?;
/// assert_eq!(readings.column_names()[4], "PM2.5");
/// let truth = city.ground_truth()?;
/// assert!(truth.pii.iter().all(|placed| placed.end > placed.start));
/// # Ok::<(), governance_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SyntheticCity {
    model: Arc<CityModel>,
}

impl SyntheticCity {
    /// Creates a city, checking the config.
    pub fn new(config: SyntheticConfig) -> Result<Self> {
        let start_date = config.validate()?;
        let model = CityModel::new(config, start_date);
        let sensor_ids = model.batch_count() as u128 * 2 * u128::from(model.rows_per_batch());
        if sensor_ids > u128::from(WEATHER_ID_OFFSET - SENSOR_ID_OFFSET) {
            return Err(governance_core::Error::config(
                "synthetic",
                format!(
                    "the city would need {sensor_ids} sensor row ids, more than the {} \
                     reserved for them: lower `scale` or `days`",
                    WEATHER_ID_OFFSET - SENSOR_ID_OFFSET
                ),
            ));
        }
        Ok(SyntheticCity {
            model: Arc::new(model),
        })
    }

    /// Returns the configuration.
    pub fn config(&self) -> &SyntheticConfig {
        &self.model.config
    }

    /// Returns the station names; ticket `station` values name the same districts.
    pub fn stations(&self) -> &[String] {
        &self.model.stations
    }

    /// Returns the number of batches of each feed.
    pub fn batch_count(&self) -> u64 {
        self.model.batch_count()
    }

    /// Returns the schema of sensor readings: `year, month, day, hour` (Int64), the
    /// [`POLLUTANTS`] (Float64, nullable) and `station` (Utf8), as in the Beijing files.
    pub fn sensor_schema() -> SchemaRef {
        sensors::schema()
    }

    /// Returns the schema of weather rows: `year, month, day, hour, station, TEMP, PRES,
    /// DEWP, RAIN, wd, WSPM`.
    pub fn weather_schema() -> SchemaRef {
        weather::schema()
    }

    /// Returns the schema of tickets: `ticket_id, station, year, month, day, hour, category,
    /// text`.
    pub fn ticket_schema() -> SchemaRef {
        tickets::schema()
    }

    /// Generates sensor batch `index`, errors included.
    pub fn sensor_batch(&self, index: u64) -> Result<GovernedBatch> {
        let injected = self.injected_sensor_batch(index)?;
        let data = sensors::to_record_batch(&injected.rows)?;
        let ids = UInt64Array::from(injected.row_ids);
        GovernedBatch::try_new(data, ids, self.provenance(Feed::Sensors))
    }

    /// Generates weather batch `index`.
    pub fn weather_batch(&self, index: u64) -> Result<GovernedBatch> {
        let span = self.span(index)?;
        let data = weather::generate(&self.model, &span)?;
        let first = WEATHER_ID_OFFSET + index * self.model.rows_per_batch();
        let ids = UInt64Array::from_iter_values(first..first + data.num_rows() as u64);
        GovernedBatch::try_new(data, ids, self.provenance(Feed::Weather))
    }

    /// Generates ticket batch `index`; it may hold no rows.
    pub fn ticket_batch(&self, index: u64) -> Result<GovernedBatch> {
        let generated = self.generated_ticket_batch(index)?;
        let data = tickets::to_record_batch(&generated.rows)?;
        let ids = UInt64Array::from(generated.row_ids);
        GovernedBatch::try_new(data, ids, self.provenance(Feed::Tickets))
    }

    /// Returns a collector of sensor readings, named `synthetic_sensors`.
    pub fn sensor_collector(&self) -> SyntheticCollector {
        SyntheticCollector::new(self.clone(), Feed::Sensors)
    }

    /// Returns a collector of weather rows, named `synthetic_weather`.
    pub fn weather_collector(&self) -> SyntheticCollector {
        SyntheticCollector::new(self.clone(), Feed::Weather)
    }

    /// Returns a collector of service tickets, named `synthetic_tickets`.
    pub fn ticket_collector(&self) -> SyntheticCollector {
        SyntheticCollector::new(self.clone(), Feed::Tickets)
    }

    /// Generates every weather batch, for use as a fuser's side source. Unlike the
    /// collectors, this keeps the whole feed in memory.
    pub fn weather_batches(&self) -> Result<Vec<GovernedBatch>> {
        (0..self.batch_count())
            .map(|index| self.weather_batch(index))
            .collect()
    }

    /// Regenerates the ground truth of the whole run: every injected sensor error and every
    /// placed piece of personal data, in stream order. Only the truth is kept, not the data.
    pub fn ground_truth(&self) -> Result<GroundTruth> {
        let mut truth = GroundTruth::default();
        for index in 0..self.batch_count() {
            truth
                .errors
                .extend(self.injected_sensor_batch(index)?.errors);
            truth.pii.extend(self.generated_ticket_batch(index)?.pii);
        }
        Ok(truth)
    }

    fn span(&self, index: u64) -> Result<model::BatchSpan> {
        if index >= self.batch_count() {
            return Err(governance_core::Error::InvalidInput(format!(
                "batch index {index} is out of range: the city has {} batches per feed",
                self.batch_count()
            )));
        }
        Ok(self.model.span(index))
    }

    fn injected_sensor_batch(&self, index: u64) -> Result<errors::InjectedBatch> {
        let span = self.span(index)?;
        let clean = sensors::clean_rows(&self.model, &span);
        // `inject` adds at most one duplicate per row, so a block of twice the rows suffices.
        let first = SENSOR_ID_OFFSET + index * 2 * self.model.rows_per_batch();
        Ok(errors::inject(&self.model, &span, clean, first))
    }

    fn generated_ticket_batch(&self, index: u64) -> Result<tickets::TicketBatch> {
        let span = self.span(index)?;
        let first = TICKET_ID_OFFSET + index * tickets::max_per_batch(&self.model);
        Ok(tickets::generate(&self.model, &span, first))
    }

    fn provenance(&self, feed: Feed) -> Provenance {
        let config = self.config();
        Provenance::new(format!(
            "{} seed={} scale={}",
            feed.collector_name(),
            config.seed,
            config.scale
        ))
    }
}
