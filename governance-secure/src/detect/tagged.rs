//! Clean-up of the token tagger's spans before they become findings.
//!
//! The tagger labels token by token, so one entity sometimes comes back in pieces (`4411`
//! and `Rantakatu 25`, `Puebla`, `de la` and `Vega`) and a lone lower-case word is
//! sometimes taken for a place. These rules run in order:
//!
//! 1. A span of one character (`号`, `2`) is dropped: no name, address or organisation is
//!    that short.
//! 2. Pieces on one line with only spaces between them (or nothing, as in `ul` and `. Miła`)
//!    are joined: two entities rarely sit side by side without punctuation, while the model
//!    often labels the words of one name apart (`Mikkel` and `Thorvaldsen`). The joined
//!    span is an address when either piece is one, else an organisation when either is one,
//!    else a person when either is one, else a place.
//! 3. A personal pronoun at the start of a span (`He` in `He just`) is cut off, because no
//!    name starts with one. Then a span of lower-case words without digits (`rock`,
//!    `chamber folk`) is dropped when the text also has capital letters. A writer who
//!    capitalises writes names with capitals, and texts written all in lower case keep
//!    such words.
//! 4. An address that starts after other words on its line and goes on over the next lines
//!    (`send it to 12 Main Street` then `Springfield` on the next line) is joined into one
//!    address. A line of a region code alone (`, ON`) between two pieces is taken in too.
//!    Joining stops at the first line that does not end with a place or address piece. An address block
//!    that starts on a line of its own, as in a letter head, keeps one span per line, the
//!    tagger's convention.
//! 5. The last line of an address block, when it is a place followed by a number of 4 to 6
//!    digits (`Norway 40217`), is split into the place and the postal code. Other lines are
//!    kept whole, because a street name followed by a house number has the same shape.
//! 6. Punctuation the tagger took in at either end (`>` of a quoted line, `-` or `. ` of a
//!    piece joined by rule 2, a trailing comma) is trimmed.
//! 7. A street corner, `corner of` followed by two streets joined by `and`, is one address
//!    from the first street to the end of the second. The second street is the next span
//!    when one starts right after `and`, else the words up to the end of the clause, and
//!    capitalised words after it (`Mill` in `Oswin Mill`) are taken in.
//! 8. A number of up to 6 digits right before an address, one space apart on the same
//!    line, is taken into the address, because a house or building number belongs to it.
//!    Then an address that is a number and a street with its own house number, and nothing
//!    more (`583 Tallgata 29`, `5120 18 Harlow Avenue`), is split after its first number.
//!    A street has one house number, so the first number is a separate field, such as a
//!    building number or a postal code. A street-type abbreviation after the house number
//!    (`Korsgatan 12 St`) does not change that. An address with a unit, a town or a line
//!    break after the street keeps its numbers, because the whole is then one address.
//!
//! A postal code found by its pattern right after an address (see [`joins_address`]) is made
//! part of the address by the detector.
//!
//! The rules move span ends without looking at tokens. The tagger's token scores are taken
//! off the spans before the rules run ([`take_token_scores`]) and put back on each final span
//! with [`token_scores_in`]: a token the tagger tagged keeps its score, and a word a rule took
//! in is a token without a score.

#[cfg(test)]
use governance_llm::tagger::token_scores_in;
use governance_llm::tagger::{EntityLabel, EntitySpan, TokenScore};

/// Takes the token scores off `spans` and returns them sorted by start, for
/// [`token_scores_in`] once the rules have run.
pub(crate) fn take_token_scores(spans: &mut [EntitySpan]) -> Vec<TokenScore> {
    let mut scored: Vec<TokenScore> = spans
        .iter_mut()
        .flat_map(|span| std::mem::take(&mut span.tokens))
        .collect();
    scored.sort_by_key(|token| token.start);
    scored
}

/// Returns the tagger's spans of `text` after the rules of the module docs, in order.
pub(crate) fn refine(text: &str, spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    let has_capitals = text.chars().any(char::is_uppercase);
    let longer: Vec<EntitySpan> = spans
        .into_iter()
        .filter(|span| text[span.range()].chars().nth(1).is_some())
        .collect();
    let kept: Vec<EntitySpan> = join_on_line(text, longer)
        .into_iter()
        .filter_map(|span| cut_leading_pronoun(text, span))
        .filter(|span| !(has_capitals && is_lower_case_words(&text[span.range()])))
        .collect();
    let trimmed: Vec<EntitySpan> = join_over_lines(text, kept)
        .into_iter()
        .flat_map(|span| split_postal_code(text, span))
        .filter_map(|span| trim_punctuation(text, span))
        .collect();
    join_street_corners(text, trimmed)
        .into_iter()
        .map(|span| take_number_before(text, span))
        .flat_map(|span| split_leading_number(text, span))
        .collect()
}

/// Rule 8 of the module docs, first part.
fn take_number_before(text: &str, mut span: EntitySpan) -> EntitySpan {
    if span.label != EntityLabel::Location {
        return span;
    }
    let Some(before) = text[..span.start].strip_suffix(' ') else {
        return span;
    };
    let digits = before.len() - before.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let number_start = before.len() - digits;
    let starts_token = text[..number_start]
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || matches!(c, '>' | '(' | ':' | ','));
    if (1..=6).contains(&digits) && starts_token {
        span.start = number_start;
    }
    span
}

/// Rule 7 of the module docs.
fn join_street_corners(text: &str, spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    let mut out: Vec<EntitySpan> = Vec::with_capacity(spans.len());
    let mut index = 0;
    while index < spans.len() {
        let mut span = spans[index].clone();
        index += 1;
        let line_start = text[..span.start].rfind('\n').map_or(0, |at| at + 1);
        let before = text[line_start..span.start].to_lowercase();
        if !before.trim_end().ends_with("corner of") {
            out.push(span);
            continue;
        }
        let rest = &text[span.end..];
        let gap = rest.len() - rest.trim_start_matches(['.', ' ']).len();
        let Some(after_and) = rest[gap..]
            .strip_prefix("and ")
            .or_else(|| rest[gap..].strip_prefix("AND "))
        else {
            out.push(span);
            continue;
        };
        let second_start = text.len() - after_and.len();
        let mut end = match spans.get(index) {
            Some(next) if next.start == second_start => {
                index += 1;
                next.end
            }
            _ => clause_end(text, second_start),
        };
        end = extend_over_capitalised(text, end);
        if end <= second_start {
            out.push(span);
            continue;
        }
        span.end = end;
        span.label = EntityLabel::Location;
        // Spans inside the corner, from the words taken in, are dropped.
        while spans.get(index).is_some_and(|next| next.start < end) {
            index += 1;
        }
        out.push(span);
    }
    out
}

/// Returns the byte where the clause that starts at `from` ends: after its last letter or
/// digit before a character that is not a letter, digit, hyphen, apostrophe, space or tab.
fn clause_end(text: &str, from: usize) -> usize {
    let mut end = from;
    for (offset, c) in text[from..].char_indices() {
        let at = from + offset;
        if c.is_alphanumeric() || c == '-' || c == '\'' {
            end = at + c.len_utf8();
        } else if c == ' ' || c == '\t' {
            continue;
        } else {
            break;
        }
    }
    end
}

/// Returns the end of the capitalised words that follow `end` on its line, after single
/// spaces.
fn extend_over_capitalised(text: &str, mut end: usize) -> usize {
    loop {
        let rest = &text[end..];
        let Some(word) = rest.strip_prefix(' ') else {
            return end;
        };
        if !word.chars().next().is_some_and(char::is_uppercase) {
            return end;
        }
        let length = word
            .find(|c: char| !(c.is_alphanumeric() || c == '-'))
            .unwrap_or(word.len());
        end += 1 + length;
    }
}

/// Rule 8 of the module docs.
fn split_leading_number(text: &str, span: EntitySpan) -> Vec<EntitySpan> {
    let piece = &text[span.range()];
    if span.label != EntityLabel::Location || piece.contains(['\n', ',']) {
        return vec![span];
    }
    let words: Vec<&str> = piece.split(' ').filter(|word| !word.is_empty()).collect();
    let is_number = |word: &str| {
        let digits = word.trim_end_matches(|c: char| c == '.' || c.is_ascii_alphabetic());
        !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
            && word.len() - digits.len() <= 1
    };
    let has_letters = |word: &str| word.chars().any(char::is_alphabetic);

    // A street-type word after the house number (`Korsgatan 12 St`) is still the street.
    let without_suffix = words
        .iter()
        .rposition(|word| !STREET_SUFFIXES.contains(&word.to_lowercase().trim_end_matches('.')))
        .map_or(&words[..0], |last| &words[..=last]);
    let [first, second, rest @ ..] = without_suffix else {
        return vec![span];
    };
    let first_is_plain = first.len() >= 2 && first.chars().all(|c| c.is_ascii_digit());
    if !first_is_plain {
        return vec![span];
    }

    let two_numbers_first =
        is_number(second) && !rest.is_empty() && rest.iter().all(|word| has_letters(word));
    let number_after_street = has_letters(second)
        && rest.split_last().is_some_and(|(last, street)| {
            is_number(last) && street.iter().all(|word| has_letters(word))
        });
    if !(two_numbers_first || number_after_street) {
        return vec![span];
    }

    let number_end = span.start + first.len();
    let street_start =
        number_end + piece[first.len()..].len() - piece[first.len()..].trim_start().len();
    vec![
        EntitySpan {
            end: number_end,
            ..span.clone()
        },
        EntitySpan {
            start: street_start,
            ..span
        },
    ]
}

/// Street-type abbreviations, in lower case without a dot.
const STREET_SUFFIXES: &[&str] = &["st", "rd", "ave", "av", "blvd", "ln", "dr", "ct", "pl"];

/// Rule 5 of the module docs.
fn split_postal_code(text: &str, span: EntitySpan) -> Vec<EntitySpan> {
    let piece = &text[span.range()];
    let Some((place, number)) = piece.rsplit_once(' ') else {
        return vec![span];
    };
    let rest = &text[span.end..];
    let is_last_line = rest.starts_with("\n\n") || !rest.chars().any(char::is_alphanumeric);
    let is_block_line =
        !piece.contains('\n') && !starts_inside_line(text, span.start) && is_last_line;
    let is_code = (4..=6).contains(&number.len()) && number.chars().all(|c| c.is_ascii_digit());
    let place = place.trim_end();
    let place_has_letters_only = !place.is_empty()
        && place.chars().any(char::is_alphabetic)
        && !place.chars().any(|c| c.is_ascii_digit());
    if !(is_block_line && is_code && place_has_letters_only) {
        return vec![span];
    }
    let code_start = span.end - number.len();
    let place_span = EntitySpan {
        end: span.start + place.len(),
        label: EntityLabel::Gpe,
        ..span.clone()
    };
    let code_span = EntitySpan {
        start: code_start,
        label: EntityLabel::Location,
        ..span
    };
    vec![place_span, code_span]
}

/// Rule 6 of the module docs. Returns `None` when nothing but punctuation is left.
fn trim_punctuation(text: &str, mut span: EntitySpan) -> Option<EntitySpan> {
    let piece = &text[span.range()];
    let leading = piece.len()
        - piece
            .trim_start_matches(|c: char| {
                c.is_whitespace() || matches!(c, '>' | ',' | ';' | ':' | '-' | '.')
            })
            .len();
    let trailing = piece.len()
        - piece
            .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '>' | ',' | ';' | ':'))
            .len();
    if leading + trailing >= piece.len() {
        return None;
    }
    span.start += leading;
    span.end -= trailing;
    Some(span)
}

/// Returns true when `gap`, the text between an address and a postal code after it, lets the
/// code belong to the address. The gap may hold at most one line break, spaces, commas, and
/// up to two words of two or three capital letters (a state, `APO AE`).
pub(crate) fn joins_address(gap: &str) -> bool {
    if gap.matches('\n').count() > 1 {
        return false;
    }
    let words: Vec<&str> = gap
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| !word.is_empty())
        .collect();
    words.len() <= 2
        && words.iter().all(|word| {
            (2..=3).contains(&word.len()) && word.chars().all(|c| c.is_ascii_uppercase())
        })
}

fn is_lower_case_words(piece: &str) -> bool {
    piece
        .chars()
        .all(|c| (c.is_alphabetic() && !c.is_uppercase()) || c == ' ' || c == '-')
}

/// Personal pronouns, in lower case.
const PRONOUNS: &[&str] = &[
    "i", "he", "she", "it", "we", "you", "they", "me", "him", "her", "us", "them",
];

/// Rule 3 of the module docs: cuts a leading personal pronoun and the spaces after it.
/// Returns `None` when nothing is left.
fn cut_leading_pronoun(text: &str, mut span: EntitySpan) -> Option<EntitySpan> {
    let piece = &text[span.range()];
    let Some((first, rest)) = piece.split_once(' ') else {
        return (!PRONOUNS.contains(&piece.to_lowercase().as_str())).then_some(span);
    };
    if !PRONOUNS.contains(&first.to_lowercase().as_str()) {
        return Some(span);
    }
    let rest = rest.trim_start();
    if rest.is_empty() {
        return None;
    }
    span.start = span.end - rest.len();
    Some(span)
}

/// Returns the label of two joined pieces, in the order of rule 2 of the module docs.
fn joined_label(first: EntityLabel, second: EntityLabel) -> EntityLabel {
    let either = |label| first == label || second == label;
    [
        EntityLabel::Location,
        EntityLabel::Organization,
        EntityLabel::Person,
    ]
    .into_iter()
    .find(|&label| either(label))
    .unwrap_or(first)
}

fn join(first: &mut EntitySpan, second: &EntitySpan) {
    first.end = second.end;
    first.label = joined_label(first.label, second.label);
    first.score = first.score.min(second.score);
}

/// Rule 2 of the module docs.
fn join_on_line(text: &str, spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    let mut out: Vec<EntitySpan> = Vec::with_capacity(spans.len());
    for span in spans {
        if let Some(last) = out.last_mut() {
            let gap = text.get(last.end..span.start).unwrap_or("\n");
            if gap.chars().all(|c| c == ' ' || c == '\t') {
                join(last, &span);
                continue;
            }
        }
        out.push(span);
    }
    out
}

/// Returns true when only spaces, tabs, commas and quote marks (`>`) separate `from` and the
/// end of its line, and a line break follows.
fn ends_line(text: &str, from: usize) -> bool {
    let rest = text.get(from..).unwrap_or("");
    match rest.find('\n') {
        Some(newline) => rest[..newline]
            .chars()
            .all(|c| c == ' ' || c == '\t' || c == ',' || c == '\r'),
        None => false,
    }
}

/// Returns true when the gap between two pieces is one line break with only spaces, tabs,
/// commas and `>` around it, or two line breaks around a line of a region code (`, ON`).
fn is_line_gap(gap: &str) -> bool {
    let is_blank = |part: &str| {
        part.chars()
            .all(|c| matches!(c, ' ' | '\t' | ',' | '>' | '\r'))
    };
    let parts: Vec<&str> = gap.split('\n').collect();
    match parts.as_slice() {
        [before, after] => is_blank(before) && is_blank(after),
        [before, region, after] => is_blank(before) && is_blank(after) && is_region_line(region),
        _ => false,
    }
}

/// Returns true when `line` is a comma and a region code of one to three letters, as on the
/// last lines of an address block (`, ON`).
fn is_region_line(line: &str) -> bool {
    let Some(code) = line.trim().strip_prefix(',') else {
        return false;
    };
    let code = code.trim();
    (1..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphabetic())
}

/// Returns true when the line of `start` has a letter before it, so the address is part of
/// a sentence. A house number alone before it does not count.
fn starts_inside_line(text: &str, start: usize) -> bool {
    let line_start = text[..start].rfind('\n').map_or(0, |index| index + 1);
    text[line_start..start].chars().any(char::is_alphabetic)
}

/// Rule 4 of the module docs.
fn join_over_lines(text: &str, spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    let mut out: Vec<EntitySpan> = Vec::with_capacity(spans.len());
    // Whether the last span of `out` is an address that may go on to the next line.
    let mut open = false;
    for span in spans {
        if let Some(last) = out.last_mut()
            && open
            && span.label != EntityLabel::Person
            && is_line_gap(text.get(last.end..span.start).unwrap_or(""))
        {
            join(last, &span);
            open = ends_line(text, last.end);
            continue;
        }
        open = span.label == EntityLabel::Location
            && starts_inside_line(text, span.start)
            && ends_line(text, span.end);
        out.push(span);
    }
    out
}

#[cfg(test)]
#[path = "tagged_tests.rs"]
mod tests;
