use super::*;
use crate::detect::span_over as span;

fn pieces(text: &str, spans: &[EntitySpan]) -> Vec<String> {
    spans
        .iter()
        .map(|span| text[span.range()].to_string())
        .collect()
}

/// Returns a span over `piece` whose tokens are its space-separated words, scored in
/// order from `scores`.
fn scored_span(text: &str, piece: &str, label: EntityLabel, scores: &[f32]) -> EntitySpan {
    let start = text.find(piece).expect("piece in text");
    let mut tokens = Vec::new();
    let mut offset = start;
    for (word, &score) in piece.split(' ').zip(scores) {
        tokens.push(TokenScore {
            start: offset,
            end: offset + word.len(),
            score: Some(score),
        });
        offset += word.len() + 1;
    }
    EntitySpan {
        tokens,
        ..span(text, piece, label)
    }
}

/// Runs the rules as the detector does and returns each span's token scores.
fn refine_scored(text: &str, mut spans: Vec<EntitySpan>) -> Vec<Vec<Option<f32>>> {
    let scored = take_token_scores(&mut spans);
    refine(text, spans)
        .iter()
        .map(|span| {
            token_scores_in(text, span.range(), &scored)
                .iter()
                .map(|token| token.score)
                .collect()
        })
        .collect()
}

#[test]
fn joined_span_keeps_both_scores() {
    let text = "Ask Mikkel Thorvaldsen about it.";
    let spans = vec![
        scored_span(text, "Mikkel", EntityLabel::Gpe, &[0.55]),
        scored_span(text, "Thorvaldsen", EntityLabel::Person, &[0.91]),
    ];
    assert_eq!(refine_scored(text, spans), [vec![Some(0.55), Some(0.91)]]);
}

#[test]
fn split_span_divides_scores() {
    let text = "Drop-off at 61204 Tallgata 29 today";
    let spans = vec![scored_span(
        text,
        "61204 Tallgata 29",
        EntityLabel::Location,
        &[0.6, 0.8, 0.7],
    )];
    assert_eq!(
        refine_scored(text, spans),
        [vec![Some(0.6)], vec![Some(0.8), Some(0.7)]]
    );
}

#[test]
fn corner_rule_marks_added_words() {
    let text = "meet at the corner of elm street and ninth avenue, ok?";
    let spans = vec![scored_span(
        text,
        "elm street",
        EntityLabel::Location,
        &[0.7, 0.9],
    )];
    assert_eq!(
        refine_scored(text, spans),
        [vec![Some(0.7), Some(0.9), None, None, None]]
    );
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
fn lower_case_words_dropped_in_cased_text() {
    let text = "A brilliant piece of chamber folk, Ines said.";
    let spans = vec![
        span(text, "chamber folk", EntityLabel::Gpe),
        span(text, "Ines", EntityLabel::Person),
    ];
    assert_eq!(pieces(text, &refine(text, spans)), ["Ines"]);
}

#[test]
fn leading_pronoun_is_cut() {
    let text = "He just met She Lin and Ivo Dee.";
    let spans = vec![
        span(text, "He just", EntityLabel::Person),
        span(text, "She Lin", EntityLabel::Person),
        span(text, "Ivo Dee", EntityLabel::Person),
    ];
    assert_eq!(pieces(text, &refine(text, spans)), ["Lin", "Ivo Dee"]);
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
    let text = "i live in brackton now";
    let spans = vec![span(text, "brackton", EntityLabel::Gpe)];
    assert_eq!(pieces(text, &refine(text, spans)), ["brackton"]);
}

#[test]
fn pieces_on_one_line_are_joined() {
    let text = "Visit Puebla de la Vega today.";
    let spans = vec![
        span(text, "Puebla", EntityLabel::Gpe),
        span(text, "de la", EntityLabel::Gpe),
        span(text, "Vega", EntityLabel::Gpe),
    ];
    let refined = refine(text, spans);
    assert_eq!(pieces(text, &refined), ["Puebla de la Vega"]);
    assert_eq!(refined[0].label, EntityLabel::Gpe);
}

#[test]
fn house_number_joins_street_as_address() {
    let text = "Send it to 4411 Rantakatu please.";
    let spans = vec![
        span(text, "4411", EntityLabel::Gpe),
        span(text, "Rantakatu", EntityLabel::Location),
    ];
    let refined = refine(text, spans);
    assert_eq!(pieces(text, &refined), ["4411 Rantakatu"]);
    assert_eq!(refined[0].label, EntityLabel::Location);
}

#[test]
fn name_pieces_are_joined() {
    let text = "Ask Mikkel Thorvaldsen about it.";
    let spans = vec![
        span(text, "Mikkel", EntityLabel::Gpe),
        span(text, "Thorvaldsen", EntityLabel::Person),
    ];
    let refined = refine(text, spans);
    assert_eq!(pieces(text, &refined), ["Mikkel Thorvaldsen"]);
    assert_eq!(refined[0].label, EntityLabel::Person);
}

#[test]
fn block_line_splits_postal_code() {
    let text = "Apt. 412\n Norway 40217";
    let spans = vec![
        span(text, "Apt. 412", EntityLabel::Location),
        span(text, "Norway 40217", EntityLabel::Location),
    ];
    assert_eq!(
        pieces(text, &refine(text, spans)),
        ["Apt. 412", "Norway", "40217"]
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
    let text = "Please ship to 12 Main Street\n Suite 4\n Springfield\n Canada 58120? Thanks";
    let spans = vec![
        span(text, "12 Main Street", EntityLabel::Location),
        span(text, "Suite 4", EntityLabel::Location),
        span(text, "Springfield", EntityLabel::Gpe),
        span(text, "Canada 58120", EntityLabel::Location),
    ];
    let refined = refine(text, spans);
    assert_eq!(
        pieces(text, &refined),
        ["12 Main Street\n Suite 4\n Springfield\n Canada 58120"]
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
    let text = ">5120 18 Harlow Avenue\n>Apt. 63";
    let spans = vec![
        span(text, "18 Harlow Avenue", EntityLabel::Location),
        span(text, ">Apt. 63", EntityLabel::Location),
    ];
    assert_eq!(
        pieces(text, &refine(text, spans)),
        ["5120", "18 Harlow Avenue", "Apt. 63"]
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
fn street_corner_is_one_address() {
    let text = "Crash at the corner of Lindgata 4. and Oswin Mill today";
    let spans = vec![
        span(text, "Lindgata 4", EntityLabel::Location),
        span(text, "Oswin", EntityLabel::Person),
    ];
    let refined = refine(text, spans);
    assert_eq!(pieces(text, &refined), ["Lindgata 4. and Oswin Mill"]);
    assert_eq!(refined[0].label, EntityLabel::Location);
}

#[test]
fn street_corner_takes_untagged_second_street() {
    let text = "meet at the corner of elm street and ninth avenue, ok?";
    let spans = vec![span(text, "elm street", EntityLabel::Location)];
    assert_eq!(
        pieces(text, &refine(text, spans)),
        ["elm street and ninth avenue"]
    );
}

#[test]
fn address_without_corner_keeps_its_end() {
    let text = "Ship to 4 Elm Street and call Ann.";
    let spans = vec![
        span(text, "4 Elm Street", EntityLabel::Location),
        span(text, "Ann", EntityLabel::Person),
    ];
    assert_eq!(pieces(text, &refine(text, spans)), ["4 Elm Street", "Ann"]);
}

#[test]
fn second_house_number_splits_the_first() {
    let text = "Drop-off at 61204 Tallgata 29 St. and 5120 18 Harlow Avenue.";
    let spans = vec![
        span(text, "61204 Tallgata 29", EntityLabel::Location),
        span(text, "5120 18 Harlow Avenue", EntityLabel::Location),
    ];
    assert_eq!(
        pieces(text, &refine(text, spans)),
        ["61204", "Tallgata 29", "5120", "18 Harlow Avenue"]
    );
}

#[test]
fn number_before_address_is_taken_in() {
    let text = "Drop-off at 7302 ul. Lipowa 61 St. or 12 Main Street, see 7-44 Elm Road.";
    let spans = vec![
        span(text, "ul. Lipowa 61", EntityLabel::Location),
        span(text, "Main Street", EntityLabel::Location),
        span(text, "Elm Road", EntityLabel::Location),
    ];
    assert_eq!(
        pieces(text, &refine(text, spans)),
        ["7302", "ul. Lipowa 61", "12 Main Street", "Elm Road"]
    );
}

#[test]
fn street_suffix_after_house_number_still_splits() {
    let text = "The bus stops at 52817 Korsgatan 12 St. and 12 Main St.";
    let spans = vec![
        span(text, "52817 Korsgatan 12 St", EntityLabel::Location),
        span(text, "12 Main St", EntityLabel::Location),
    ];
    assert_eq!(
        pieces(text, &refine(text, spans)),
        ["52817", "Korsgatan 12 St", "12 Main St"]
    );
}

#[test]
fn region_code_line_joins_address() {
    let text = "Meet me at 4410 Pine Road\nDunmore\n, xq\n 45122";
    let spans = vec![
        span(text, "4410 Pine Road", EntityLabel::Location),
        span(text, "Dunmore", EntityLabel::Gpe),
        span(text, "45122", EntityLabel::Location),
    ];
    assert_eq!(
        pieces(text, &refine(text, spans)),
        ["4410 Pine Road\nDunmore\n, xq\n 45122"]
    );
}

#[test]
fn address_with_unit_is_not_split() {
    let text = "Ship to 4410 Tallgata 29 Apt. 5 today";
    let spans = vec![span(text, "4410 Tallgata 29 Apt. 5", EntityLabel::Location)];
    assert_eq!(
        pieces(text, &refine(text, spans)),
        ["4410 Tallgata 29 Apt. 5"]
    );
}

#[test]
fn one_house_number_is_not_split() {
    let text = "Ship to 12 Main Street, 100 West 23rd Street or 7 Elm Road.";
    let spans = vec![
        span(text, "12 Main Street", EntityLabel::Location),
        span(text, "100 West 23rd Street", EntityLabel::Location),
        span(text, "7 Elm Road", EntityLabel::Location),
    ];
    assert_eq!(
        pieces(text, &refine(text, spans)),
        ["12 Main Street", "100 West 23rd Street", "7 Elm Road"]
    );
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
