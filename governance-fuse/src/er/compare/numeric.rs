//! Numeric and date similarities, with the parsers that read numbers and dates out of text.

use chrono::{Datelike, NaiveDate};

/// Reads the first number in `value`, ignoring currency signs and thousands separators:
/// `"$1,299.99"` gives 1299.99 and `"approx. -3.5 kg"` gives -3.5. `None` without a digit.
pub fn parse_number(value: &str) -> Option<f64> {
    let characters: Vec<char> = value.chars().collect();
    let start = characters.iter().position(char::is_ascii_digit)?;
    let negative = start > 0 && characters[start - 1] == '-';
    let mut text = String::new();
    let mut seen_point = false;
    for (index, &character) in characters[start..].iter().enumerate() {
        let next_is_digit = characters
            .get(start + index + 1)
            .is_some_and(char::is_ascii_digit);
        match character {
            '0'..='9' => text.push(character),
            ',' if next_is_digit => {}
            '.' if !seen_point && next_is_digit => {
                seen_point = true;
                text.push('.');
            }
            _ => break,
        }
    }
    let number: f64 = text.parse().ok()?;
    Some(if negative { -number } else { number })
}

/// `max(0, 1 - |a - b| / scale)`: 1 for equal numbers, 0 at a difference of `scale` or more.
pub fn absolute_similarity(left: f64, right: f64, scale: f64) -> f64 {
    if scale <= 0.0 {
        return if left == right { 1.0 } else { 0.0 };
    }
    (1.0 - (left - right).abs() / scale).clamp(0.0, 1.0)
}

/// `1 - |a - b| / max(|a|, |b|)`: the ratio of the smaller to the larger for two positive
/// numbers; 1 when both are 0, and 0 for numbers of opposite sign.
pub fn relative_similarity(left: f64, right: f64) -> f64 {
    let largest = left.abs().max(right.abs());
    if largest == 0.0 {
        return 1.0;
    }
    (1.0 - (left - right).abs() / largest).clamp(0.0, 1.0)
}

/// Reads a date as days since 1970-01-01.
///
/// Accepted forms: `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`, `YYYYMMDD`, `DD.MM.YYYY`,
/// `YYYY-MM` (the first of the month) and a bare year `YYYY` (1 January), each optionally
/// followed by a time after a space or `T`, which is ignored.
pub fn parse_date(value: &str) -> Option<i64> {
    let date_part = value.trim().split([' ', 'T']).next()?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    if let Some(date) = parse_calendar_date(value) {
        return Some((date - epoch).num_days());
    }
    let month = NaiveDate::parse_from_str(&format!("{date_part}-01"), "%Y-%m-%d").ok();
    if date_part.len() == 7
        && let Some(date) = month
    {
        return Some((date - epoch).num_days());
    }
    if date_part.len() == 4
        && date_part
            .chars()
            .all(|character| character.is_ascii_digit())
    {
        let year: i32 = date_part.parse().ok()?;
        return Some((NaiveDate::from_ymd_opt(year, 1, 1)? - epoch).num_days());
    }
    None
}

/// Reads a full calendar date: `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`, `YYYYMMDD` or
/// `DD.MM.YYYY`, each optionally followed by a time after a space or `T`, which is ignored.
/// Unlike [`parse_date`], a month or a bare year gives `None`.
pub fn parse_calendar_date(value: &str) -> Option<NaiveDate> {
    let date_part = value.trim().split([' ', 'T']).next()?;
    let formats = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%d.%m.%Y"];
    formats
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(date_part, format).ok())
}

/// Returns whether two values are one date with day and month written in each other's place:
/// the same year, the day of each the month of the other, and day and month not equal
/// (2001-03-04 and 2001-04-03, but not 2001-03-03 twice). Both must read as full dates
/// ([`parse_calendar_date`]).
pub fn day_month_swapped(left: &str, right: &str) -> bool {
    // Swapping day and month keeps the same digits in any of the formats read, so values
    // whose digit sums differ are rejected before the slower parsing.
    let digit_sum = |value: &str| -> u32 {
        value
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|digit| u32::from(digit - b'0'))
            .sum()
    };
    if digit_sum(left) != digit_sum(right) {
        return false;
    }
    let (Some(a), Some(b)) = (parse_calendar_date(left), parse_calendar_date(right)) else {
        return false;
    };
    a.year() == b.year() && a.day() == b.month() && a.month() == b.day() && a.day() != a.month()
}

/// `max(0, 1 - |days apart| / scale_days)` for two dates given as days.
pub fn date_similarity(left_days: i64, right_days: i64, scale_days: f64) -> f64 {
    absolute_similarity(left_days as f64, right_days as f64, scale_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_number_reads_prices() {
        assert_eq!(parse_number("$1,299.99"), Some(1299.99));
        assert_eq!(parse_number("approx. -3.5 kg"), Some(-3.5));
        assert_eq!(parse_number("129.95"), Some(129.95));
        assert_eq!(parse_number("v2."), Some(2.0));
        assert_eq!(parse_number("none"), None);
    }

    #[test]
    fn numeric_similarities_known_values() {
        assert_eq!(absolute_similarity(10.0, 12.0, 4.0), 0.5);
        assert_eq!(absolute_similarity(10.0, 20.0, 4.0), 0.0);
        assert_eq!(relative_similarity(50.0, 100.0), 0.5);
        assert_eq!(relative_similarity(0.0, 0.0), 1.0);
        assert_eq!(relative_similarity(-1.0, 1.0), 0.0);
    }

    #[test]
    fn parse_date_forms() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("1970/01/11 08:00"), Some(10));
        assert_eq!(parse_date("02.01.1970"), Some(1));
        assert_eq!(parse_date("1970-02"), Some(31));
        assert_eq!(parse_date("1971"), Some(365));
        assert_eq!(parse_date("2001-02-30"), None);
        assert_eq!(parse_date("soon"), None);
    }

    #[test]
    fn day_month_swapped_cases() {
        assert!(day_month_swapped("2001-03-04", "2001-04-03"));
        assert!(day_month_swapped("2001-03-12", "2001-12-03"));
        assert!(day_month_swapped("20010312", "2001-12-03"));
        assert!(!day_month_swapped("2001-03-03", "2001-03-03"));
        assert!(!day_month_swapped("2001-03-04", "2001-03-04"));
        assert!(!day_month_swapped("2001-03-04", "2002-04-03"));
        assert!(!day_month_swapped("2001-03-04", "2001-04-05"));
        assert!(!day_month_swapped("2001-03-25", "2001-12-03"));
        assert!(!day_month_swapped("2001-03", "2001-03-01"));
        assert!(!day_month_swapped("soon", "noos"));
    }

    #[test]
    fn parse_calendar_date_needs_a_day() {
        assert_eq!(
            parse_calendar_date("1970-01-02"),
            NaiveDate::from_ymd_opt(1970, 1, 2)
        );
        assert_eq!(
            parse_calendar_date("02.01.1970 08:00"),
            NaiveDate::from_ymd_opt(1970, 1, 2)
        );
        assert_eq!(parse_calendar_date("1970-02"), None);
        assert_eq!(parse_calendar_date("1971"), None);
    }

    #[test]
    fn date_similarity_scales_by_days() {
        assert_eq!(date_similarity(0, 15, 30.0), 0.5);
        assert_eq!(date_similarity(0, 400, 365.0), 0.0);
    }
}
