//! `WeatherObserved`: weather measured at a station.

use super::{
    address, date_observed, location, precipitation, ref_device, relative_humidity, temperature,
    wind_direction, wind_speed,
};
use crate::standard::model::{Attribute, AttributeType, StandardModel};
use crate::standard::unit::Unit;

pub(super) fn weather_observed() -> StandardModel {
    let attributes = vec![
        date_observed(),
        location(),
        address(),
        ref_device(),
        temperature(),
        Attribute::new(
            "feelsLikeTemperature",
            AttributeType::Number,
            "apparent_temperature",
            "Temperature a person perceives, given wind and humidity",
        )
        .with_unit(Unit::Celsius)
        .with_range(-80.0, 70.0)
        .with_aliases(&["feels_like", "apparent_temperature", "体感温度"]),
        Attribute::new(
            "dewPoint",
            AttributeType::Number,
            "dew_point",
            "Temperature at which the air would be saturated with water vapour",
        )
        .with_unit(Unit::Celsius)
        .with_range(-80.0, 40.0)
        .with_aliases(&[
            "dew_point",
            "dewp",
            "dewpt",
            "td",
            "露点",
            "露点温度",
            "ludian",
        ]),
        relative_humidity(),
        Attribute::new(
            "atmosphericPressure",
            AttributeType::Number,
            "air_pressure",
            "Air pressure at the station",
        )
        .with_unit(Unit::Hectopascal)
        .with_range(800.0, 1100.0)
        .with_aliases(&[
            "pressure",
            "pres",
            "air_pressure",
            "slp",
            "baro",
            "气压",
            "qiya",
        ]),
        precipitation(),
        wind_speed(),
        wind_direction(),
        Attribute::new(
            "gustSpeed",
            AttributeType::Number,
            "gust_speed",
            "Peak wind gust speed",
        )
        .with_unit(Unit::MetrePerSecond)
        .with_range(0.0, 100.0)
        .with_aliases(&["gust", "wind_gust", "gust_speed", "阵风"]),
        Attribute::new(
            "visibility",
            AttributeType::Number,
            "visibility",
            "Distance at which objects can be seen",
        )
        .with_unit(Unit::Metre)
        .with_range(0.0, 100_000.0)
        .with_aliases(&["vis", "能见度", "nengjiandu"]),
        Attribute::new(
            "solarRadiation",
            AttributeType::Number,
            "solar_radiation",
            "Solar power received per area",
        )
        .with_unit(Unit::WattPerSquareMetre)
        .with_range(0.0, 1500.0)
        .with_aliases(&["solar_radiation", "radiation", "ghi", "太阳辐射"]),
        Attribute::new(
            "snowHeight",
            AttributeType::Number,
            "snow_depth",
            "Depth of snow on the ground",
        )
        .with_unit(Unit::Centimetre)
        .with_range(0.0, 1000.0)
        .with_aliases(&["snow_depth", "snow", "积雪深度"]),
        Attribute::new(
            "uVIndexMax",
            AttributeType::Number,
            "uv_index",
            "Maximum ultraviolet index in the period",
        )
        .with_range(0.0, 20.0)
        .with_aliases(&["uv_index", "uv", "紫外线指数"]),
        Attribute::new(
            "weatherType",
            AttributeType::Text,
            "weather_type",
            "Observed weather in words, such as rain or fog",
        )
        .with_aliases(&[
            "weather",
            "conditions",
            "summary",
            "天气",
            "天气现象",
            "tianqi",
        ]),
    ];
    StandardModel {
        name: "WeatherObserved".into(),
        description: "Weather measured at a station at a point in time".into(),
        source: "FIWARE Smart Data Models (dataModel.Weather)".into(),
        attributes,
    }
}
