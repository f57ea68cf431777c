//! Rule 2 of [`super::tagged_names`]: lists of single words `A, B and C` that the token
//! tagger marked in part, at least once as a person or an organisation. Such a list is one
//! of three things:
//!
//! - Persons, one per item, when every item is a given name on the tagger generator's list
//!   and at least one of them is not also a listed surname, because a firm of partners is
//!   named by surnames (`Smith, Jones and Partners`, `Jordan, Kelly and Scott`). The first
//!   item may instead be the surname of a listed given name right before it, and the last
//!   item takes in a capitalised word after it, so `Ada Quist, Bo and Cy Lind` is three
//!   persons.
//! - One organisation, when nothing introduces the list as an enumeration (a colon or a
//!   count right before it), it has three items and at least two are marked, because firms
//!   of partners are named that way.
//! - Persons, one per item, when a colon or a count introduces the list or it has four
//!   items or more. At least half of its items must be marked, one of them as a person,
//!   and the rest follow because the items of one list are of one kind.
//!
//! Any other list is left as the tagger marked it, and so is a list that a span reaches out
//! of, because that span belongs to something larger.

use std::ops::Range;

use governance_llm::tagger::generate::{is_listed_given_name, is_listed_surname};
use governance_llm::tagger::{EntityLabel, EntitySpan};

use super::tagged_names::{is_name_word, overlaps, word_length};

/// One list `A, B and C` found in the text.
struct WordList {
    items: Vec<Range<usize>>,
    /// Whether a colon or a count comes right before the first item.
    introduced: bool,
}

/// Returns the lists of single words `A, B, ... and C` in `text`, with two or more commas
/// counted as one list. Items must all be capitalised, unless the whole text is lower case.
fn find_lists(text: &str) -> Vec<WordList> {
    let lower_case_text = !text.chars().any(char::is_uppercase);
    let is_item = |word: &str| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
            && (lower_case_text || is_name_word(word))
    };
    let mut lists = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let length = word_length(rest);
        let starts_word = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '\'' || c == '-'));
        if length == 0 || !starts_word || !is_item(&rest[..length]) {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let mut items: Vec<Range<usize>> = Vec::new();
        items.push(at..at + length);
        let mut end = at + length;
        let mut closed = false;
        loop {
            let after = &text[end..];
            let (separator, last) = if let Some(next) = after.strip_prefix(", and ") {
                (after.len() - next.len(), true)
            } else if let Some(next) = after.strip_prefix(" and ") {
                (after.len() - next.len(), true)
            } else if let Some(next) = after.strip_prefix(", ") {
                (after.len() - next.len(), false)
            } else {
                break;
            };
            let start = end + separator;
            let length = word_length(&text[start..]);
            if length == 0 || !is_item(&text[start..start + length]) {
                break;
            }
            items.push(start..start + length);
            end = start + length;
            if last {
                closed = true;
                break;
            }
        }
        if closed && items.len() >= 3 {
            let before = text[..at].trim_end_matches([' ', '\t']);
            let introduced = before.ends_with(':')
                || before
                    .rsplit(|c: char| c.is_whitespace())
                    .next()
                    .is_some_and(|word| word.chars().any(|c| c.is_ascii_digit()));
            lists.push(WordList { items, introduced });
        }
        at = end;
    }
    lists
}

/// Returns the spans with each list of the module docs resolved, in order of start.
pub(super) fn resolve_lists(text: &str, mut spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    for list in find_lists(text) {
        let given_names = given_name_items(text, &list.items);
        let items = given_names.as_deref().unwrap_or(&list.items);
        let whole = items[0].start..items[items.len() - 1].end;
        let labels_of = |item: &Range<usize>| -> Vec<EntityLabel> {
            spans
                .iter()
                .filter(|span| overlaps(span, item))
                .map(|span| span.label)
                .collect()
        };
        let item_labels: Vec<Vec<EntityLabel>> = items.iter().map(labels_of).collect();
        let marked = item_labels
            .iter()
            .filter(|labels| !labels.is_empty())
            .count();
        let persons = item_labels
            .iter()
            .filter(|labels| labels.contains(&EntityLabel::Person))
            .count();
        let has_name_label = item_labels
            .iter()
            .flatten()
            .any(|label| matches!(label, EntityLabel::Person | EntityLabel::Organization));
        // A span that reaches out of the list belongs to something larger, and the list is
        // then left as the tagger marked it.
        let inside = |span: &EntitySpan| span.start >= whole.start && span.end <= whole.end;
        let score = spans
            .iter()
            .filter(|span| inside(span))
            .map(|span| span.score)
            .fold(1.0_f32, f32::min);
        let named_persons = given_names.is_some() && has_name_label;
        // NOTE: three persons whose given names are not on the generator's list (`I met
        // Ysolde, Bram and Oona`) are still taken for one firm. The merged span covers every
        // name, so masking is unaffected.
        let firm = given_names.is_none()
            && !list.introduced
            && items.len() == 3
            && marked >= 2
            && has_name_label;
        let enumeration =
            (list.introduced || items.len() >= 4) && 2 * marked >= items.len() && persons > 0;
        if !(firm || enumeration || named_persons)
            || spans.iter().any(|s| overlaps(s, &whole) && !inside(s))
        {
            continue;
        }
        spans.retain(|span| !inside(span));
        if firm {
            spans.push(EntitySpan {
                start: whole.start,
                end: whole.end,
                label: EntityLabel::Organization,
                score,
                tokens: Vec::new(),
            });
        } else {
            spans.extend(items.iter().map(|item| EntitySpan {
                start: item.start,
                end: item.end,
                label: EntityLabel::Person,
                score,
                tokens: Vec::new(),
            }));
        }
        spans.sort_by_key(|span| span.start);
    }
    spans
}

/// Returns the items of a list of persons, or `None` when the list may name a firm. Every
/// item must be a listed given name, except the first, which may be the surname of a listed
/// given name right before it (`Ada Quist, Bo and Cy`). The first item then takes the given
/// name in, and the last takes in a capitalised word right after it (`Cy Lind`), so that a
/// full name is one item. A list whose every given name is also a listed surname
/// (`Jordan, Kelly and Scott`) may be a firm of partners and is `None`.
fn given_name_items(text: &str, items: &[Range<usize>]) -> Option<Vec<Range<usize>>> {
    let mut widened = items.to_vec();
    let mut only_given_name = false;
    for (index, item) in items.iter().enumerate() {
        let word = &text[item.clone()];
        if is_listed_given_name(word) {
            only_given_name |= !is_listed_surname(word);
            continue;
        }
        if index > 0 {
            return None;
        }
        let before = word_before(text, item.start)?;
        let given = &text[before.clone()];
        if !(is_name_word(given) && is_listed_given_name(given)) {
            return None;
        }
        widened[0].start = before.start;
        only_given_name = true;
    }
    if !only_given_name {
        return None;
    }
    let last = widened.len() - 1;
    if let Some(after) = word_after(text, widened[last].end)
        && is_name_word(&text[after.clone()])
    {
        widened[last].end = after.end;
    }
    Some(widened)
}

/// Returns the range of the word that ends one space before byte `at`.
fn word_before(text: &str, at: usize) -> Option<Range<usize>> {
    let before = text[..at].strip_suffix(' ')?;
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '\'' || *c == '-'))
        .map_or(0, |(index, c)| index + c.len_utf8());
    (start < before.len()).then_some(start..before.len())
}

/// Returns the range of the word that starts one space after byte `at`.
fn word_after(text: &str, at: usize) -> Option<Range<usize>> {
    let after = text[at..].strip_prefix(' ')?;
    let length = word_length(after);
    (length > 0).then_some(at + 1..at + 1 + length)
}

#[cfg(test)]
mod tests {
    use super::super::tagged_names::tests::{refined, span};
    use super::*;

    fn persons(names: &[&str]) -> Vec<(String, EntityLabel)> {
        names
            .iter()
            .map(|name| (name.to_string(), EntityLabel::Person))
            .collect()
    }

    #[test]
    fn generator_lists_are_read() {
        assert!(is_listed_given_name("Freya"));
        assert!(is_listed_given_name("freya"));
        assert!(!is_listed_given_name("Vantrell"));
        assert!(is_listed_surname("Kelly"));
        assert!(!is_listed_surname("Freya"));
    }

    #[test]
    fn given_names_list_is_persons() {
        let text = "We met Freya, Omar and Sven at the depot.";
        let spans = vec![
            span(text, "Freya", EntityLabel::Person),
            span(text, "Omar and Sven", EntityLabel::Organization),
        ];
        assert_eq!(refined(text, spans), persons(&["Freya", "Omar", "Sven"]));
    }

    #[test]
    fn one_marked_given_name_is_enough() {
        let text = "We met Freya, Omar and Sven at the depot.";
        let spans = vec![span(text, "Omar", EntityLabel::Organization)];
        assert_eq!(refined(text, spans), persons(&["Freya", "Omar", "Sven"]));
    }

    #[test]
    fn full_names_at_list_ends_are_persons() {
        let text = "Lunch with Priya Oskvik, Lars and Ingrid Vantrell today.";
        let spans = vec![
            span(text, "Priya", EntityLabel::Person),
            span(text, "Oskvik, Lars", EntityLabel::Organization),
            span(text, "Ingrid Vantrell", EntityLabel::Person),
        ];
        assert_eq!(
            refined(text, spans),
            persons(&["Priya Oskvik", "Lars", "Ingrid Vantrell"])
        );
    }

    #[test]
    fn lower_case_given_names_are_persons() {
        let text = "we met freya, omar and sven today";
        let spans = vec![
            span(text, "freya", EntityLabel::Person),
            span(text, "sven", EntityLabel::Person),
        ];
        assert_eq!(refined(text, spans), persons(&["freya", "omar", "sven"]));
    }

    #[test]
    fn surname_partner_list_is_one_firm() {
        let text = "She joined Vantrell, Oskvik and Partners in May.";
        let spans = vec![
            span(text, "Vantrell", EntityLabel::Person),
            span(text, "Partners", EntityLabel::Organization),
        ];
        assert_eq!(
            refined(text, spans),
            [(
                "Vantrell, Oskvik and Partners".to_string(),
                EntityLabel::Organization
            )]
        );
    }

    #[test]
    fn names_that_are_also_surnames_stay_a_firm() {
        let text = "We asked Jordan, Kelly and Scott about the lease.";
        let spans = vec![
            span(text, "Jordan", EntityLabel::Person),
            span(text, "Scott", EntityLabel::Organization),
        ];
        assert_eq!(
            refined(text, spans),
            [(
                "Jordan, Kelly and Scott".to_string(),
                EntityLabel::Organization
            )]
        );
    }

    #[test]
    fn given_names_marked_as_places_are_kept() {
        let text = "Depots in Victoria, Austin and Madison.";
        let spans = vec![
            span(text, "Victoria", EntityLabel::Gpe),
            span(text, "Madison", EntityLabel::Gpe),
        ];
        assert_eq!(
            refined(text, spans),
            [
                ("Victoria".to_string(), EntityLabel::Gpe),
                ("Madison".to_string(), EntityLabel::Gpe),
            ]
        );
    }

    #[test]
    fn span_reaching_out_keeps_tags() {
        let text = "Freya, Omar and Sven Street Depot is closed.";
        let spans = vec![
            span(text, "Freya", EntityLabel::Person),
            span(text, "Sven Street Depot", EntityLabel::Organization),
        ];
        assert_eq!(
            refined(text, spans),
            [
                ("Freya".to_string(), EntityLabel::Person),
                ("Sven Street Depot".to_string(), EntityLabel::Organization),
            ]
        );
    }
}
