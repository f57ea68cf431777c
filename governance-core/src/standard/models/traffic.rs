//! `TrafficFlowObserved`: vehicle counts and speeds on a road lane over a period.

use super::{address, date_observed, location};
use crate::standard::model::{Attribute, AttributeType, StandardModel};
use crate::standard::unit::Unit;

pub(super) fn traffic_flow_observed() -> StandardModel {
    let attributes = vec![
        date_observed(),
        Attribute::new(
            "dateObservedFrom",
            AttributeType::DateTime,
            "period_start",
            "Start of the observation period",
        )
        .with_aliases(&["start_time", "period_start", "from", "开始时间"]),
        Attribute::new(
            "dateObservedTo",
            AttributeType::DateTime,
            "period_end",
            "End of the observation period",
        )
        .with_aliases(&["end_time", "period_end", "to", "结束时间"]),
        location(),
        address(),
        Attribute::new(
            "refRoadSegment",
            AttributeType::Text,
            "road_segment_id",
            "Identifier of the road segment observed",
        )
        .with_aliases(&[
            "road",
            "road_id",
            "segment",
            "segment_id",
            "link_id",
            "路段",
            "luduan",
        ]),
        Attribute::new(
            "laneId",
            AttributeType::Integer,
            "lane_id",
            "Lane number, counted from the kerb",
        )
        .with_range(0.0, 20.0)
        .with_aliases(&[
            "lane",
            "lane_id",
            "lane_number",
            "lane_no",
            "车道",
            "chedao",
        ]),
        Attribute::new(
            "laneDirection",
            AttributeType::Text,
            "lane_direction",
            "Direction of travel in the lane relative to the road segment",
        )
        .with_allowed_values(&["forward", "backward"])
        .with_aliases(&["direction", "dir", "travel_direction", "方向", "fangxiang"]),
        Attribute::new(
            "intensity",
            AttributeType::Integer,
            "vehicle_count",
            "Number of vehicles that passed in the observation period",
        )
        .with_range(0.0, 20_000.0)
        .with_aliases(&[
            "volume",
            "count",
            "flow",
            "vehicle_count",
            "traffic_volume",
            "流量",
            "车流量",
            "liuliang",
        ]),
        Attribute::new(
            "occupancy",
            AttributeType::Number,
            "occupancy",
            "Fraction of the period in which a vehicle stood over the detector",
        )
        .with_unit(Unit::One)
        .with_range(0.0, 1.0)
        .with_aliases(&["occ", "occupancy_rate", "占有率", "zhanyoulv"]),
        Attribute::new(
            "averageVehicleSpeed",
            AttributeType::Number,
            "vehicle_speed",
            "Mean speed of the vehicles in the period",
        )
        .with_unit(Unit::KilometrePerHour)
        .with_range(0.0, 250.0)
        .with_aliases(&[
            "speed",
            "avg_speed",
            "mean_speed",
            "平均车速",
            "车速",
            "chesu",
        ]),
        Attribute::new(
            "averageVehicleLength",
            AttributeType::Number,
            "vehicle_length",
            "Mean length of the vehicles in the period",
        )
        .with_unit(Unit::Metre)
        .with_range(0.0, 30.0)
        .with_aliases(&["vehicle_length", "avg_length", "平均车长"]),
        Attribute::new(
            "averageGapDistance",
            AttributeType::Number,
            "gap_distance",
            "Mean distance between consecutive vehicles",
        )
        .with_unit(Unit::Metre)
        .with_range(0.0, 1000.0)
        .with_aliases(&["gap", "gap_distance", "车间距"]),
        Attribute::new(
            "averageHeadwayTime",
            AttributeType::Number,
            "headway_time",
            "Mean time between consecutive vehicles passing a point",
        )
        .with_unit(Unit::Second)
        .with_range(0.0, 3600.0)
        .with_aliases(&["headway", "headway_time", "车头时距"]),
        Attribute::new(
            "congested",
            AttributeType::Boolean,
            "congested",
            "Whether the lane was congested in the period",
        )
        .with_aliases(&["congestion", "is_congested", "拥堵", "yongdu"]),
        Attribute::new(
            "vehicleType",
            AttributeType::Text,
            "vehicle_type",
            "Class of the vehicles counted, such as car or lorry",
        )
        .with_aliases(&["vehicle_type", "vehicle_class", "class", "车型", "chexing"]),
    ];
    StandardModel {
        name: "TrafficFlowObserved".into(),
        description: "Traffic on a road lane over an observation period".into(),
        source: "FIWARE Smart Data Models (dataModel.Transportation)".into(),
        attributes,
    }
}
