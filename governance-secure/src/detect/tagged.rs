//! Clean-up of the token tagger's spans before they become findings.
//!
//! The tagger labels token by token, so one entity sometimes comes back in pieces (`6750`
//! and `Koskikatu 25`, `Chiclana`, `de la` and `Frontera`) and a lone lower-case word is
//! sometimes taken for a place. These rules run in order:
//!
//! 1. A span of one character (`号`, `2`) is dropped: no name, address or organisation is
//!    that short.
//! 2. Pieces on one line with only spaces between them (or nothing, as in `ul` and `. Miła`)
//!    are joined: two entities rarely sit side by side without punctuation, while the model
//!    often labels the words of one name apart (`Christoffer` and `Bertelsen`). The joined
//!    span is an address when either piece is one, else an organisation when either is one,
//!    else a person when either is one, else a place.
//! 3. A single lower-case word without digits is dropped when the text also has capital
//!    letters, because a writer who capitalises writes names with capitals. Texts written
//!    all in lower case keep such words.
//! 4. An address that starts after other words on its line and goes on over the next lines
//!    (`send it to 12 Main Street` then `Springfield` on the next line) is joined into one
//!    address. Joining stops at the first line that does not end with a place or address
//!    piece. An address block
//!    that starts on a line of its own, as in a letter head, keeps one span per line, the
//!    tagger's convention.
//! 5. The last line of an address block, when it is a place followed by a number of 4 to 6
//!    digits (`Sweden 99178`), is split into the place and the postal code. Other lines are
//!    kept whole, because a street name followed by a house number has the same shape.
//! 6. Punctuation the tagger took in at either end (`>` of a quoted line, `-` or `. ` of a
//!    piece joined by rule 2, a trailing comma) is trimmed.
//!
//! A postal code found by its pattern right after an address (see [`joins_address`]) is made
//! part of the address by the detector.

use governance_llm::tagger::{EntityLabel, EntitySpan};

/// Returns the tagger's spans of `text` after the rules of the module docs, in order.
pub(crate) fn refine(text: &str, spans: Vec<EntitySpan>) -> Vec<EntitySpan> {
    let has_capitals = text.chars().any(char::is_uppercase);
    let longer: Vec<EntitySpan> = spans
        .into_iter()
        .filter(|span| text[span.range()].chars().nth(1).is_some())
        .collect();
    let kept: Vec<EntitySpan> = join_on_line(text, longer)
        .into_iter()
        .filter(|span| !(has_capitals && is_lone_lower_case_word(&text[span.range()])))
        .collect();
    join_over_lines(text, kept)
        .into_iter()
        .flat_map(|span| split_postal_code(text, span))
        .filter_map(|span| trim_punctuation(text, span))
        .collect()
}

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

fn is_lone_lower_case_word(piece: &str) -> bool {
    piece
        .chars()
        .all(|c| c.is_alphabetic() && !c.is_uppercase())
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
/// commas and `>` around it.
fn is_line_gap(gap: &str) -> bool {
    gap.matches('\n').count() == 1
        && gap
            .chars()
            .all(|c| matches!(c, ' ' | '\t' | ',' | '>' | '\r' | '\n'))
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
mod tests {
    use super::*;

    fn span(text: &str, piece: &str, label: EntityLabel) -> EntitySpan {
        let start = text.find(piece).expect("piece in text");
        EntitySpan {
            start,
            end: start + piece.len(),
            label,
            score: 0.9,
        }
    }

    fn pieces(text: &str, spans: &[EntitySpan]) -> Vec<String> {
        spans
            .iter()
            .map(|span| text[span.range()].to_string())
            .collect()
    }

    #[test]
    fn lower_case_word_dropped_in_cased_text() {
        let text = "Unlike rock music, Anna sings.";
        let spans = vec![
            span(text, "rock", EntityLabel::Gpe),
            span(text, "Anna", EntityLabel::Person),
        ];
        assert_eq!(pieces(text, &refine(text, spans)), ["Anna"]);
    }

    #[test]
    fn single_character_dropped() {
        let text = "请到北京来";
        let spans = vec![
            span(text, "北京", EntityLabel::Gpe),
            span(text, "来", EntityLabel::Location),
        ];
        assert_eq!(pieces(text, &refine(text, spans)), ["北京"]);
    }

    #[test]
    fn lower_case_word_kept_in_lower_case_text() {
        let text = "i live in delmas now";
        let spans = vec![span(text, "delmas", EntityLabel::Gpe)];
        assert_eq!(pieces(text, &refine(text, spans)), ["delmas"]);
    }

    #[test]
    fn pieces_on_one_line_are_joined() {
        let text = "Visit Chiclana de la Frontera today.";
        let spans = vec![
            span(text, "Chiclana", EntityLabel::Gpe),
            span(text, "de la", EntityLabel::Gpe),
            span(text, "Frontera", EntityLabel::Gpe),
        ];
        let refined = refine(text, spans);
        assert_eq!(pieces(text, &refined), ["Chiclana de la Frontera"]);
        assert_eq!(refined[0].label, EntityLabel::Gpe);
    }

    #[test]
    fn house_number_joins_street_as_address() {
        let text = "Send it to 6750 Koskikatu 25 please.";
        let spans = vec![
            span(text, "6750", EntityLabel::Gpe),
            span(text, "Koskikatu 25", EntityLabel::Location),
        ];
        let refined = refine(text, spans);
        assert_eq!(pieces(text, &refined), ["6750 Koskikatu 25"]);
        assert_eq!(refined[0].label, EntityLabel::Location);
    }

    #[test]
    fn name_pieces_are_joined() {
        let text = "Ask Christoffer Bertelsen about it.";
        let spans = vec![
            span(text, "Christoffer", EntityLabel::Gpe),
            span(text, "Bertelsen", EntityLabel::Person),
        ];
        let refined = refine(text, spans);
        assert_eq!(pieces(text, &refined), ["Christoffer Bertelsen"]);
        assert_eq!(refined[0].label, EntityLabel::Person);
    }

    #[test]
    fn block_line_splits_postal_code() {
        let text = "Apt. 297\n Sweden 99178";
        let spans = vec![
            span(text, "Apt. 297", EntityLabel::Location),
            span(text, "Sweden 99178", EntityLabel::Location),
        ];
        assert_eq!(
            pieces(text, &refine(text, spans)),
            ["Apt. 297", "Sweden", "99178"]
        );
    }

    #[test]
    fn street_with_number_is_not_split() {
        let text = "Mlynska 1540\nOslo";
        let spans = vec![
            span(text, "Mlynska 1540", EntityLabel::Location),
            span(text, "Oslo", EntityLabel::Gpe),
        ];
        let refined = refine(text, spans);
        assert_eq!(pieces(text, &refined), ["Mlynska 1540", "Oslo"]);
    }

    #[test]
    fn punctuation_keeps_pieces_apart() {
        let text = "Offices in Oslo, Bergen and Acme Ltd.";
        let spans = vec![
            span(text, "Oslo", EntityLabel::Gpe),
            span(text, "Bergen", EntityLabel::Gpe),
            span(text, "Acme Ltd", EntityLabel::Organization),
        ];
        assert_eq!(
            pieces(text, &refine(text, spans)),
            ["Oslo", "Bergen", "Acme Ltd"]
        );
    }

    #[test]
    fn address_inside_a_line_goes_on_over_lines() {
        let text = "Please ship to 12 Main Street\n Suite 4\n Springfield\n Canada 36523? Thanks";
        let spans = vec![
            span(text, "12 Main Street", EntityLabel::Location),
            span(text, "Suite 4", EntityLabel::Location),
            span(text, "Springfield", EntityLabel::Gpe),
            span(text, "Canada 36523", EntityLabel::Location),
        ];
        let refined = refine(text, spans);
        assert_eq!(
            pieces(text, &refined),
            ["12 Main Street\n Suite 4\n Springfield\n Canada 36523"]
        );
        assert_eq!(refined[0].label, EntityLabel::Location);
    }

    #[test]
    fn address_block_keeps_one_span_per_line() {
        let text = "12 Main Street\nSpringfield";
        let spans = vec![
            span(text, "12 Main Street", EntityLabel::Location),
            span(text, "Springfield", EntityLabel::Gpe),
        ];
        assert_eq!(
            pieces(text, &refine(text, spans)),
            ["12 Main Street", "Springfield"]
        );
    }

    #[test]
    fn house_number_line_start_is_block() {
        let text = ">3369 24 Clarke Avenue\n>Apt. 805";
        let spans = vec![
            span(text, "24 Clarke Avenue", EntityLabel::Location),
            span(text, ">Apt. 805", EntityLabel::Location),
        ];
        assert_eq!(
            pieces(text, &refine(text, spans)),
            ["24 Clarke Avenue", "Apt. 805"]
        );
    }

    #[test]
    fn edge_punctuation_is_trimmed() {
        let text = "Go to >Main Square, now; see -Lee.";
        let spans = vec![
            span(text, ">Main Square,", EntityLabel::Location),
            span(text, "-Lee", EntityLabel::Person),
            span(text, ";", EntityLabel::Gpe),
        ];
        assert_eq!(pieces(text, &refine(text, spans)), ["Main Square", "Lee"]);
    }

    #[test]
    fn postal_code_gaps() {
        assert!(joins_address(" "));
        assert!(joins_address(", IL "));
        assert!(joins_address("\nAPO AE "));
        assert!(!joins_address(" and then "));
        assert!(!joins_address("\n\n"));
        assert!(!joins_address(" Order No "));
    }

    #[test]
    fn address_stops_at_a_line_of_other_text() {
        let text = "Ship to 12 Main Street\nThanks, Anna";
        let spans = vec![
            span(text, "12 Main Street", EntityLabel::Location),
            span(text, "Anna", EntityLabel::Person),
        ];
        assert_eq!(
            pieces(text, &refine(text, spans)),
            ["12 Main Street", "Anna"]
        );
    }
}
