//! Dates of birth.
//!
//! Plain dates are not personal data, so a date is reported only when a birth keyword
//! (`born`, `birth`, `DOB`, `出生`, `生日`, `生于`) is next to it, before or after, in the
//! same clause: the search stops at clause punctuation (`,`, `;`, `，`, `。`, `；`, line
//! breaks) and at the neighbouring dates. Accepted forms: `1990-01-31` (also with `/` or
//! `.`), `31/01/1990` and `01/31/1990` (either order when the date is real),
//! `January 31, 1990`, `31 January 1990` (month names in full or abbreviated) and
//! `1990年1月31日`. A date is valid when it is real, not before 1880 and not in the future.

use chrono::{Datelike, NaiveDate};
use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::financial::has_one_separator_kind;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// Earliest accepted birth year: no living person was born before it.
const EARLIEST_BIRTH_YEAR: i32 = 1880;

pub(crate) const MONTHS: &str = r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";

/// Builds the pattern of the numeric and English date forms, without groups.
pub(crate) fn numeric_or_named_date() -> String {
    let numeric =
        r"[0-9]{4}[\-/.][0-9]{1,2}[\-/.][0-9]{1,2}|[0-9]{1,2}[\-/.][0-9]{1,2}[\-/.][0-9]{4}";
    let ordinal = r"(?:st|nd|rd|th)?";
    format!(
        r"{numeric}|{MONTHS}\.? [0-9]{{1,2}}{ordinal},? [0-9]{{4}}|[0-9]{{1,2}}{ordinal} {MONTHS}\.?,? [0-9]{{4}}"
    )
}

/// Builds the pattern of every accepted date form.
fn date_pattern() -> String {
    let chinese = r"[0-9]{4} ?年 ?[0-9]{1,2} ?月 ?[0-9]{1,2} ?[日号]";
    format!("{}|{chinese}", numeric_or_named_date())
}

/// Returns the month (1 to 12) named by an English word or its abbreviation.
fn month_number(word: &str) -> Option<u32> {
    let prefix = word.get(..3)?.to_ascii_lowercase();
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let index = months.iter().position(|month| *month == prefix)?;
    u32::try_from(index + 1).ok()
}

/// Returns the real dates a candidate can mean: one for most forms, two for `01/02/1990`
/// (day first and month first).
pub(crate) fn possible_dates(candidate: &str) -> Vec<NaiveDate> {
    let numbers: Vec<&str> = candidate
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| !run.is_empty())
        .collect();
    let month_word = candidate
        .split(|c: char| !c.is_ascii_alphabetic())
        .find_map(month_number);
    let value = |text: &str| text.parse::<u32>().ok();
    let mut dates = Vec::new();
    let mut push = |year: Option<u32>, month: Option<u32>, day: Option<u32>| {
        let year = year.and_then(|y| i32::try_from(y).ok());
        if let (Some(year), Some(month), Some(day)) = (year, month, day)
            && let Some(date) = NaiveDate::from_ymd_opt(year, month, day)
        {
            dates.push(date);
        }
    };
    match (month_word, numbers.as_slice()) {
        (Some(month), [day, year]) => push(value(year), Some(month), value(day)),
        (None, [first, second, third]) if first.len() == 4 => {
            push(value(first), value(second), value(third));
        }
        (None, [first, second, year]) => {
            push(value(year), value(second), value(first));
            push(value(year), value(first), value(second));
        }
        _ => {}
    }
    dates
}

/// Returns true when a candidate is a real date from [`EARLIEST_BIRTH_YEAR`] to `today`.
pub(crate) fn is_birth_date(candidate: &str, today: NaiveDate) -> bool {
    let numeric = !candidate.chars().any(|c| c.is_alphabetic());
    if numeric && !has_one_separator_kind(candidate) {
        return false;
    }
    possible_dates(candidate)
        .iter()
        .any(|date| date.year() >= EARLIEST_BIRTH_YEAR && *date <= today)
}

/// Recognizes dates of birth: valid dates with a birth keyword in the same clause.
#[derive(Debug)]
pub(crate) struct BirthDateRecognizer {
    pattern: Regex,
}

impl BirthDateRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(BirthDateRecognizer {
            pattern: compile(&date_pattern())?,
        })
    }
}

impl Recognizer for BirthDateRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::DateOfBirth
    }

    fn name(&self) -> &'static str {
        "date_of_birth"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn requires_context(&self) -> bool {
        true
    }

    fn validate(&self, candidate: &str, today: &Today) -> Option<ConfidenceTier> {
        is_birth_date(candidate, today.get()).then_some(ConfidenceTier::Validated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).expect("date")
    }

    #[test]
    fn common_forms_parse() {
        for text in [
            "1990-01-31",
            "1990/1/31",
            "31/01/1990",
            "01/31/1990",
            "31.01.1990",
            "January 31, 1990",
            "Jan. 31, 1990",
            "31 January 1990",
            "31st Jan 1990",
            "1990年1月31日",
        ] {
            assert!(is_birth_date(text, today()), "{text}");
        }
    }

    #[test]
    fn impossible_and_future_dates_fail() {
        for text in [
            "1990-02-30",
            "31/31/1990",
            "2030-01-01",
            "1850-01-01",
            "1990-01/31",
        ] {
            assert!(!is_birth_date(text, today()), "{text}");
        }
    }

    #[test]
    fn pattern_finds_each_form() {
        let pattern = Regex::new(&date_pattern()).expect("pattern");
        assert!(pattern.is_match("born on March 3rd, 1985"));
        assert!(pattern.is_match("生于1985年3月3日"));
    }
}
