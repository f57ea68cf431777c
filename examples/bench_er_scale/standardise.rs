//! Standardisation of the generated person records before matching, shared by our pipeline
//! and the Splink anchor.

use std::io::Write;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use governance::fuse::er::RecordTable;
use governance::fuse::er::block::normalise;

/// Matched attributes, in the order of the table and the CSV.
pub const ATTRIBUTES: [&str; 6] = [
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "street",
    "city",
];

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Writes a date of birth as `YYYY-MM-DD` from the generator's forms (`1985-03-12`,
/// `12/03/1985`, `19850312`, `12 Mar 1985`, `1985年3月12日`), or returns `None` for any other form.
fn iso_date(value: &str) -> Option<String> {
    let parts: Vec<&str> = value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect();
    let number = |text: &str| text.parse::<u32>().ok();
    let (year, month, day) = match parts.as_slice() {
        [compact] if compact.len() == 8 => (
            number(&compact[..4])?,
            number(&compact[4..6])?,
            number(&compact[6..])?,
        ),
        [a, b, c] if a.len() == 4 => (number(a)?, number(b)?, number(c)?),
        [day, month, year] if month.chars().all(|c| c.is_ascii_alphabetic()) => {
            let lower = month.to_ascii_lowercase();
            let index = MONTHS.iter().position(|name| *name == lower)? as u32;
            (number(year)?, index + 1, number(day)?)
        }
        [day, month, year] => (number(year)?, number(month)?, number(day)?),
        _ => return None,
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// Returns the last ten digits of a phone number, which drops country codes.
fn phone_digits(value: &str) -> Option<String> {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let start = digits.len().saturating_sub(10);
    (!digits.is_empty()).then(|| digits[start..].to_owned())
}

fn standard_value(attribute: &str, value: &str) -> Option<String> {
    match attribute {
        "date_of_birth" => iso_date(value).or_else(|| Some(normalise(value))),
        "phone" => phone_digits(value),
        _ => Some(normalise(value)),
    }
}

/// Builds the standardised record table from the generated batch.
pub fn person_table(batch: &RecordBatch) -> Result<RecordTable, String> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .map(|array| array.as_string::<i32>().clone())
            .ok_or_else(|| format!("generated batch lacks column '{name}'"))
    };
    let ids = column("record_id")?;
    let columns = ATTRIBUTES
        .iter()
        .map(|name| column(name))
        .collect::<Result<Vec<_>, _>>()?;
    let mut table = RecordTable::new(
        "persons",
        ATTRIBUTES.iter().map(|name| (*name).to_owned()).collect(),
    )
    .map_err(|err| err.to_string())?;
    for row in 0..batch.num_rows() {
        let values = ATTRIBUTES
            .iter()
            .zip(&columns)
            .map(|(attribute, array)| {
                array
                    .is_valid(row)
                    .then(|| standard_value(attribute, array.value(row)))
                    .flatten()
            })
            .collect();
        table
            .push(ids.value(row), values)
            .map_err(|err| err.to_string())?;
    }
    Ok(table)
}

/// Writes the standardised table with the entity ids as CSV for the Splink anchor.
pub fn write_csv(table: &RecordTable, entities: &[Option<u64>], path: &Path) -> Result<(), String> {
    let failed = |err: std::io::Error| format!("failed to write {}: {err}", path.display());
    let file = std::fs::File::create(path).map_err(failed)?;
    let mut out = std::io::BufWriter::new(file);
    let mut writer = csv::Writer::from_writer(&mut out);
    let mut header = vec!["record_id", "entity_id"];
    header.extend(ATTRIBUTES);
    writer
        .write_record(&header)
        .map_err(|err| format!("failed to write {}: {err}", path.display()))?;
    if entities.len() != table.len() {
        return Err(format!(
            "{} entity ids for {} records; pass one id (or none) per record",
            entities.len(),
            table.len()
        ));
    }
    for (row, entity) in entities.iter().enumerate() {
        let mut record = vec![
            table.id(row).unwrap_or_default().to_owned(),
            entity.map_or_else(String::new, |entity| entity.to_string()),
        ];
        for index in 0..ATTRIBUTES.len() {
            record.push(table.value(row, index).unwrap_or_default().to_owned());
        }
        writer
            .write_record(&record)
            .map_err(|err| format!("failed to write {}: {err}", path.display()))?;
    }
    writer.flush().map_err(failed)?;
    drop(writer);
    out.flush().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_every_generated_form() {
        for value in [
            "1985-03-12",
            "12/03/1985",
            "19850312",
            "12 Mar 1985",
            "1985年3月12日",
        ] {
            assert_eq!(iso_date(value).as_deref(), Some("1985-03-12"), "{value}");
        }
        assert_eq!(iso_date("not a date"), None);
        assert_eq!(
            phone_digits("+44 201 234 5678").as_deref(),
            Some("2012345678")
        );
    }
}
