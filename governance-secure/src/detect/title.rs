//! Honorifics and job titles in English text.
//!
//! An honorific (`Mr.`, `Dr`, `Prof.`) is reported when a capitalised word follows it. `Dr`
//! and `Dr.` are also street suffixes (`Marrowfield Dr`), so they are skipped after a
//! capitalised word that does not open the sentence.
//!
//! A job title is a phrase of at most three modifiers and a head noun from [`JOB_HEADS`] or
//! with an occupation ending (`-grapher`, `-ologist`, `-ician`). It is reported only where
//! a title is expected:
//!
//! - on a line of its own, as in a letter or e-mail signature;
//! - after `as`, `as a` or `as an` (`worked as a dairy scientist`);
//! - between commas after `the`, `a` or `an` (`Ann Lee, the site engineer, said`);
//! - after a label such as `Title:`, `Position:` or `Occupation:`.
//!
//! The finding covers the honorific or the phrase alone.
//!
//! NOTE: a head noun that is also an ordinary word (`cleaner`, `driver`, `singer`) in one of
//! these places is reported even when it names no job.

use std::ops::Range;

use governance_core::Result;
use regex::Regex;

use super::compile;

/// Honorifics written before a name, with or without a trailing dot.
const HONORIFIC_PATTERN: &str =
    r"\b(?:Mrs|Mr|Ms|Mx|Dr|Prof|Rev|Hon|Sr|Sra|Mme|Mlle|Miss|Sir|Dame|Herr|Frau)\b\.?";

/// Phrases after which a job title is expected, in lower case.
const LEAD_PATTERN: &str = r"(?i)\b(?:as an?|as|(?:job )?title:|position:|occupation:|profession:|role:|job:)[ \t]+|,[ \t]+(?:the|an?)[ \t]+";

/// Head nouns of job titles, in lower case.
#[rustfmt::skip]
const JOB_HEADS: &[&str] = &[
    "accountant", "actor", "actress", "adviser", "advisor", "agent", "analyst", "architect",
    "artist", "assistant", "associate", "attendant", "auditor", "baker", "banker", "barber",
    "bartender", "broker", "builder", "butcher", "buyer", "captain", "carpenter", "cashier",
    "chef", "chemist", "clerk", "coach", "collector", "consultant", "controller", "cook",
    "coordinator", "counsellor", "counselor", "courier", "curator", "dancer", "dentist",
    "designer", "detective", "developer", "director", "dispatcher", "doctor", "driver",
    "economist", "editor", "educator", "electrician", "engineer", "examiner", "executive",
    "farmer", "firefighter", "fitter", "gardener", "geologist", "guard", "hairdresser",
    "handler", "head", "host", "hygienist", "inspector", "installer", "instructor",
    "interpreter", "investigator", "janitor", "journalist", "judge", "labourer", "laborer",
    "lawyer", "lecturer", "librarian", "lifeguard", "machinist", "maker", "manager",
    "mechanic", "midwife", "miner", "musician", "nurse", "officer", "operator", "optician",
    "painter", "paralegal", "paramedic", "pharmacist", "physician", "physicist", "pilot",
    "planner", "plumber", "poet", "porter", "president", "producer", "professor",
    "programmer", "psychologist", "receptionist", "recruiter", "reporter", "representative",
    "researcher", "scientist", "secretary", "singer", "sociologist", "solicitor",
    "specialist", "statistician", "supervisor", "surgeon", "surveyor", "tailor", "teacher",
    "technician", "technologist", "therapist", "trader", "trainer", "translator", "tutor",
    "underwriter", "veterinarian", "waiter", "waitress", "welder", "worker", "writer",
    "cleaner", "packer", "sorter", "loader", "mover", "chairman", "chairwoman",
    "chair", "treasurer", "administrator", "estimator", "valuer", "conservator", "warden",
];

/// Endings of occupation nouns that are not in [`JOB_HEADS`] (`cartographer`, `cardiologist`).
const JOB_ENDINGS: &[&str] = &[
    "grapher",
    "ologist",
    "ician",
    "iatrist",
    "ographer",
    "therapist",
];

/// Words that end a title's modifiers: articles, prepositions, conjunctions and pronouns.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "as", "of", "to", "and", "or", "at", "for", "in", "on", "with", "by",
    "from", "my", "his", "her", "their", "our", "your", "its", "this", "that", "is", "was",
    "be", "been", "but", "who", "which", "i", "he", "she", "we", "they", "you", "it",
];

/// Maximum number of modifiers before a head noun (two in `passenger booking clerk`).
const MAX_MODIFIERS: usize = 3;

/// Finds honorifics and job titles in `text`; see the module docs.
#[derive(Debug)]
pub(crate) struct TitleFinder {
    honorific: Regex,
    lead: Regex,
}

impl TitleFinder {
    pub(crate) fn new() -> Result<Self> {
        Ok(TitleFinder {
            honorific: compile(HONORIFIC_PATTERN)?,
            lead: compile(LEAD_PATTERN)?,
        })
    }

    /// Returns the byte ranges of the honorifics and job titles of `text`, ordered by start
    /// and not overlapping.
    pub(crate) fn find(&self, text: &str) -> Vec<Range<usize>> {
        let mut spans = self.honorifics(text);
        spans.extend(self.titles_after_leads(text));
        spans.extend(titles_on_own_lines(text));
        spans.sort_by_key(|span| (span.start, std::cmp::Reverse(span.end)));
        let mut kept: Vec<Range<usize>> = Vec::with_capacity(spans.len());
        for span in spans {
            if kept.last().is_none_or(|last| span.start >= last.end) {
                kept.push(span);
            }
        }
        kept
    }

    fn honorifics(&self, text: &str) -> Vec<Range<usize>> {
        self.honorific
            .find_iter(text)
            .filter(|found| {
                let after = &text[found.end()..];
                let name = after.trim_start_matches([' ', '\t']);
                let spaced = name.len() < after.len();
                spaced
                    && name.chars().next().is_some_and(char::is_uppercase)
                    && !(found.as_str().starts_with("Dr")
                        && follows_inner_capital(text, found.start()))
            })
            .map(|found| found.range())
            .collect()
    }

    fn titles_after_leads(&self, text: &str) -> Vec<Range<usize>> {
        let mut spans = Vec::new();
        for lead in self.lead.find_iter(text) {
            let appositive = lead.as_str().starts_with(',');
            let Some(span) = title_at(text, lead.end()) else {
                continue;
            };
            // An appositive title is closed by a comma or the end of the sentence.
            if appositive {
                let rest = text[span.end..].trim_start_matches([' ', '\t']);
                if !(rest.is_empty() || rest.starts_with([',', '.', ';', '\n'])) {
                    continue;
                }
            }
            spans.push(span);
        }
        spans
    }
}

/// Returns the words of `text` from byte `from`, each as its byte range, up to the first
/// character that is neither a letter, a hyphen, a space nor a tab.
fn words_from(text: &str, from: usize) -> Vec<Range<usize>> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    for (offset, c) in text[from..].char_indices() {
        let index = from + offset;
        if c.is_alphabetic() || (c == '-' && start.is_some()) {
            start.get_or_insert(index);
            continue;
        }
        if let Some(begin) = start.take() {
            words.push(begin..index);
        }
        if !(c == ' ' || c == '\t') {
            return words;
        }
    }
    if let Some(begin) = start {
        words.push(begin..text.len());
    }
    words
}

/// Returns the job title that starts at byte `from`: up to [`MAX_MODIFIERS`] words and a
/// head noun, the longest such phrase.
fn title_at(text: &str, from: usize) -> Option<Range<usize>> {
    let words = words_from(text, from);
    let mut found = None;
    for word in words.iter().take(MAX_MODIFIERS + 1) {
        let lower = text[word.clone()].to_lowercase();
        if STOP_WORDS.contains(&lower.as_str()) {
            break;
        }
        if is_job_head(&lower) {
            found = Some(words[0].start..word.end);
        }
    }
    found
}

fn is_job_head(lower: &str) -> bool {
    let last = lower.rsplit('-').next().unwrap_or(lower);
    JOB_HEADS.contains(&last)
        || JOB_ENDINGS
            .iter()
            .any(|ending| last.len() > ending.len() + 2 && last.ends_with(ending))
}

/// Returns the job titles that fill a line on their own (`>` quote marks and spaces
/// around them allowed).
fn titles_on_own_lines(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut line_start = 0;
    for line in text.split('\n') {
        let leading = line.len() - line.trim_start_matches([' ', '\t', '>']).len();
        let body = line.trim_matches([' ', '\t', '>', '\r']);
        let start = line_start + leading;
        line_start += line.len() + 1;
        if body.is_empty() || !text[start..].starts_with(body) {
            continue;
        }
        if let Some(span) = title_at(text, start)
            && span.end == start + body.len()
        {
            spans.push(span);
        }
    }
    spans
}

/// Returns true when the word before byte `index` on its line starts with a capital letter
/// and does not open the sentence (`Marrowfield` in `12 Marrowfield Dr`).
fn follows_inner_capital(text: &str, index: usize) -> bool {
    let before = text[..index].trim_end_matches([' ', '\t']);
    let word_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_alphabetic())
        .map_or(0, |(offset, c)| offset + c.len_utf8());
    let word = &before[word_start..];
    if !word.chars().next().is_some_and(char::is_uppercase) {
        return false;
    }
    let earlier = before[..word_start].trim_end_matches([' ', '\t']);
    !(earlier.is_empty() || earlier.ends_with(['.', '!', '?', '\n', ':', '>', '"']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Detector, DetectorConfig, PiiKind, found_texts};

    fn found(text: &str) -> Vec<String> {
        let finder = TitleFinder::new().expect("finder");
        finder
            .find(text)
            .into_iter()
            .map(|span| text[span].to_string())
            .collect()
    }

    #[test]
    fn honorific_before_name() {
        assert_eq!(found("Mr. Okafor is 40."), ["Mr."]);
        assert_eq!(found("Ask Dr Lind and Prof. Varga"), ["Dr", "Prof."]);
        assert_eq!(found("Dear Ms Ng,"), ["Ms"]);
    }

    #[test]
    fn honorific_needs_capitalised_name() {
        assert!(found("Mr. and the others").is_empty());
        assert!(found("Mrs").is_empty());
    }

    #[test]
    fn street_suffix_dr_is_skipped() {
        assert!(found("Send it to 12 Marrowfield Dr Apt 4").is_empty());
        assert_eq!(found("Contact Dr. Ames today"), ["Dr."]);
    }

    #[test]
    fn title_after_as() {
        assert_eq!(
            found("She worked at the depot as a forklift truck operator until May."),
            ["forklift truck operator"]
        );
        assert_eq!(found("hired as Radiographer, then left"), ["Radiographer"]);
    }

    #[test]
    fn appositive_title_between_commas() {
        assert_eq!(
            found("Ann Lee, the senior site engineer, said it was fine."),
            ["senior site engineer"]
        );
        assert!(found("Ann Lee, the engineer who came, said it was fine.").is_empty());
    }

    #[test]
    fn title_on_its_own_line() {
        let text = "Omar Haddad\nChief data officer\nNorthgate Labs";
        assert_eq!(found(text), ["Chief data officer"]);
        assert!(found("Northgate Labs\nOmar Haddad").is_empty());
    }

    #[test]
    fn occupation_ending_is_a_head() {
        assert_eq!(found("Title: Cartographer"), ["Cartographer"]);
    }

    #[test]
    fn detector_reports_titles_when_asked() {
        let text = "Dr. Okafor worked as a site engineer.";
        assert_eq!(found_texts(PiiKind::Title, text), ["Dr.", "site engineer"]);
        let detector = Detector::new(DetectorConfig::default()).expect("detector");
        assert!(
            detector
                .detect(text)
                .iter()
                .all(|finding| finding.kind != PiiKind::Title)
        );
    }

    #[test]
    fn ordinary_words_after_as_are_ignored() {
        assert!(found("as soon as possible").is_empty());
        assert!(found("as a result of the storm").is_empty());
        assert!(found("such as the bus lane").is_empty());
    }
}
