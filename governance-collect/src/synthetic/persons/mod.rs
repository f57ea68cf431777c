//! Synthetic person records with duplicates and a known entity id, for entity resolution.
//!
//! Each entity (a person) gets an original record and, with probability
//! [`PersonConfig::duplicate_probability`], one to [`PersonConfig::max_duplicates`] more
//! records written the way another office would write them: typos in names, first and last
//! name swapped, missing values, another phone or date format, abbreviated street types.
//! A share of the people have Chinese names, written in pinyin or in characters (one script
//! per person). Records are shuffled, and column `entity_id` is the ground truth.
//!
//! With [`PersonConfig::hard`] set, distinct people also look alike and duplicates differ
//! more (see [`HardCases`]): households share an address and a phone, family members share
//! a family name and have close birth dates, common names recur, and duplicates use
//! nicknames and transposed day and month. Without it the records are the same as before
//! these cases existed, for the same seed.
//!
//! The same config gives the same records on every machine: one ChaCha8 generator seeded
//! with [`PersonConfig::seed`] drives everything.
//!
//! ```
//! use governance_collect::synthetic::persons::{PersonConfig, generate_persons};
//!
//! let batch = generate_persons(&PersonConfig { records: 1_000, ..PersonConfig::default() })?;
//! assert_eq!(batch.num_rows(), 1_000);
//! assert_eq!(batch.schema().field(1).name(), "entity_id");
//! # Ok::<(), governance_core::Error>(())
//! ```

mod hard;
mod names;

pub use hard::HardCases;

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder, UInt64Builder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use governance_core::{Error, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use names::*;

/// Settings of the person generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PersonConfig {
    /// Records to generate, originals and duplicates together.
    pub records: usize,
    /// Probability that a person has duplicates.
    pub duplicate_probability: f64,
    /// Most duplicates of one person, at least 1.
    pub max_duplicates: usize,
    /// Share of people with Chinese names.
    pub chinese_share: f64,
    /// Probability that one field of a duplicate is blank.
    pub missing_probability: f64,
    /// Probability of a typo in each name of a duplicate.
    pub typo_probability: f64,
    /// Probability that a duplicate swaps first and last name.
    pub swap_probability: f64,
    /// Seed of the generator.
    pub seed: u64,
    /// Harder cases; `None` generates the easier records of earlier versions.
    pub hard: Option<HardCases>,
}

impl Default for PersonConfig {
    /// 10,000 records, 40 % of people with duplicates (at most 3), 30 % Chinese names.
    fn default() -> Self {
        Self {
            records: 10_000,
            duplicate_probability: 0.4,
            max_duplicates: 3,
            chinese_share: 0.3,
            missing_probability: 0.15,
            typo_probability: 0.3,
            swap_probability: 0.08,
            seed: 42,
            hard: None,
        }
    }
}

impl PersonConfig {
    fn validate(&self) -> Result<()> {
        let probabilities = [
            ("duplicate_probability", self.duplicate_probability),
            ("chinese_share", self.chinese_share),
            ("missing_probability", self.missing_probability),
            ("typo_probability", self.typo_probability),
            ("swap_probability", self.swap_probability),
        ];
        for (name, value) in probabilities {
            if !(0.0..=1.0).contains(&value) {
                return Err(Error::Config {
                    component: "person generator".into(),
                    message: format!("{name} is {value}; use a probability from 0 to 1"),
                });
            }
        }
        if self.max_duplicates == 0 {
            return Err(Error::Config {
                component: "person generator".into(),
                message: "max_duplicates is 0; use at least 1".into(),
            });
        }
        if let Some((name, value, fix)) = self.hard.as_ref().and_then(HardCases::invalid_setting) {
            return Err(Error::Config {
                component: "person generator".into(),
                message: format!("hard.{name} is {value}; {fix}"),
            });
        }
        Ok(())
    }
}

/// Columns of the generated batch.
pub fn person_schema() -> SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        Field::new("record_id", DataType::Utf8, false),
        Field::new("entity_id", DataType::UInt64, false),
        text("first_name"),
        text("last_name"),
        text("date_of_birth"),
        text("phone"),
        text("street"),
        text("city"),
    ]))
}

/// The true attributes of one person.
struct Person {
    chinese: bool,
    characters: bool,
    first: String,
    last: String,
    /// Year, month, day.
    birth: (u32, u32, u32),
    country_code: &'static str,
    national: String,
    house: u32,
    street: (&'static str, &'static str, &'static str),
    city: &'static str,
    date_format: u8,
    phone_format: u8,
}

/// One written record of a person.
struct Written {
    first: Option<String>,
    last: Option<String>,
    birth: Option<String>,
    phone: Option<String>,
    street: Option<String>,
    city: Option<String>,
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn new_person(rng: &mut ChaCha8Rng, config: &PersonConfig) -> Person {
    let chinese = rng.random_bool(config.chinese_share);
    let characters = chinese && rng.random_bool(0.4);
    let (first, last, street, city, country_code, national) = if chinese {
        let (family_pinyin, family_chars) = *pick(rng, CHINESE_FAMILY);
        let (a_pinyin, a_chars) = *pick(rng, CHINESE_GIVEN);
        let (mut given_pinyin, mut given_chars) = (a_pinyin.to_owned(), a_chars.to_owned());
        if rng.random_bool(0.7) {
            let (b_pinyin, b_chars) = *pick(rng, CHINESE_GIVEN);
            given_pinyin.push_str(b_pinyin);
            given_chars.push_str(b_chars);
        }
        let (road_pinyin, road_chars) = *pick(rng, CHINESE_ROADS);
        let (city_pinyin, city_chars) = *pick(rng, CHINESE_CITIES);
        let mobile = format!(
            "1{}{:09}",
            rng.random_range(3..=9),
            rng.random_range(0..1_000_000_000u32)
        );
        if characters {
            (
                given_chars,
                family_chars.to_owned(),
                (road_chars, "路", "路"),
                city_chars,
                "86",
                mobile,
            )
        } else {
            let mut given = given_pinyin;
            if let Some(first) = given.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            (
                given,
                family_pinyin.to_owned(),
                (road_pinyin, "Road", "Rd"),
                city_pinyin,
                "86",
                mobile,
            )
        }
    } else {
        let (full, short) = *pick(rng, STREET_TYPES);
        let code = if rng.random_bool(0.5) { "44" } else { "1" };
        let national = format!(
            "{}{:07}",
            rng.random_range(201..=989),
            rng.random_range(0..10_000_000u32)
        );
        (
            (*pick(rng, ENGLISH_GIVEN)).to_owned(),
            (*pick(rng, ENGLISH_FAMILY)).to_owned(),
            (*pick(rng, STREET_NAMES), full, short),
            *pick(rng, ENGLISH_CITIES),
            code,
            national,
        )
    };
    Person {
        chinese,
        characters,
        first,
        last,
        birth: (
            rng.random_range(1930..=2010),
            rng.random_range(1..=12),
            rng.random_range(1..=28),
        ),
        country_code,
        national,
        house: rng.random_range(1..=999),
        street,
        city,
        date_format: rng.random_range(0..3),
        phone_format: rng.random_range(0..3),
    }
}

fn format_date(person: &Person, birth: (u32, u32, u32), format: u8) -> String {
    let (year, month, day) = birth;
    match format {
        0 => format!("{year:04}-{month:02}-{day:02}"),
        1 if person.chinese => format!("{year}年{month}月{day}日"),
        1 => format!("{day:02}/{month:02}/{year:04}"),
        2 => format!("{year:04}{month:02}{day:02}"),
        _ => format!("{day} {} {year}", MONTHS[(month - 1) as usize]),
    }
}

fn format_phone(person: &Person, format: u8) -> String {
    let national = &person.national;
    let (head, tail) = national.split_at(3.min(national.len()));
    let (middle, end) = tail.split_at(tail.len() / 2);
    match format {
        0 => national.clone(),
        1 => format!("+{} {head} {middle} {end}", person.country_code),
        2 => format!("{head}-{middle}-{end}"),
        _ => format!("({head}) {middle}{end}"),
    }
}

fn format_street(person: &Person, short: bool) -> String {
    let (name, full, abbreviated) = person.street;
    if person.characters {
        return format!("{name}路{}号", person.house);
    }
    let kind = if short { abbreviated } else { full };
    format!("{} {name} {kind}", person.house)
}

/// Introduces one typing error: a deleted, inserted, replaced or transposed character.
fn typo(rng: &mut ChaCha8Rng, value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    if chars.len() < 2 {
        return value.to_owned();
    }
    let position = rng.random_range(1..chars.len());
    let random_letter = |rng: &mut ChaCha8Rng, like: char| {
        if like.is_ascii() {
            (b'a' + rng.random_range(0..26u8)) as char
        } else {
            pick(rng, CHINESE_GIVEN).1.chars().next().unwrap_or(like)
        }
    };
    match rng.random_range(0..4) {
        0 => {
            chars.remove(position);
        }
        1 => {
            let letter = random_letter(rng, chars[position]);
            chars.insert(position, letter);
        }
        2 => chars[position] = random_letter(rng, chars[position]),
        _ => chars.swap(position - 1, position),
    }
    chars.into_iter().collect()
}

fn original(person: &Person) -> Written {
    Written {
        first: Some(person.first.clone()),
        last: Some(person.last.clone()),
        birth: Some(format_date(person, person.birth, person.date_format)),
        phone: Some(format_phone(person, person.phone_format)),
        street: Some(format_street(person, false)),
        city: Some(person.city.to_owned()),
    }
}

fn duplicate(rng: &mut ChaCha8Rng, person: &Person, config: &PersonConfig) -> Written {
    let mut first = person.first.clone();
    let mut last = person.last.clone();
    let mut birth = person.birth;
    if let Some(hard) = &config.hard {
        if let Some(short) = hard::nickname(&first)
            && rng.random_bool(hard.nickname_probability)
        {
            first = short.to_owned();
        }
        if let Some(swapped) = hard::transposed(birth)
            && rng.random_bool(hard.transposed_date_probability)
        {
            birth = swapped;
        }
    }
    if rng.random_bool(config.typo_probability) {
        first = typo(rng, &first);
    }
    if rng.random_bool(config.typo_probability) {
        last = typo(rng, &last);
    }
    if !person.characters && rng.random_bool(0.1) {
        first = first.to_uppercase();
        last = last.to_uppercase();
    }
    if rng.random_bool(config.swap_probability) {
        std::mem::swap(&mut first, &mut last);
    }
    let date_format = if rng.random_bool(0.5) {
        rng.random_range(0..4)
    } else {
        person.date_format
    };
    let phone_format = if rng.random_bool(0.5) {
        rng.random_range(0..4)
    } else {
        person.phone_format
    };
    let mut written = Written {
        first: Some(first),
        last: Some(last),
        birth: Some(format_date(person, birth, date_format)),
        phone: Some(format_phone(person, phone_format)),
        street: Some(format_street(person, rng.random_bool(0.5))),
        city: Some(person.city.to_owned()),
    };
    if rng.random_bool(config.missing_probability) {
        match rng.random_range(0..5) {
            0 => written.first = None,
            1 => written.birth = None,
            2 => written.phone = None,
            3 => written.street = None,
            _ => written.city = None,
        }
    }
    written
}

/// Appends the original record of `person` and, by chance, its duplicates, while there is
/// room for them.
fn push_entity(
    rng: &mut ChaCha8Rng,
    rows: &mut Vec<(u64, Written)>,
    entity: u64,
    person: &Person,
    config: &PersonConfig,
) {
    rows.push((entity, original(person)));
    if rng.random_bool(config.duplicate_probability) {
        let copies = rng.random_range(1..=config.max_duplicates);
        for _ in 0..copies {
            if rows.len() == config.records {
                break;
            }
            rows.push((entity, duplicate(rng, person, config)));
        }
    }
}

/// Generates `config.records` person records as one batch with [`person_schema`].
///
/// # Errors
/// [`Error::Config`] for a probability outside 0 to 1, `max_duplicates = 0`, or a setting
/// of [`PersonConfig::hard`] out of range.
pub fn generate_persons(config: &PersonConfig) -> Result<RecordBatch> {
    config.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut rows: Vec<(u64, Written)> = Vec::with_capacity(config.records);
    let mut entity = 0u64;
    while rows.len() < config.records {
        let mut person = new_person(&mut rng, config);
        let Some(hard) = &config.hard else {
            push_entity(&mut rng, &mut rows, entity, &person, config);
            entity += 1;
            continue;
        };
        hard::apply_common_names(&mut rng, &mut person, hard);
        let members = hard::household(&mut rng, &person, hard, |rng| {
            let mut member = new_person(rng, config);
            hard::apply_common_names(rng, &mut member, hard);
            member
        });
        for person in std::iter::once(&person).chain(&members) {
            if rows.len() == config.records {
                break;
            }
            push_entity(&mut rng, &mut rows, entity, person, config);
            entity += 1;
        }
    }
    rows.shuffle(&mut rng);

    let mut record_ids = StringBuilder::new();
    let mut entity_ids = UInt64Builder::with_capacity(rows.len());
    let mut columns: Vec<StringBuilder> = (0..6).map(|_| StringBuilder::new()).collect();
    for (index, (entity, written)) in rows.into_iter().enumerate() {
        record_ids.append_value(format!("p{index}"));
        entity_ids.append_value(entity);
        let values = [
            written.first,
            written.last,
            written.birth,
            written.phone,
            written.street,
            written.city,
        ];
        for (builder, value) in columns.iter_mut().zip(values) {
            builder.append_option(value);
        }
    }
    let mut arrays: Vec<ArrayRef> =
        vec![Arc::new(record_ids.finish()), Arc::new(entity_ids.finish())];
    arrays.extend(
        columns
            .iter_mut()
            .map(|builder| Arc::new(builder.finish()) as ArrayRef),
    );
    Ok(RecordBatch::try_new(person_schema(), arrays)?)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::array::{Array, AsArray};
    use arrow::datatypes::UInt64Type;

    use super::*;

    fn config(records: usize) -> PersonConfig {
        PersonConfig {
            records,
            ..PersonConfig::default()
        }
    }

    #[test]
    fn same_seed_same_records() {
        let first = generate_persons(&config(2_000)).expect("valid config");
        let second = generate_persons(&config(2_000)).expect("valid config");
        assert_eq!(first, second);
        let other = generate_persons(&PersonConfig {
            seed: 7,
            ..config(2_000)
        })
        .expect("valid config");
        assert_ne!(first, other);
    }

    #[test]
    fn duplicates_share_entity_and_differ() {
        let batch = generate_persons(&config(20_000)).expect("valid config");
        assert_eq!(batch.num_rows(), 20_000);
        let entities = batch.column(1).as_primitive::<UInt64Type>();
        let mut sizes: HashMap<u64, usize> = HashMap::new();
        for entity in entities.values() {
            *sizes.entry(*entity).or_default() += 1;
        }
        let duplicated = sizes.values().filter(|&&size| size > 1).count();
        let share = duplicated as f64 / sizes.len() as f64;
        assert!(
            (0.3..0.5).contains(&share),
            "share of people with duplicates {share}"
        );
        assert!(sizes.values().all(|&size| size <= 4));
        let phones = batch.column(5).as_string::<i32>();
        assert!(phones.null_count() > 0, "some duplicates lack a phone");
        let last = batch.column(3).as_string::<i32>();
        assert!(
            last.iter().flatten().any(|name| !name.is_ascii()),
            "Chinese characters present"
        );
        let dates = batch.column(4).as_string::<i32>();
        assert!(dates.iter().flatten().any(|date| date.contains('/')));
        assert!(dates.iter().flatten().any(|date| date.contains('-')));
    }

    /// Digest of every value of the batch, in row order.
    fn digest(batch: &RecordBatch) -> u64 {
        let mut text = String::new();
        for row in 0..batch.num_rows() {
            for column in batch.columns() {
                match column.as_string_opt::<i32>() {
                    Some(strings) if strings.is_valid(row) => text.push_str(strings.value(row)),
                    Some(_) => text.push_str("<null>"),
                    None => {
                        text.push_str(&column.as_primitive::<UInt64Type>().value(row).to_string())
                    }
                }
                text.push('\u{1f}');
            }
        }
        xxhash_rust::xxh3::xxh3_64(text.as_bytes())
    }

    #[test]
    fn easy_records_unchanged() {
        // The digest of these records before the hard cases were added, so that figures
        // measured on the easy records stay reproducible.
        let batch = generate_persons(&config(5_000)).expect("valid config");
        assert_eq!(digest(&batch), EASY_DIGEST);
    }

    const EASY_DIGEST: u64 = 4_092_722_949_500_691_677;

    fn hard(records: usize) -> PersonConfig {
        PersonConfig {
            hard: Some(HardCases::default()),
            ..config(records)
        }
    }

    /// Rows grouped by a key of string columns, over rows where every key column has a value.
    fn groups(batch: &RecordBatch, columns: &[usize]) -> HashMap<Vec<String>, Vec<usize>> {
        let mut groups: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
        'rows: for row in 0..batch.num_rows() {
            let mut key = Vec::new();
            for &column in columns {
                let values = batch.column(column).as_string::<i32>();
                if values.is_null(row) {
                    continue 'rows;
                }
                key.push(values.value(row).to_lowercase());
            }
            groups.entry(key).or_default().push(row);
        }
        groups
    }

    #[test]
    fn hard_same_seed_same_records() {
        let first = generate_persons(&hard(3_000)).expect("valid config");
        let second = generate_persons(&hard(3_000)).expect("valid config");
        assert_eq!(first.num_rows(), 3_000);
        assert_eq!(first, second);
        let easy = generate_persons(&config(3_000)).expect("valid config");
        assert_ne!(first, easy);
    }

    #[test]
    fn hard_people_share_phone_address_and_names() {
        let batch = generate_persons(&hard(20_000)).expect("valid config");
        let entities = batch.column(1).as_primitive::<UInt64Type>();
        let distinct = |rows: &[usize]| {
            let mut ids: Vec<u64> = rows.iter().map(|&row| entities.value(row)).collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        };
        // Columns: 2 first name, 3 last name, 4 date of birth, 5 phone, 6 street, 7 city.
        let shared_phone = groups(&batch, &[5])
            .values()
            .filter(|rows| distinct(rows) > 1)
            .count();
        assert!(
            shared_phone > 500,
            "{shared_phone} phones shared by distinct people"
        );
        let family = groups(&batch, &[3, 6, 7])
            .values()
            .filter(|rows| distinct(rows) > 1)
            .count();
        assert!(family > 300, "{family} family names shared at one address");
        let twins = groups(&batch, &[3, 4, 6])
            .values()
            .filter(|rows| distinct(rows) > 1)
            .count();
        assert!(twins > 10, "{twins} twins");
        let namesakes = groups(&batch, &[2, 3])
            .values()
            .filter(|rows| distinct(rows) > 1)
            .count();
        assert!(
            namesakes > 200,
            "{namesakes} names shared by distinct people"
        );
    }

    #[test]
    fn hard_duplicates_vary_names_and_dates() {
        let batch = generate_persons(&hard(20_000)).expect("valid config");
        let entities = batch.column(1).as_primitive::<UInt64Type>();
        let first = batch.column(2).as_string::<i32>();
        let dates = batch.column(4).as_string::<i32>();
        let mut by_entity: HashMap<u64, Vec<usize>> = HashMap::new();
        for row in 0..batch.num_rows() {
            by_entity.entry(entities.value(row)).or_default().push(row);
        }
        let mut nicknames = 0;
        let mut transposed = 0;
        for rows in by_entity.values() {
            for &a in rows {
                for &b in rows {
                    if first.is_valid(a)
                        && first.is_valid(b)
                        && hard::nickname(first.value(a)) == Some(first.value(b))
                    {
                        nicknames += 1;
                    }
                    // Only ISO dates are compared: 1980-03-07 against 1980-07-03.
                    let iso = |row: usize| {
                        let value = dates.is_valid(row).then(|| dates.value(row))?;
                        let parts: Vec<&str> = value.split('-').collect();
                        (parts.len() == 3).then(|| (parts[0], parts[1], parts[2]))
                    };
                    if let (Some((ya, ma, da)), Some((yb, mb, db))) = (iso(a), iso(b))
                        && ya == yb
                        && ma == db
                        && da == mb
                        && ma != da
                    {
                        transposed += 1;
                    }
                }
            }
        }
        assert!(nicknames > 50, "{nicknames} nicknames");
        assert!(transposed > 5, "{transposed} transposed dates");
    }

    #[test]
    fn invalid_hard_setting_rejected() {
        let err = generate_persons(&PersonConfig {
            hard: Some(HardCases {
                household_probability: 2.0,
                ..HardCases::default()
            }),
            ..config(10)
        })
        .expect_err("probability above 1");
        assert!(
            err.to_string().contains("hard.household_probability"),
            "{err}"
        );
        assert!(
            generate_persons(&PersonConfig {
                hard: Some(HardCases {
                    max_household_members: 0,
                    ..HardCases::default()
                }),
                ..config(10)
            })
            .is_err()
        );
    }

    #[test]
    fn invalid_config_rejected() {
        let err = generate_persons(&PersonConfig {
            typo_probability: 1.5,
            ..config(10)
        })
        .expect_err("probability above 1");
        assert!(err.to_string().contains("typo_probability"), "{err}");
        assert!(
            generate_persons(&PersonConfig {
                max_duplicates: 0,
                ..config(10)
            })
            .is_err()
        );
    }
}
