use super::*;

#[test]
fn same_seed_gives_same_sentences() {
    let first = SentenceGenerator::new(3, Split::Train).sentences(200);
    let second = SentenceGenerator::new(3, Split::Train).sentences(200);
    let other = SentenceGenerator::new(4, Split::Train).sentences(200);
    assert_eq!(first, second);
    assert_ne!(first, other);
}

#[test]
fn splits_use_disjoint_templates() {
    let train = SentenceGenerator::new(1, Split::Train).sentences(500);
    assert!(train.iter().all(|sentence| sentence.template.1 % 5 != 4));
    for split in [Split::HeldOutTemplates, Split::HeldOut] {
        let held_out = SentenceGenerator::new(1, split).sentences(500);
        assert!(held_out.iter().all(|sentence| sentence.template.1 % 5 == 4));
    }
}

#[test]
fn entity_ranges_match_the_text() {
    for sentence in SentenceGenerator::new(9, Split::Train).sentences(2000) {
        let mut previous_end = 0;
        for (range, _) in &sentence.entities {
            assert!(
                range.start >= previous_end,
                "overlap in {:?}",
                sentence.text
            );
            assert!(
                range.start < range.end,
                "empty entity in {:?}",
                sentence.text
            );
            let entity = &sentence.text[range.clone()];
            assert_eq!(
                entity.trim(),
                entity,
                "untrimmed entity in {:?}",
                sentence.text
            );
            previous_end = range.end;
        }
        assert!(
            !sentence.text.contains('{'),
            "unfilled slot in {:?}",
            sentence.text
        );
    }
}

#[test]
fn no_entity_crosses_a_line_break() {
    let sentences = SentenceGenerator::new(11, Split::Train).sentences(3000);
    let mut multi_line_addresses = 0;
    for sentence in &sentences {
        for (range, _) in &sentence.entities {
            assert!(
                !sentence.text[range.clone()].contains('\n'),
                "entity over a line break in {:?}",
                sentence.text
            );
        }
        let lines_with_address = sentence
            .text
            .lines()
            .filter(|line| line.contains("Apt") || line.contains("Suite"))
            .count();
        multi_line_addresses += lines_with_address;
    }
    assert!(multi_line_addresses > 0, "no unit lines were generated");
}

#[test]
fn some_english_sentences_hold_no_entity() {
    let sentences = SentenceGenerator::new(12, Split::Train)
        .with_english_share(1.0)
        .sentences(1000);
    let empty = sentences
        .iter()
        .filter(|sentence| sentence.entities.is_empty())
        .count();
    assert!(
        (50..200).contains(&empty),
        "{empty} of 1000 sentences had no entity"
    );
}

#[test]
fn every_label_and_both_languages_appear() {
    let sentences = SentenceGenerator::new(5, Split::HeldOut).sentences(1000);
    for label in EntityLabel::ALL {
        assert!(
            sentences
                .iter()
                .any(|s| s.entities.iter().any(|(_, l)| *l == label))
        );
    }
    assert!(sentences.iter().any(|s| s.template.0 == Language::English));
    assert!(sentences.iter().any(|s| s.template.0 == Language::Chinese));
}
