//! Rules on the token tagger's name spans, run after the address rules of
//! [`super::tagged`]. The tagger labels token by token and often takes one word of a name
//! for the whole (`Ottilie` of `Ottilie Marchetti`, `Solutions` of a firm's name), or a firm
//! named after its partners for several persons. These rules run in order:
//!
//! 1. A word that opens its line and is followed by a colon (`Mobile:`) is a field label, and
//!    a span of that word alone is dropped.
//! 2. A list of single words `A, B and C` that the tagger marked in part becomes persons,
//!    one per item, when its items are listed given names or a colon or a count introduces
//!    it. Otherwise a list of three items becomes one organisation, because firms of
//!    partners are named that way. [`super::name_lists`] gives the exact conditions.
//! 3. A span followed by a capitalised `And` or by `&` and a capitalised word
//!    (`Quarry And Finch`) goes on over that word: `And` is capitalised only inside a
//!    title-cased name, and `&` mostly joins the words of a firm's name.
//! 4. A span of one or two words followed on its line by one or two capitalised words in
//!    brackets (`Frankfurt (Oder)`) takes the brackets in, because the bracketed words
//!    qualify a place name. A one-word person followed by one bracketed word becomes a place.
//! 5. A person's name goes on over the capitalised words and initials right after it, one
//!    space apart, up to four words in all, because a given name is followed by the family
//!    name. An organisation goes back over the capitalised words right before it, because
//!    the tagger often marks only the generic last word of a firm's name (`Solutions`).
//!    Function words and pronouns (`The`, `He`) are not taken.
//! 6. A line of two to four capitalised words (a line of a signature or a letter head) that
//!    contains a person or an organisation and no place is that entity whole.
//! 7. An address followed on its line by `, ` and a place or address goes on over it, because
//!    the town and country written after a street belong to the address.

use std::ops::Range;

use governance_llm::tagger::{EntityLabel, EntitySpan};

use super::name_lists;

/// Capitalised words that open sentences and headings but are not names, in lower case.
#[rustfmt::skip]
const NOT_NAME_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "nor", "so", "yet", "if", "then", "than", "as",
    "at", "by", "for", "from", "in", "into", "of", "on", "onto", "to", "with", "without",
    "about", "after", "before", "over", "under", "via", "per",
    "i", "he", "she", "it", "we", "you", "they", "me", "him", "her", "us", "them",
    "my", "his", "its", "our", "your", "their", "this", "that", "these", "those",
    "is", "are", "was", "were", "be", "been", "has", "have", "had", "do", "does", "did",
    "will", "would", "can", "could", "may", "might", "must", "shall", "should",
    "who", "whom", "whose", "which", "what", "when", "where", "why", "how",
    "not", "no", "yes", "all", "any", "each", "every", "some", "there", "here",
];

/// Returns the spans after the rules of the module docs, in order of start.
pub(crate) fn refine_names(text: &str, spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    let spans: Vec<EntitySpan> = spans
        .into_iter()
        .filter(|span| !is_field_label(text, span))
        .collect();
    let spans = name_lists::resolve_lists(text, spans);
    let spans = join_capitalised_and(text, spans);
    let spans: Vec<EntitySpan> = spans
        .into_iter()
        .map(|span| take_bracketed_qualifier(text, span))
        .collect();
    let spans = continue_person_names(text, spans);
    let spans = extend_organizations_back(text, spans);
    let spans = widen_name_lines(text, spans);
    join_places_after_address(text, spans)
}

/// Returns true when `word`, in any case, is a function word or pronoun of
/// [`NOT_NAME_WORDS`].
pub(crate) fn is_function_word(word: &str) -> bool {
    NOT_NAME_WORDS.contains(&word.to_lowercase().as_str())
}

/// Returns true when `word` starts with an upper-case letter, has no digit and is not a
/// function word.
pub(crate) fn is_name_word(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
        && !word.chars().any(|c| c.is_ascii_digit())
        && !is_function_word(word)
}

/// Returns the byte length of the word at the start of `rest`: letters, digits, apostrophes
/// and hyphens, and a dot after a single letter (an initial such as `K.`).
pub(super) fn word_length(rest: &str) -> usize {
    let length = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '\'' || *c == '-'))
        .map_or(rest.len(), |(at, _)| at);
    let is_initial = rest[..length].chars().count() == 1;
    if is_initial && rest[length..].starts_with('.') {
        length + 1
    } else {
        length
    }
}

/// Returns the byte range of the line that contains byte `at`, without its line break.
fn line_around(text: &str, at: usize) -> Range<usize> {
    let start = text[..at].rfind('\n').map_or(0, |index| index + 1);
    let end = text[at..].find('\n').map_or(text.len(), |index| at + index);
    start..end
}

/// Rule 1 of the module docs.
fn is_field_label(text: &str, span: &EntitySpan) -> bool {
    let piece = &text[span.range()];
    let line = line_around(text, span.start);
    let before = &text[line.start..span.start];
    word_length(piece) == piece.len()
        && before.chars().all(|c| c == '>' || c.is_whitespace())
        && text[span.end..].starts_with(':')
}

pub(super) fn overlaps(span: &EntitySpan, range: &Range<usize>) -> bool {
    span.start < range.end && range.start < span.end
}

/// Rule 3 of the module docs.
fn join_capitalised_and(text: &str, spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    let mut out: Vec<EntitySpan> = Vec::with_capacity(spans.len());
    for span in spans {
        if let Some(last) = out.last_mut()
            && span.start >= last.end
            && matches!(&text[last.end..span.start], " And " | " & ")
        {
            last.end = span.end;
            if span.label == EntityLabel::Organization {
                last.label = EntityLabel::Organization;
            }
            last.score = last.score.min(span.score);
            continue;
        }
        out.push(span);
    }
    for index in 0..out.len() {
        let end = out[index].end;
        let rest = &text[end..];
        let Some(after) = rest
            .strip_prefix(" And ")
            .or_else(|| rest.strip_prefix(" & "))
        else {
            continue;
        };
        let length = word_length(after);
        let next_start = out.get(index + 1).map_or(text.len(), |next| next.start);
        let word_end = end + (rest.len() - after.len()) + length;
        if length > 0 && is_name_word(&after[..length]) && word_end <= next_start {
            out[index].end = word_end;
        }
    }
    out
}

/// Rule 4 of the module docs.
fn take_bracketed_qualifier(text: &str, mut span: EntitySpan) -> EntitySpan {
    let piece = &text[span.range()];
    let span_words = piece.split(' ').filter(|word| !word.is_empty()).count();
    let Some(inner) = text[span.end..].strip_prefix(" (") else {
        return span;
    };
    let Some(close) = inner.find(')') else {
        return span;
    };
    let words: Vec<&str> = inner[..close].split(' ').collect();
    let qualifies = (1..=2).contains(&words.len())
        && words
            .iter()
            .all(|word| word_length(word) == word.len() && is_name_word(word))
        && span_words <= 2;
    // A name does not go on after the brackets (`Jo (Joanna) Lee` is one person).
    let after = &inner[close + 1..];
    let name_follows = after
        .strip_prefix(' ')
        .is_some_and(|rest| rest.chars().next().is_some_and(char::is_uppercase));
    if !qualifies || name_follows {
        return span;
    }
    if span.label == EntityLabel::Person {
        if span_words > 1 || words.len() > 1 {
            return span;
        }
        span.label = EntityLabel::Gpe;
    }
    span.end += 2 + close + 1;
    span
}

/// Rule 5 of the module docs.
fn continue_person_names(text: &str, mut spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    for index in 0..spans.len() {
        if spans[index].label != EntityLabel::Person {
            continue;
        }
        let next_start = spans.get(index + 1).map_or(text.len(), |next| next.start);
        let mut words = text[spans[index].range()].split(' ').count();
        let mut end = spans[index].end;
        while words < 4 {
            let Some(after) = text[end..].strip_prefix(' ') else {
                break;
            };
            let length = word_length(after);
            let word = &after[..length];
            if length == 0 || !is_name_word(word) || end + 1 + length > next_start {
                break;
            }
            // A word glued to more letters or digits (`Ann's`, `Lee2`) is not a plain name
            // word, and neither is one cut at a dash.
            let glued = after[length..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric());
            if glued {
                break;
            }
            end += 1 + length;
            words += 1;
        }
        spans[index].end = end;
    }
    spans
}

/// Rule 5 of the module docs, for organisations.
fn extend_organizations_back(text: &str, mut spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    for index in 0..spans.len() {
        if spans[index].label != EntityLabel::Organization {
            continue;
        }
        let previous_end = index
            .checked_sub(1)
            .map_or(0, |previous| spans[previous].end);
        let mut words = text[spans[index].range()].split(' ').count();
        let mut start = spans[index].start;
        while words < 4 {
            let Some(before) = text[..start].strip_suffix(' ') else {
                break;
            };
            let word_start = before
                .char_indices()
                .rev()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '\'' || *c == '-'))
                .map_or(0, |(at, c)| at + c.len_utf8());
            if word_start < previous_end || !is_name_word(&before[word_start..]) {
                break;
            }
            start = word_start;
            words += 1;
        }
        spans[index].start = start;
    }
    spans
}

/// Rule 6 of the module docs.
fn widen_name_lines(text: &str, mut spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    let mut index = 0;
    while index < spans.len() {
        let line = line_around(text, spans[index].start);
        let content = text[line.clone()].trim_start_matches(['>', ' ', '\t']);
        let content_start = line.end - content.len();
        let content = content.trim_end();
        let content = content_start..content_start + content.len();
        let words: Vec<&str> = text[content.clone()].split(' ').collect();
        let is_name_line = (2..=4).contains(&words.len())
            && words.iter().all(|word| {
                !word.is_empty()
                    && word_length(word) == word.len()
                    && word.chars().next().is_some_and(char::is_uppercase)
                    && !word.chars().any(|c| c.is_ascii_digit())
            });
        let on_line: Vec<usize> = (0..spans.len())
            .filter(|&other| overlaps(&spans[other], &line))
            .collect();
        let all_inside = on_line
            .iter()
            .all(|&other| spans[other].start >= content.start && spans[other].end <= content.end);
        let labels: Vec<EntityLabel> = on_line.iter().map(|&other| spans[other].label).collect();
        let names_only = labels
            .iter()
            .all(|label| matches!(label, EntityLabel::Person | EntityLabel::Organization));
        let covers = on_line.len() == 1
            && spans[on_line[0]].start == content.start
            && spans[on_line[0]].end == content.end;
        if !is_name_line || !all_inside || !names_only || covers {
            index = on_line.last().map_or(index, |&last| last) + 1;
            continue;
        }
        let label = if labels.contains(&EntityLabel::Organization) {
            EntityLabel::Organization
        } else {
            EntityLabel::Person
        };
        let score = on_line
            .iter()
            .map(|&other| spans[other].score)
            .fold(1.0_f32, f32::min);
        let first = on_line[0];
        spans.drain(first..first + on_line.len());
        spans.insert(
            first,
            EntitySpan {
                start: content.start,
                end: content.end,
                label,
                score,
                tokens: Vec::new(),
            },
        );
        index = first + 1;
    }
    spans
}

/// Rule 7 of the module docs.
fn join_places_after_address(text: &str, spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    let mut out: Vec<EntitySpan> = Vec::with_capacity(spans.len());
    for span in spans {
        if let Some(last) = out.last_mut()
            && last.label == EntityLabel::Location
            && matches!(span.label, EntityLabel::Location | EntityLabel::Gpe)
            && span.start >= last.end
            && text[last.end..span.start] == *", "
        {
            last.end = span.end;
            last.score = last.score.min(span.score);
            continue;
        }
        out.push(span);
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    pub(in crate::detect) use crate::detect::span_over as span;

    pub(in crate::detect) fn refined(
        text: &str,
        spans: Vec<EntitySpan>,
    ) -> Vec<(String, EntityLabel)> {
        refine_names(text, spans)
            .into_iter()
            .map(|span| (text[span.range()].to_string(), span.label))
            .collect()
    }

    fn pieces(text: &str, spans: Vec<EntitySpan>) -> Vec<String> {
        refined(text, spans)
            .into_iter()
            .map(|(piece, _)| piece)
            .collect()
    }

    #[test]
    fn field_label_is_dropped() {
        let text = "Oskar Brandt\nMobile: 0412 554 210";
        let spans = vec![
            span(text, "Oskar Brandt", EntityLabel::Person),
            span(text, "Mobile", EntityLabel::Location),
        ];
        assert_eq!(pieces(text, spans), ["Oskar Brandt"]);
    }

    #[test]
    fn partner_list_is_one_firm() {
        let text = "She joined Halvorsen, Pike and Tallow in May.";
        let spans = vec![
            span(text, "Halvorsen", EntityLabel::Person),
            span(text, "Tallow", EntityLabel::Gpe),
        ];
        assert_eq!(
            refined(text, spans),
            [(
                "Halvorsen, Pike and Tallow".to_string(),
                EntityLabel::Organization
            )]
        );
    }

    #[test]
    fn lower_case_partner_list_is_one_firm() {
        let text = "quist, marrow and dale\n\n12 orchard lane";
        let spans = vec![
            span(text, "quist, marrow", EntityLabel::Location),
            span(text, "dale", EntityLabel::Person),
            span(text, "12 orchard lane", EntityLabel::Location),
        ];
        assert_eq!(
            pieces(text, spans),
            ["quist, marrow and dale", "12 orchard lane"]
        );
    }

    #[test]
    fn list_of_places_is_kept() {
        let text = "Offices in Tromsdal, Vikby and Orrefors.";
        let spans = vec![
            span(text, "Tromsdal", EntityLabel::Gpe),
            span(text, "Vikby", EntityLabel::Gpe),
            span(text, "Orrefors", EntityLabel::Gpe),
        ];
        assert_eq!(pieces(text, spans), ["Tromsdal", "Vikby", "Orrefors"]);
    }

    #[test]
    fn introduced_list_is_persons() {
        let text = "Our founders: Quist, Marrow and Dale.";
        let spans = vec![
            span(text, "Quist", EntityLabel::Person),
            span(text, "Dale", EntityLabel::Person),
        ];
        assert_eq!(
            refined(text, spans),
            [
                ("Quist".to_string(), EntityLabel::Person),
                ("Marrow".to_string(), EntityLabel::Person),
                ("Dale".to_string(), EntityLabel::Person),
            ]
        );
    }

    #[test]
    fn long_list_splits_joined_items() {
        let text = "We had 5: Ivo, Pia, Lars, Maren and Ulf.";
        let spans = vec![
            span(text, "Ivo", EntityLabel::Person),
            span(text, "Pia, Lars", EntityLabel::Location),
            span(text, "Maren", EntityLabel::Person),
            span(text, "Ulf", EntityLabel::Person),
        ];
        assert_eq!(pieces(text, spans), ["Ivo", "Pia", "Lars", "Maren", "Ulf"]);
    }

    #[test]
    fn capitalised_and_joins_name() {
        let text = "Quarry And Finch is an agency; so is Hollis & Brandt.";
        let spans = vec![
            span(text, "Quarry", EntityLabel::Organization),
            span(text, "Finch", EntityLabel::Organization),
            span(text, "Hollis", EntityLabel::Organization),
        ];
        assert_eq!(pieces(text, spans), ["Quarry And Finch", "Hollis & Brandt"]);
    }

    #[test]
    fn lower_case_and_keeps_names_apart() {
        let text = "Anna and Bo";
        let spans = vec![
            span(text, "Anna", EntityLabel::Person),
            span(text, "Bo", EntityLabel::Person),
        ];
        assert_eq!(pieces(text, spans), ["Anna", "Bo"]);
    }

    #[test]
    fn bracketed_qualifier_joins_place() {
        let text = "Ship to Brenzell (Upper) or see Orla (Finance) Byrne.";
        let spans = vec![
            span(text, "Brenzell", EntityLabel::Person),
            span(text, "Orla", EntityLabel::Person),
        ];
        assert_eq!(
            refined(text, spans),
            [
                ("Brenzell (Upper)".to_string(), EntityLabel::Gpe),
                ("Orla".to_string(), EntityLabel::Person),
            ]
        );
    }

    #[test]
    fn person_name_goes_on() {
        let text = "A song (not by Ottilie Marchetti). Ask Ivo K. Brandt. Met Pia The";
        let spans = vec![
            span(text, "Ottilie", EntityLabel::Person),
            span(text, "Ivo", EntityLabel::Person),
            span(text, "Pia", EntityLabel::Person),
        ];
        assert_eq!(
            pieces(text, spans),
            ["Ottilie Marchetti", "Ivo K. Brandt", "Pia"]
        );
    }

    #[test]
    fn organization_goes_back() {
        let text = "I work for Brisk Tide Solutions. The Quillon Group won.";
        let spans = vec![
            span(text, "Solutions", EntityLabel::Organization),
            span(text, "Group", EntityLabel::Organization),
        ];
        assert_eq!(
            pieces(text, spans),
            ["Brisk Tide Solutions", "Quillon Group"]
        );
    }

    #[test]
    fn name_line_is_widened() {
        let text = ">Torvald Quist\n>Brisk Harbor Freight\n>Acme\n>12 Pine Road";
        let spans = vec![
            span(text, "Quist", EntityLabel::Person),
            span(text, "Freight", EntityLabel::Organization),
            span(text, "Acme", EntityLabel::Organization),
            span(text, "12 Pine Road", EntityLabel::Location),
        ];
        assert_eq!(
            pieces(text, spans),
            [
                "Torvald Quist",
                "Brisk Harbor Freight",
                "Acme",
                "12 Pine Road"
            ]
        );
    }

    #[test]
    fn line_with_place_is_not_widened() {
        let text = "Grand Orrefors Bay";
        let spans = vec![span(text, "Orrefors", EntityLabel::Gpe)];
        assert_eq!(pieces(text, spans), ["Orrefors"]);
    }

    #[test]
    fn town_after_address_joins_it() {
        let text = "Send it to 12 Pine Road, Vikby, Norway (North) by May.";
        let spans = vec![
            span(text, "12 Pine Road", EntityLabel::Location),
            span(text, "Vikby", EntityLabel::Gpe),
            span(text, "Norway", EntityLabel::Person),
        ];
        assert_eq!(pieces(text, spans), ["12 Pine Road, Vikby, Norway (North)"]);
    }
}
