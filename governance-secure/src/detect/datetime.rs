//! Dates and times in common English and numeric forms.
//!
//! Accepted forms:
//! - calendar dates: `2024-03-01` (also with `/` or `.`), `01/03/2024`, `1 March 2024`,
//!   `March 1st, 2024` (the forms of dates of birth, see the `date` module), and ISO 8601
//!   date-times such as `2024-03-01T09:30` or `2024-03-01 09:30:15`;
//! - a month and year (`March 2024`, `Mar. 2024`) and a day and month (`March 1st`,
//!   `1 March`);
//! - times of day: `9:30`, `09:30:15`, `9:30 pm`, `9 a.m.` (but not `21h30`);
//! - a year from 1900 to 2099 after a time preposition (`in 1998`, `during 2014`, `since
//!   2001`, `until 2030`, `by 2020`): the finding covers the year alone.
//!
//! Calendar dates are validated (a real date, any year from 1000 to 2999). Times need hours
//! 0 to 23 (1 to 12 with am or pm) and minutes and seconds 0 to 59. The other forms are
//! reported as pattern only.

use std::ops::Range;

use chrono::NaiveDate;
use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::date::{MONTHS, numeric_or_named_date, possible_dates};
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile, value_group};

/// Builds the pattern of every accepted form. Named groups: `date` and `time` for a calendar
/// date with an optional time, `clock` for a time alone, `year` for a year after a
/// preposition. Month and day forms have no group.
fn date_time_pattern() -> String {
    let date = numeric_or_named_date();
    let time = r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?: ?(?i-u:[ap]\.?m\.?))?";
    let hour_only = r"[0-9]{1,2} ?(?i-u:[ap]\.m\.|[ap]m)";
    let ordinal = r"(?:st|nd|rd|th)?";
    let prepositions = r"(?i-u:in|during|since|until|till|by|from|before|after|circa|around)";
    format!(
        r"(?P<date>{date})(?:[T ](?P<time>{time}))?|(?P<clock>{time}|{hour_only})|{prepositions} (?P<year>(?:19|20)[0-9]{{2}})|{MONTHS}\.? (?:[0-9]{{4}}|[0-9]{{1,2}}{ordinal})|[0-9]{{1,2}}{ordinal} {MONTHS}"
    )
}

/// Returns true when `text` is a valid time of day: `H:MM`, `H:MM:SS`, with an optional am
/// or pm, or an hour with am or pm.
fn is_time(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let meridiem = lower.contains('m');
    let numbers: Vec<u32> = lower
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| !run.is_empty())
        .filter_map(|run| run.parse().ok())
        .collect();
    let Some((&hour, rest)) = numbers.split_first() else {
        return false;
    };
    let hour_ok = if meridiem {
        (1..=12).contains(&hour)
    } else {
        hour <= 23
    };
    if !meridiem && rest.is_empty() {
        return false;
    }
    hour_ok && rest.len() <= 2 && rest.iter().all(|&part| part <= 59)
}

/// Returns true when a calendar date candidate names a real date from year 1000 to 2999.
fn is_calendar_date(text: &str) -> bool {
    possible_dates(text).iter().any(|date| {
        let first = NaiveDate::from_ymd_opt(1000, 1, 1);
        let last = NaiveDate::from_ymd_opt(2999, 12, 31);
        first.is_some_and(|first| *date >= first) && last.is_some_and(|last| *date <= last)
    })
}

/// Recognizes dates, times and years after a time preposition.
#[derive(Debug)]
pub(crate) struct DateTimeRecognizer {
    pattern: Regex,
}

impl DateTimeRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(DateTimeRecognizer {
            pattern: compile(&date_time_pattern())?,
        })
    }
}

impl Recognizer for DateTimeRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::DateTime
    }

    fn name(&self) -> &'static str {
        "date_time"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        let captures = self.pattern.captures(candidate)?;
        if let Some(date) = captures.name("date") {
            if !is_calendar_date(date.as_str()) {
                return None;
            }
            if let Some(time) = captures.name("time")
                && !is_time(time.as_str())
            {
                return None;
            }
            return Some(ConfidenceTier::Validated);
        }
        if let Some(clock) = captures.name("clock") {
            return is_time(clock.as_str()).then_some(ConfidenceTier::PatternOnly);
        }
        if captures.name("year").is_some() {
            return Some(ConfidenceTier::PatternOnly);
        }
        // A month with a day or a year: the day must exist in some month.
        let day_ok = candidate
            .split(|c: char| !c.is_ascii_digit())
            .filter(|run| run.len() <= 2 && !run.is_empty())
            .all(|run| run.parse::<u32>().is_ok_and(|day| (1..=31).contains(&day)));
        day_ok.then_some(ConfidenceTier::PatternOnly)
    }

    fn value_range(&self, candidate: &str) -> Range<usize> {
        value_group(&self.pattern, candidate, &["year"])
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::{PiiKind, found_texts};

    fn dates(text: &str) -> Vec<String> {
        found_texts(PiiKind::DateTime, text)
    }

    #[test]
    fn calendar_dates_and_times_are_found() {
        assert_eq!(dates("Filed on 2024-03-01."), ["2024-03-01"]);
        assert_eq!(dates("at 2024-03-01T09:30 sharp"), ["2024-03-01T09:30"]);
        assert_eq!(dates("Due 12/31/2024"), ["12/31/2024"]);
        assert_eq!(dates("on March 3rd, 2021"), ["March 3rd, 2021"]);
        assert_eq!(dates("on 3 March 2021"), ["3 March 2021"]);
        assert_eq!(dates("opened in March 2021"), ["March 2021"]);
        assert_eq!(dates("see you on June 5th"), ["June 5th"]);
        assert_eq!(dates("meet at 9:30 pm"), ["9:30 pm"]);
        assert_eq!(dates("meet at 9am"), ["9am"]);
        assert_eq!(dates("the shift ends 17:45."), ["17:45"]);
    }

    #[test]
    fn years_after_prepositions_cover_the_year() {
        assert_eq!(dates("It was founded in 1998."), ["1998"]);
        assert_eq!(dates("During 2014, sales rose."), ["2014"]);
        assert_eq!(dates("open since 2001"), ["2001"]);
    }

    #[test]
    fn other_numbers_are_not_dates() {
        assert!(dates("2024-02-30").is_empty());
        assert!(dates("score 25:99").is_empty());
        assert!(dates("room 1998").is_empty());
        assert!(dates("in 3000 cases").is_empty());
        assert!(dates("in 1850 units").is_empty());
        assert!(dates("the maybe mark").is_empty());
        assert!(dates("13 pm").is_empty());
        assert!(dates("version 1.2.3").is_empty());
    }
}
