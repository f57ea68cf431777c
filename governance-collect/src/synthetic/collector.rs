//! The collectors that stream the synthetic city's sensor readings, weather and tickets.

use governance_core::audit::AuditAction;
use governance_core::{Collector, GovernedBatch, Result, Stage, StageContext};
use serde::{Deserialize, Serialize};

use super::SyntheticCity;

/// The data set a [`SyntheticCollector`] streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feed {
    /// Hourly air-quality readings with injected errors.
    Sensors,
    /// Hourly weather per station.
    Weather,
    /// Citizen service tickets with personal data in free text.
    Tickets,
}

impl Feed {
    /// Returns the collector name of the feed: `synthetic_sensors`, `synthetic_weather` or
    /// `synthetic_tickets`.
    pub fn collector_name(self) -> &'static str {
        match self {
            Feed::Sensors => "synthetic_sensors",
            Feed::Weather => "synthetic_weather",
            Feed::Tickets => "synthetic_tickets",
        }
    }
}

/// Streams one feed of a [`SyntheticCity`], generating each batch when it is asked for, so
/// memory does not grow with the city's scale or the number of days.
///
/// Every round restarts at the first batch and yields the same rows with the same ids.
/// Generated rows are never quarantined; the injected errors stay in the data for the
/// cleaners to find, and [`SyntheticCity::ground_truth`] lists them.
#[derive(Debug, Clone)]
pub struct SyntheticCollector {
    city: SyntheticCity,
    feed: Feed,
    next: u64,
}

impl SyntheticCollector {
    pub(crate) fn new(city: SyntheticCity, feed: Feed) -> Self {
        SyntheticCollector {
            city,
            feed,
            next: 0,
        }
    }

    /// Returns the feed this collector streams.
    pub fn feed(&self) -> Feed {
        self.feed
    }
}

impl Stage for SyntheticCollector {
    fn name(&self) -> &str {
        self.feed.collector_name()
    }

    fn params(&self) -> serde_json::Value {
        serde_json::json!({
            "feed": self.feed,
            "city": self.city.config(),
        })
    }

    fn describe(&self) -> String {
        let config = self.city.config();
        format!(
            "synthetic {} of {} stations over {} days (seed {})",
            self.feed.collector_name().trim_start_matches("synthetic_"),
            config.station_count(),
            config.days,
            config.seed
        )
    }
}

impl Collector for SyntheticCollector {
    fn start(&mut self, _ctx: &mut StageContext) -> Result<()> {
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        while self.next < self.city.batch_count() {
            let index = self.next;
            self.next += 1;
            let batch = match self.feed {
                Feed::Sensors => self.city.sensor_batch(index)?,
                Feed::Weather => self.city.weather_batch(index)?,
                Feed::Tickets => self.city.ticket_batch(index)?,
            };
            let rows = batch.num_rows() as u64;
            ctx.record_read(rows);
            ctx.audit(
                AuditAction::Read,
                &batch.provenance.source,
                &format!("batch={index} rows={rows}"),
            )?;
            // A window can hold no tickets; skip it rather than emit an empty batch.
            if rows > 0 {
                return Ok(Some(batch));
            }
        }
        Ok(None)
    }
}
