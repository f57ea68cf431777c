//! Persons' names found by the words right before them, where the token tagger found
//! nothing. A capitalised word (any word, in a text written all in lower case) is a name
//! when it follows:
//!
//! - an honorific (`Mr.`, `Dr`, `Frau`), unless the honorific follows a capitalised word,
//!   as the street suffix `Dr` does (`Ashgrove Dr`);
//! - a greeting (`Hi`, `Dear`, `Thanks`);
//! - a naming phrase (`name is`, `name:`, `name?`, `call me`, `calls me`, `called`);
//! - a verb of speech (`said`, `asked`, `replied`, `told`);
//! - `the`, when a creative work follows it (`the Brandvik novel`), which names its author.
//!
//! Only the first word is taken here. The name rules that run next continue a name over the
//! capitalised words after it.

use governance_core::Result;
use governance_llm::tagger::{EntityLabel, EntitySpan};
use regex::Regex;

use super::compile;
use super::tagged_names::{is_function_word, is_name_word};

/// Score of a name found by a cue, below the model's typical score for a confident tag,
/// because a cue is weaker evidence than the model's.
const CUE_SCORE: f32 = 0.6;

/// Cue phrases, each with the group `name` for the word after it. `{NAME}` stands for the
/// pattern of a name word.
const CUE_PATTERNS: &[&str] = &[
    r"\b(?:Mrs|Mr|Ms|Mx|Dr|Prof|Miss|Sir|Dame|Herr|Frau|Mme|Mlle)\.? (?P<name>{NAME})",
    r"\b(?i:hi|hello|hey|dear|thanks|thank you|bye|goodbye|welcome|congratulations),? (?P<name>{NAME})",
    r"\b(?i:name(?:'s| is|:|\?)|call me|calls me|called)[ \t]+(?P<name>{NAME})",
    r"\b(?i:said|asked|replied|answered|wrote|added|whispered|shouted|exclaimed|told) (?P<name>{NAME})",
    r"\b(?i:the) (?P<name>{NAME}) (?i:novels?|books?|poems?|plays?|films?|movies?|songs?|albums?|paintings?|operas?|symphony|symphonies|biography|memoirs?|essays?|stories|story|portraits?|sculptures?)\b",
];

/// A name word in cased text.
const CAPITALISED_NAME: &str = r"\p{Lu}[\p{L}'’-]*";

/// A name word in a text written all in lower case.
const ANY_NAME: &str = r"\p{L}[\p{L}'’-]*";

/// Finds names after cue phrases.
#[derive(Debug)]
pub(crate) struct NameCues {
    /// One pattern per cue, for cased text.
    cased: Vec<Regex>,
    /// The same cues for text without capitals.
    caseless: Vec<Regex>,
}

impl NameCues {
    pub(crate) fn new() -> Result<Self> {
        let build = |name: &str| -> Result<Vec<Regex>> {
            CUE_PATTERNS
                .iter()
                .map(|pattern| compile(&pattern.replace("{NAME}", name)))
                .collect()
        };
        Ok(NameCues {
            cased: build(CAPITALISED_NAME)?,
            caseless: build(ANY_NAME)?,
        })
    }

    /// Returns `spans` with a person added for each cued name that no span overlaps, ordered
    /// by start.
    pub(crate) fn add_persons(&self, text: &str, mut spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
        let caseless = !text.chars().any(char::is_uppercase);
        let patterns = if caseless {
            &self.caseless
        } else {
            &self.cased
        };
        let mut added = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            for captures in pattern.captures_iter(text) {
                let (Some(whole), Some(name)) = (captures.get(0), captures.name("name")) else {
                    continue;
                };
                let word = name.as_str();
                let is_name = if caseless {
                    !is_function_word(word)
                } else {
                    is_name_word(word)
                };
                let is_honorific = index == 0;
                let glued = text[name.end()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric);
                if !is_name
                    || glued
                    || is_honorific && follows_capitalised_word(text, whole.start())
                {
                    continue;
                }
                let range = name.range();
                let taken = spans
                    .iter()
                    .chain(&added)
                    .any(|span| span.start < range.end && range.start < span.end);
                if !taken {
                    added.push(EntitySpan {
                        start: range.start,
                        end: range.end,
                        label: EntityLabel::Person,
                        score: CUE_SCORE,
                        tokens: Vec::new(),
                    });
                }
            }
        }
        spans.extend(added);
        spans.sort_by_key(|span| span.start);
        spans
    }
}

/// Returns true when a capitalised word that does not open its sentence ends right before
/// `at`, one space apart.
fn follows_capitalised_word(text: &str, at: usize) -> bool {
    let Some(before) = text[..at].strip_suffix(' ') else {
        return false;
    };
    let word_start = before
        .rfind(|c: char| !c.is_alphanumeric())
        .map_or(0, |index| {
            index + before[index..].chars().next().map_or(1, char::len_utf8)
        });
    let word = &before[word_start..];
    let capitalised = word.chars().next().is_some_and(char::is_uppercase);
    let opens_sentence = before[..word_start]
        .trim_end()
        .chars()
        .next_back()
        .is_none_or(|c| matches!(c, '.' | '!' | '?' | '\n' | ':' | '>'));
    capitalised && !opens_sentence
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cued(text: &str) -> Vec<String> {
        let cues = NameCues::new().expect("cues");
        cues.add_persons(text, Vec::new())
            .into_iter()
            .map(|span| text[span.range()].to_string())
            .collect()
    }

    #[test]
    fn honorific_cues_name() {
        assert_eq!(cued("Dr. Fennimore is 50."), ["Fennimore"]);
        assert_eq!(cued("Ask Mrs Quist today"), ["Quist"]);
    }

    #[test]
    fn street_suffix_is_no_honorific() {
        assert!(cued("Ship to 4 Ashgrove Dr Lowvale Heights").is_empty());
    }

    #[test]
    fn greeting_and_speech_cue_names() {
        assert_eq!(cued("Hi Torvald, how are you?"), ["Torvald"]);
        assert_eq!(cued("Wow! said Ilsabet to me"), ["Ilsabet"]);
        assert!(cued("Hi There, said The man").is_empty());
    }

    #[test]
    fn naming_phrase_cues_name() {
        assert_eq!(cued("What's your last name? Quarry"), ["Quarry"]);
        assert_eq!(cued("everyone calls me brisa now"), ["brisa"]);
        assert!(cued("my name is not here").is_empty());
    }

    #[test]
    fn creative_work_cues_author() {
        assert_eq!(
            cued("Unlike the Brandvik novel, it is short."),
            ["Brandvik"]
        );
        assert!(cued("Unlike the novel, it is short.").is_empty());
    }

    #[test]
    fn tagged_name_is_not_added_twice() {
        let cues = NameCues::new().expect("cues");
        let text = "Hi Torvald";
        let spans = vec![EntitySpan {
            start: 3,
            end: 10,
            label: EntityLabel::Person,
            score: 0.9,
            tokens: Vec::new(),
        }];
        assert_eq!(cues.add_persons(text, spans).len(), 1);
    }
}
