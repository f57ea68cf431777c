//! Citizen service tickets in English and Chinese whose free text contains names, mobile
//! numbers, e-mail addresses and resident ids, with the byte span of each placed value.
//!
//! Chinese templates glue values directly to the surrounding characters (`身份证号` followed
//! by the id, `电话` followed by the number), as people write them, so that a detector cannot
//! rely on spaces around personal data. Some tickets hold no personal data at all.

use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use governance_core::Result;
use rand::Rng;

use super::model::{BatchSpan, CityModel, HourStamp};
use super::pii::{Person, email, person, phone, resident_id};
use super::random::{Stream, batch_rng};
use super::truth::{PiiKind, PlacedPii};

/// Ticket templates: category and text with `{name}`, `{phone}`, `{email}` and `{id}` slots.
/// A name is written in characters in Chinese text and in pinyin in English text.
const TEMPLATES: [(&str, &str); 14] = [
    (
        "noise",
        "Resident {name} reports construction noise after 22:00 near the north gate. Call back on {phone}.",
    ),
    (
        "air_quality",
        "Strong smell of burning plastic near the monitoring station since this morning. Reporter {name}, email {email}, phone {phone}.",
    ),
    (
        "garbage",
        "Garbage has not been collected for three days. Contact: {name} ({email}).",
    ),
    (
        "streetlight",
        "Two streetlights are out on the east side road. Reporter ID {id}, tel {phone}.",
    ),
    (
        "road_damage",
        "Large pothole in the bike lane; a cyclist fell this morning.",
    ),
    (
        "water_leak",
        "{name} says water is leaking from a pipe under the pavement, reach them at {phone} or {email}.",
    ),
    (
        "parking",
        "Cars block the fire lane every evening. Complainant {name}, identity card {id}.",
    ),
    (
        "noise",
        "市民{name}反映小区附近夜间施工噪音扰民，联系电话{phone}。",
    ),
    (
        "air_quality",
        "{name}，身份证号{id}，投诉工厂排放黑烟，请尽快处理。邮箱{email}",
    ),
    (
        "garbage",
        "垃圾清运不及时，报告人{name}电话{phone}身份证{id}",
    ),
    (
        "streetlight",
        "路灯损坏多日无人维修。联系人：{name}，手机：{phone}",
    ),
    ("road_damage", "道路积水严重，车辆无法通行，请尽快处理。"),
    (
        "parking",
        "车辆长期占用消防通道。举报人{name}，邮箱{email}，身份证号码{id}。",
    ),
    (
        "water_leak",
        "{name}家楼下水管漏水，电话{phone}，邮箱{email}",
    ),
];

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("ticket_id", DataType::Utf8, false),
        Field::new("station", DataType::Utf8, false),
        Field::new("year", DataType::Int64, false),
        Field::new("month", DataType::Int64, false),
        Field::new("day", DataType::Int64, false),
        Field::new("hour", DataType::Int64, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
    ]))
});

/// Returns the schema of service tickets.
pub(crate) fn schema() -> SchemaRef {
    SCHEMA.clone()
}

/// One ticket before it becomes a row of a record batch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TicketRow {
    pub ticket_id: String,
    pub station: String,
    pub stamp: HourStamp,
    pub category: &'static str,
    pub text: String,
}

/// A batch of tickets with row ids and the personal data placed in them.
#[derive(Debug, Clone)]
pub(crate) struct TicketBatch {
    pub rows: Vec<TicketRow>,
    pub row_ids: Vec<u64>,
    pub pii: Vec<PlacedPii>,
}

/// Returns the most tickets one station files in one hour.
fn max_per_station_hour(model: &CityModel) -> u64 {
    (model.config.tickets_per_station_day / 24.0)
        .ceil()
        .max(1.0) as u64
}

/// Returns the most tickets one batch can hold, which sizes its block of row ids.
pub(crate) fn max_per_batch(model: &CityModel) -> u64 {
    model.rows_per_batch() * max_per_station_hour(model)
}

/// Generates the tickets of a batch, with ids from `first_id` on.
pub(crate) fn generate(model: &CityModel, span: &BatchSpan, first_id: u64) -> TicketBatch {
    let mut rng = batch_rng(model.config.seed, Stream::Tickets, span.index);
    let per_hour = model.config.tickets_per_station_day / 24.0;
    let whole = per_hour.floor();
    let fraction = per_hour - whole;
    let mut batch = TicketBatch {
        rows: Vec::new(),
        row_ids: Vec::new(),
        pii: Vec::new(),
    };
    for hour in span.hours.clone() {
        let stamp = model.stamp(hour);
        for station in span.stations.clone() {
            let count = whole as u64 + u64::from(rng.random::<f64>() < fraction);
            for _ in 0..count {
                let row_id = first_id + batch.rows.len() as u64;
                let (category, template) = TEMPLATES[rng.random_range(0..TEMPLATES.len())];
                let text = render(template, row_id, &mut rng, &mut batch.pii);
                batch.rows.push(TicketRow {
                    ticket_id: format!("TK-{:06}-{:05}", span.index, batch.rows.len()),
                    station: model.stations[station].clone(),
                    stamp,
                    category,
                    text,
                });
                batch.row_ids.push(row_id);
            }
        }
    }
    batch
}

/// Fills a template's slots and records where each value landed. One person per ticket, so
/// the name, e-mail address and phone number belong together.
fn render(template: &str, row_id: u64, rng: &mut impl Rng, pii: &mut Vec<PlacedPii>) -> String {
    let someone: Person = person(rng);
    let chinese = !template.is_ascii();
    let mut text = String::with_capacity(template.len() + 48);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let slot = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        let (kind, value) = match slot {
            "name" if chinese => (PiiKind::Name, someone.chinese.clone()),
            "name" => (PiiKind::Name, someone.pinyin.clone()),
            "phone" => (PiiKind::Phone, phone(rng)),
            "email" => (PiiKind::Email, email(&someone, rng)),
            _ => (PiiKind::ResidentId, resident_id(rng)),
        };
        let start = text.len();
        text.push_str(&value);
        pii.push(PlacedPii {
            row_id,
            kind,
            value,
            start,
            end: text.len(),
        });
    }
    text.push_str(rest);
    text
}

/// Builds the record batch of `rows`.
pub(crate) fn to_record_batch(rows: &[TicketRow]) -> Result<RecordBatch> {
    let mut ticket_ids = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
    let mut stations = StringBuilder::with_capacity(rows.len(), rows.len() * 12);
    let mut calendar: [Int64Builder; 4] =
        std::array::from_fn(|_| Int64Builder::with_capacity(rows.len()));
    let mut categories = StringBuilder::with_capacity(rows.len(), rows.len() * 10);
    let mut texts = StringBuilder::with_capacity(rows.len(), rows.len() * 96);
    for row in rows {
        ticket_ids.append_value(&row.ticket_id);
        stations.append_value(&row.station);
        let stamp = row.stamp;
        for (builder, value) in
            calendar
                .iter_mut()
                .zip([stamp.year, stamp.month, stamp.day, stamp.hour])
        {
            builder.append_value(value);
        }
        categories.append_value(row.category);
        texts.append_value(&row.text);
    }
    let mut columns: Vec<ArrayRef> =
        vec![Arc::new(ticket_ids.finish()), Arc::new(stations.finish())];
    columns.extend(
        calendar
            .iter_mut()
            .map(|builder| Arc::new(builder.finish()) as ArrayRef),
    );
    columns.push(Arc::new(categories.finish()));
    columns.push(Arc::new(texts.finish()));
    Ok(RecordBatch::try_new(schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn spans_point_at_placed_values() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut pii = Vec::new();
        let mut texts = Vec::new();
        for (_, template) in TEMPLATES {
            texts.push(render(template, texts.len() as u64, &mut rng, &mut pii));
        }
        assert!(!pii.is_empty());
        for placed in &pii {
            let text = &texts[placed.row_id as usize];
            assert_eq!(&text[placed.start..placed.end], placed.value);
        }
    }

    #[test]
    fn chinese_templates_glue_ids_to_characters() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut pii = Vec::new();
        let text = render("身份证号{id}，投诉", 0, &mut rng, &mut pii);
        assert!(text.starts_with("身份证号1"), "{text}");
        assert_eq!(pii[0].start, "身份证号".len());
    }

    #[test]
    fn every_template_slot_is_known() {
        for (_, template) in TEMPLATES {
            let mut rest = template;
            while let Some(open) = rest.find('{') {
                let close = rest[open..].find('}').expect("closing brace");
                let slot = &rest[open + 1..open + close];
                assert!(["name", "phone", "email", "id"].contains(&slot), "{slot}");
                rest = &rest[open + close + 1..];
            }
        }
    }
}
