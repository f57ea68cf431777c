//! The built-in standard models. Attribute names follow the public FIWARE Smart Data Models
//! and the Open311 GeoReport v2 specification; descriptions, aliases and plausible ranges
//! are this SDK's own.

mod air_quality;
mod service_request;
mod traffic;
mod weather;

use super::model::{Attribute, AttributeType, StandardModel};
use super::unit::Unit;

/// Returns every built-in model.
pub(super) fn builtin_models() -> Vec<StandardModel> {
    vec![
        air_quality::air_quality_observed(),
        weather::weather_observed(),
        traffic::traffic_flow_observed(),
        service_request::service_request(),
    ]
}

/// Returns the observation time attribute that the observed-entity models share.
fn date_observed() -> Attribute {
    Attribute::new(
        "dateObserved",
        AttributeType::DateTime,
        "timestamp",
        "Time of the observation, or the end of its period",
    )
    .with_aliases(&[
        "date",
        "datetime",
        "date_time",
        "time",
        "timestamp",
        "observed_at",
        "observation_time",
        "时间",
        "日期",
        "监测时间",
        "shijian",
        "riqi",
    ])
}

fn location() -> Attribute {
    Attribute::new(
        "location",
        AttributeType::Geometry,
        "geo_point",
        "Position of the observation as a GeoJSON geometry",
    )
    .with_aliases(&[
        "coordinates",
        "geom",
        "geometry",
        "position",
        "位置",
        "坐标",
        "weizhi",
    ])
}

fn address() -> Attribute {
    Attribute::new(
        "address",
        AttributeType::Text,
        "address",
        "Postal address of the observation point",
    )
    .with_aliases(&["street_address", "地址", "dizhi"])
}

fn ref_device() -> Attribute {
    Attribute::new(
        "refDevice",
        AttributeType::Text,
        "device_id",
        "Identifier of the device or station that made the observation",
    )
    .with_aliases(&[
        "device",
        "device_id",
        "sensor",
        "sensor_id",
        "station",
        "station_id",
        "station_name",
        "站点",
        "监测站",
        "zhandian",
    ])
}

fn temperature() -> Attribute {
    Attribute::new(
        "temperature",
        AttributeType::Number,
        "air_temperature",
        "Air temperature",
    )
    .with_unit(Unit::Celsius)
    .with_range(-60.0, 60.0)
    .with_aliases(&[
        "temp",
        "air_temperature",
        "air_temp",
        "t2m",
        "温度",
        "气温",
        "wendu",
        "qiwen",
    ])
}

fn relative_humidity() -> Attribute {
    Attribute::new(
        "relativeHumidity",
        AttributeType::Number,
        "relative_humidity",
        "Relative humidity of the air as a fraction between 0 and 1",
    )
    .with_unit(Unit::One)
    .with_range(0.0, 1.0)
    .with_aliases(&["humidity", "rh", "hum", "湿度", "相对湿度", "shidu"])
}

fn wind_speed() -> Attribute {
    Attribute::new(
        "windSpeed",
        AttributeType::Number,
        "wind_speed",
        "Wind speed",
    )
    .with_unit(Unit::MetrePerSecond)
    .with_range(0.0, 75.0)
    .with_aliases(&["wind_speed", "ws", "wspm", "wspd", "wind", "风速", "fengsu"])
}

fn wind_direction() -> Attribute {
    Attribute::new(
        "windDirection",
        AttributeType::Number,
        "wind_direction",
        "Direction the wind blows from, in degrees clockwise from north",
    )
    .with_unit(Unit::Degree)
    .with_range(0.0, 360.0)
    .with_aliases(&[
        "wind_direction",
        "wd",
        "wdir",
        "wind_dir",
        "风向",
        "fengxiang",
    ])
}

fn precipitation() -> Attribute {
    Attribute::new(
        "precipitation",
        AttributeType::Number,
        "precipitation",
        "Amount of rain or melted snow fallen in the period",
    )
    .with_unit(Unit::Millimetre)
    .with_range(0.0, 500.0)
    .with_aliases(&[
        "rain",
        "rainfall",
        "precip",
        "prcp",
        "降水",
        "降水量",
        "降雨量",
        "jiangshui",
    ])
}
