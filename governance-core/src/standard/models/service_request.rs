//! `ServiceRequest`: a citizen's request or complaint to a city service.

use crate::semantic::Sensitivity;
use crate::standard::model::{Attribute, AttributeType, StandardModel};
use crate::standard::unit::Unit;

fn text(name: &str, semantic_type: &str, description: &str) -> Attribute {
    Attribute::new(name, AttributeType::Text, semantic_type, description)
}

fn time(name: &str, semantic_type: &str, description: &str) -> Attribute {
    Attribute::new(name, AttributeType::DateTime, semantic_type, description)
}

pub(super) fn service_request() -> StandardModel {
    let attributes = vec![
        text(
            "service_request_id",
            "request_id",
            "Identifier of the request",
        )
        .with_aliases(&[
            "request_id",
            "ticket_id",
            "case_id",
            "unique_key",
            "id",
            "工单号",
            "工单编号",
            "gongdanhao",
        ]),
        text(
            "status",
            "request_status",
            "Whether the request is open or closed",
        )
        .with_allowed_values(&["open", "closed"])
        .with_aliases(&[
            "state",
            "case_status",
            "request_status",
            "状态",
            "处理状态",
            "zhuangtai",
        ]),
        text(
            "status_notes",
            "status_notes",
            "Explanation of the current status",
        )
        .with_aliases(&["resolution", "resolution_description", "处理结果"]),
        text(
            "service_name",
            "service_category",
            "Name of the requested service or complaint type",
        )
        .with_aliases(&[
            "category",
            "complaint_type",
            "request_type",
            "type",
            "类别",
            "诉求类型",
            "leibie",
        ]),
        text(
            "service_code",
            "service_code",
            "Code of the requested service",
        )
        .with_aliases(&["category_code", "type_code", "类别代码"]),
        text(
            "description",
            "free_text",
            "The requester's account of the problem",
        )
        .with_sensitivity(Sensitivity::Sensitive)
        .with_aliases(&[
            "details",
            "descriptor",
            "comment",
            "content",
            "描述",
            "诉求内容",
            "neirong",
        ]),
        text(
            "agency_responsible",
            "agency",
            "Agency that handles the request",
        )
        .with_aliases(&[
            "agency",
            "agency_name",
            "department",
            "责任部门",
            "承办单位",
        ]),
        text(
            "service_notice",
            "service_notice",
            "Notice about the service, such as expected delays",
        ),
        time(
            "requested_datetime",
            "timestamp",
            "Time the request was made",
        )
        .with_aliases(&[
            "created_date",
            "created_at",
            "opened",
            "submitted_at",
            "受理时间",
            "创建时间",
        ]),
        time(
            "updated_datetime",
            "timestamp",
            "Time the request was last changed",
        )
        .with_aliases(&["updated_at", "last_updated", "更新时间"]),
        time(
            "expected_datetime",
            "timestamp",
            "Time the service expects to act on the request",
        )
        .with_aliases(&["due_date", "expected_at", "预计完成时间"]),
        text("address", "address", "Address the request refers to")
            .with_sensitivity(Sensitivity::Sensitive)
            .with_aliases(&[
                "incident_address",
                "street_address",
                "location_address",
                "地址",
                "dizhi",
            ]),
        text(
            "address_id",
            "address_id",
            "Identifier of the address in the city's register",
        ),
        text("zipcode", "postal_code", "Postal code of the address").with_aliases(&[
            "zip",
            "postal_code",
            "incident_zip",
            "postcode",
            "邮编",
        ]),
        Attribute::new(
            "lat",
            AttributeType::Number,
            "latitude",
            "Latitude of the location (WGS 84)",
        )
        .with_unit(Unit::Degree)
        .with_range(-90.0, 90.0)
        .with_aliases(&["latitude", "y", "纬度", "weidu"]),
        Attribute::new(
            "long",
            AttributeType::Number,
            "longitude",
            "Longitude of the location (WGS 84)",
        )
        .with_unit(Unit::Degree)
        .with_range(-180.0, 180.0)
        .with_aliases(&["longitude", "lon", "lng", "x", "经度", "jingdu"]),
        text(
            "media_url",
            "url",
            "Link to a photo or other media of the problem",
        )
        .with_aliases(&["photo", "photo_url", "image_url", "图片"]),
    ];
    StandardModel {
        name: "ServiceRequest".into(),
        description: "A request or complaint to a city service, such as a pothole report".into(),
        source: "Open311 GeoReport v2".into(),
        attributes,
    }
}
