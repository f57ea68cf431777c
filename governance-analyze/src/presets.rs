//! Ready-made indicator sets for common city data.

use crate::{AlertRule, IndicatorSql, SqlIndicators, SqlIndicatorsConfig};

/// The 24-hour mean PM2.5 limit of China's ambient air quality standard GB 3095-2012, grade
/// II (residential, commercial and industrial areas), in µg/m³.
pub const PM25_24H_LIMIT_GRADE_II: f64 = 75.0;

/// The fewest hourly PM2.5 values that make a valid 24-hour mean under GB 3095-2012 (its
/// data validity rules ask for at least 20 hourly means per day).
pub const MIN_HOURS_PER_DAILY_MEAN: u32 = 20;

/// Returns the air-quality indicator config for hourly readings with columns `station`
/// (Utf8), `timestamp` (Timestamp, local time) and `PM2.5` (Float64, µg/m³).
///
/// Indicators, per station:
/// - `pm25_daily_mean`: the 24-hour mean of each day with at least
///   [`MIN_HOURS_PER_DAILY_MEAN`] non-null hourly values, with an alert for each day above
///   [`PM25_24H_LIMIT_GRADE_II`];
/// - `pm25_days_over_limit`: how many of those days were above the limit.
pub fn air_quality_config() -> SqlIndicatorsConfig {
    let daily = format!(
        "SELECT station, CAST(\"timestamp\" AS DATE) AS day, avg(\"PM2.5\") AS pm25_mean \
         FROM governed \
         GROUP BY station, CAST(\"timestamp\" AS DATE) \
         HAVING count(\"PM2.5\") >= {MIN_HOURS_PER_DAILY_MEAN}"
    );
    let daily_mean = IndicatorSql {
        name: "pm25_daily_mean".into(),
        sql: format!("{daily} ORDER BY station, day"),
        value_column: "pm25_mean".into(),
        subject_column: Some("station".into()),
        time_column: Some("day".into()),
        alert: Some(AlertRule {
            above: Some(PM25_24H_LIMIT_GRADE_II),
            below: None,
            message: "24-hour mean PM2.5 above the GB 3095-2012 grade II limit".into(),
        }),
    };
    let days_over = IndicatorSql {
        name: "pm25_days_over_limit".into(),
        sql: format!(
            "WITH daily AS ({daily}) \
             SELECT station, \
                    sum(CASE WHEN pm25_mean > {PM25_24H_LIMIT_GRADE_II:.1} THEN 1 ELSE 0 END) AS days_over, \
                    count(*) AS valid_days \
             FROM daily GROUP BY station ORDER BY station"
        ),
        value_column: "days_over".into(),
        subject_column: Some("station".into()),
        time_column: None,
        alert: None,
    };
    SqlIndicatorsConfig {
        name: "air_quality_indicators".into(),
        ..SqlIndicatorsConfig::new(
            vec!["station".into(), "timestamp".into(), "PM2.5".into()],
            vec![daily_mean, days_over],
        )
    }
}

impl SqlIndicators {
    /// Returns the analyzer of [`air_quality_config`]: daily mean PM2.5 per station with
    /// alerts above the GB 3095-2012 grade II limit, and the count of days over it.
    pub fn air_quality() -> SqlIndicators {
        SqlIndicators::from_valid(air_quality_config())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn air_quality_config_is_valid() {
        let config = air_quality_config();
        config.validate().expect("preset validates");
        assert_eq!(config.columns, ["station", "timestamp", "PM2.5"]);
        assert!(config.indicators[1].sql.contains("pm25_mean > 75.0"));
    }
}
