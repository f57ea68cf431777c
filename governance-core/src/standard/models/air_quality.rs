//! `AirQualityObserved`: pollutant concentrations and the weather at a station.

use super::{
    date_observed, location, precipitation, ref_device, relative_humidity, temperature,
    wind_direction, wind_speed,
};
use crate::standard::convert::Gas;
use crate::standard::model::{Attribute, AttributeType, StandardModel};
use crate::standard::unit::Unit;

fn pollutant(name: &str, semantic_type: &str, description: &str, unit: Unit) -> Attribute {
    Attribute::new(name, AttributeType::Number, semantic_type, description).with_unit(unit)
}

pub(super) fn air_quality_observed() -> StandardModel {
    let attributes = vec![
        date_observed(),
        location(),
        super::address(),
        ref_device(),
        Attribute::new(
            "airQualityIndex",
            AttributeType::Number,
            "aqi",
            "Air quality index computed from the pollutant concentrations",
        )
        .with_range(0.0, 500.0)
        .with_aliases(&["aqi", "aqi_value", "空气质量指数", "kongqi_zhiliang_zhishu"]),
        Attribute::new(
            "airQualityLevel",
            AttributeType::Text,
            "aqi_level",
            "Category of the air quality index, such as good or moderate",
        )
        .with_aliases(&[
            "aqi_level",
            "aqi_category",
            "level",
            "空气质量等级",
            "质量等级",
        ]),
        pollutant(
            "pm25",
            "pm2_5",
            "Mass of particles under 2.5 µm per volume of air",
            Unit::MicrogramPerCubicMetre,
        )
        .with_range(0.0, 1000.0)
        .with_aliases(&[
            "PM2.5",
            "pm2_5",
            "pm2.5",
            "PM25",
            "pm_25",
            "fine_particles",
            "细颗粒物",
        ]),
        pollutant(
            "pm10",
            "pm10",
            "Mass of particles under 10 µm per volume of air",
            Unit::MicrogramPerCubicMetre,
        )
        .with_range(0.0, 2000.0)
        .with_aliases(&[
            "PM10",
            "pm_10",
            "pm10_0",
            "coarse_particles",
            "可吸入颗粒物",
        ]),
        pollutant(
            "pm1",
            "pm1",
            "Mass of particles under 1 µm per volume of air",
            Unit::MicrogramPerCubicMetre,
        )
        .with_range(0.0, 1000.0)
        .with_aliases(&["PM1", "pm1_0", "pm1.0"]),
        pollutant(
            "no2",
            "no2",
            "Nitrogen dioxide concentration",
            Unit::MicrogramPerCubicMetre,
        )
        .with_range(0.0, 1000.0)
        .with_molar_mass(Gas::NitrogenDioxide.molar_mass())
        .with_aliases(&["NO2", "nitrogen_dioxide", "二氧化氮"]),
        pollutant(
            "no",
            "no",
            "Nitric oxide concentration",
            Unit::MicrogramPerCubicMetre,
        )
        .with_range(0.0, 1000.0)
        .with_molar_mass(30.006)
        .with_aliases(&["NO", "nitric_oxide", "一氧化氮"]),
        pollutant(
            "so2",
            "so2",
            "Sulphur dioxide concentration",
            Unit::MicrogramPerCubicMetre,
        )
        .with_range(0.0, 1000.0)
        .with_molar_mass(Gas::SulphurDioxide.molar_mass())
        .with_aliases(&["SO2", "sulphur_dioxide", "sulfur_dioxide", "二氧化硫"]),
        pollutant(
            "co",
            "co",
            "Carbon monoxide concentration",
            Unit::MilligramPerCubicMetre,
        )
        .with_range(0.0, 50.0)
        .with_molar_mass(Gas::CarbonMonoxide.molar_mass())
        .with_aliases(&["CO", "carbon_monoxide", "一氧化碳"]),
        pollutant(
            "o3",
            "o3",
            "Ozone concentration",
            Unit::MicrogramPerCubicMetre,
        )
        .with_range(0.0, 1000.0)
        .with_molar_mass(Gas::Ozone.molar_mass())
        .with_aliases(&["O3", "ozone", "臭氧"]),
        pollutant(
            "co2",
            "co2",
            "Carbon dioxide mixing ratio",
            Unit::PartPerMillion,
        )
        .with_range(250.0, 5000.0)
        .with_molar_mass(44.009)
        .with_aliases(&["CO2", "carbon_dioxide", "二氧化碳"]),
        temperature(),
        relative_humidity(),
        wind_speed(),
        wind_direction(),
        precipitation(),
        Attribute::new(
            "reliability",
            AttributeType::Number,
            "reliability",
            "Confidence in the observation as a fraction between 0 and 1",
        )
        .with_unit(Unit::One)
        .with_range(0.0, 1.0)
        .with_aliases(&["confidence", "quality"]),
    ];
    StandardModel {
        name: "AirQualityObserved".into(),
        description: "Air quality at a place and time: pollutant concentrations and the \
                      weather that drives them"
            .into(),
        source: "FIWARE Smart Data Models (dataModel.Environment)".into(),
        attributes,
    }
}
