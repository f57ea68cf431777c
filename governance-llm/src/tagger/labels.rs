//! Entity labels, BIO tags over tokens, and greedy decoding of tags into spans.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::tokenize::{Token, tokenize};

/// The kind of entity a span names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum EntityLabel {
    /// A person's name (`Jane Smith`, `张伟`). A title before it (`Dr.`) or after it
    /// (`先生`) is not part of the span.
    Person,
    /// A street or postal address: number, street, unit, and the city and postcode when
    /// they are written as part of the address.
    Location,
    /// A geopolitical entity on its own: a city, region or country.
    Gpe,
    /// A company, agency, hospital, school or other organisation.
    Organization,
}

impl EntityLabel {
    /// Every label, in tag order.
    pub const ALL: [EntityLabel; 4] = [
        EntityLabel::Person,
        EntityLabel::Location,
        EntityLabel::Gpe,
        EntityLabel::Organization,
    ];

    /// Returns the label's name as written in tags and JSON, such as `PERSON`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityLabel::Person => "PERSON",
            EntityLabel::Location => "LOCATION",
            EntityLabel::Gpe => "GPE",
            EntityLabel::Organization => "ORGANIZATION",
        }
    }

    fn index(self) -> usize {
        match self {
            EntityLabel::Person => 0,
            EntityLabel::Location => 1,
            EntityLabel::Gpe => 2,
            EntityLabel::Organization => 3,
        }
    }
}

impl fmt::Display for EntityLabel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A BIO tag of one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// Outside any entity.
    Outside,
    /// The first token of an entity.
    Begin(EntityLabel),
    /// A later token of an entity.
    Inside(EntityLabel),
}

/// Number of distinct tags: `O` plus `B-` and `I-` for each label.
pub const TAG_COUNT: usize = 1 + 2 * EntityLabel::ALL.len();

impl Tag {
    /// Returns the tag's class index in `0..TAG_COUNT`: 0 for `O`, then `B-`, `I-` per label.
    pub fn index(self) -> usize {
        match self {
            Tag::Outside => 0,
            Tag::Begin(label) => 1 + 2 * label.index(),
            Tag::Inside(label) => 2 + 2 * label.index(),
        }
    }

    /// Returns the tag of a class index; `None` outside `0..TAG_COUNT`.
    pub fn from_index(index: usize) -> Option<Tag> {
        if index == 0 {
            return Some(Tag::Outside);
        }
        let label = *EntityLabel::ALL.get((index - 1) / 2)?;
        Some(if index % 2 == 1 {
            Tag::Begin(label)
        } else {
            Tag::Inside(label)
        })
    }
}

/// An entity found in a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntitySpan {
    /// Byte range in the text, on `char` boundaries.
    pub start: usize,
    /// End of the byte range, exclusive.
    pub end: usize,
    /// The kind of entity.
    pub label: EntityLabel,
    /// Mean probability the model gave to the tags of the span's tokens, in `(0, 1]`.
    pub score: f32,
    /// The span's tokens in order, each with the probability the model gave to its tag.
    /// Empty for a span made without the tagger.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<TokenScore>,
}

/// One token of an [`EntitySpan`] and the tagger's score for it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TokenScore {
    /// Byte offset of the token in the text.
    pub start: usize,
    /// End of the token's byte range, exclusive.
    pub end: usize,
    /// Probability the model gave to the token's tag, which names the span's label when the
    /// tagger decodes the span. `None` for a token that a rule added to the span and the
    /// tagger did not tag.
    ///
    /// NOTE: a rule that joins pieces of different labels (a place and a person) keeps each
    /// token's probability for its own tag, not for the joined label.
    pub score: Option<f32>,
}

impl TokenScore {
    /// Returns the byte range of the token.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

impl EntitySpan {
    /// Returns the byte range of the span.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// Returns the tokens of `range` in `text`, in order. A token of `scored` (sorted by start)
/// that overlaps the range keeps its score, clipped to the range. Each other token in the
/// range is a rule-added token with no score.
pub fn token_scores_in(text: &str, range: Range<usize>, scored: &[TokenScore]) -> Vec<TokenScore> {
    let mut tokens = Vec::new();
    let mut covered_to = range.start;
    let add_unscored = |tokens: &mut Vec<TokenScore>, gap: Range<usize>| {
        let Some(piece) = text.get(gap.clone()) else {
            return;
        };
        tokens.extend(tokenize(piece).into_iter().map(|token| TokenScore {
            start: gap.start + token.span.start,
            end: gap.start + token.span.end,
            score: None,
        }));
    };
    let first = scored.partition_point(|token| token.end <= range.start);
    for token in scored[first..]
        .iter()
        .take_while(|token| token.start < range.end)
    {
        let start = token.start.max(range.start);
        let end = token.end.min(range.end);
        if start >= end || start < covered_to {
            continue;
        }
        add_unscored(&mut tokens, covered_to..start);
        tokens.push(TokenScore {
            start,
            end,
            ..*token
        });
        covered_to = end;
    }
    add_unscored(&mut tokens, covered_to..range.end);
    tokens
}

/// Assigns BIO tags to `tokens` from entity byte ranges. A token belongs to an entity when
/// it lies inside the range. Entities should not overlap: a later one that overlaps an
/// earlier one is skipped.
pub fn tags_from_spans(tokens: &[Token], spans: &[(Range<usize>, EntityLabel)]) -> Vec<Tag> {
    let mut tags = vec![Tag::Outside; tokens.len()];
    for (range, label) in spans {
        let inside: Vec<usize> = tokens
            .iter()
            .enumerate()
            .filter(|(_, token)| token.span.start >= range.start && token.span.end <= range.end)
            .map(|(index, _)| index)
            .collect();
        if inside.iter().any(|&index| tags[index] != Tag::Outside) {
            continue;
        }
        for (position, &index) in inside.iter().enumerate() {
            tags[index] = if position == 0 {
                Tag::Begin(*label)
            } else {
                Tag::Inside(*label)
            };
        }
    }
    tags
}

/// Decodes per-token tags and their probabilities into spans, greedily from left to right.
///
/// A span starts at `B-X`, or at an `I-X` that does not continue an `X` span (the model's
/// common slip), and grows while the next tokens are `I-X` on the same line. Its score is the
/// mean of its tokens' probabilities, and each token keeps its own in [`EntitySpan::tokens`].
pub fn decode_tags(tokens: &[Token], tags: &[Tag], probabilities: &[f32]) -> Vec<EntitySpan> {
    let mut spans = Vec::new();
    let mut current: Option<(EntityLabel, usize, usize, f32)> = None;
    let mut close = |current: &mut Option<(EntityLabel, usize, usize, f32)>| {
        if let Some((label, first, last, sum)) = current.take() {
            let token_scores = (first..=last)
                .map(|index| TokenScore {
                    start: tokens[index].span.start,
                    end: tokens[index].span.end,
                    score: probabilities.get(index).copied(),
                })
                .collect();
            spans.push(EntitySpan {
                start: tokens[first].span.start,
                end: tokens[last].span.end,
                label,
                score: sum / (last - first + 1) as f32,
                tokens: token_scores,
            });
        }
    };
    for (index, (&tag, &probability)) in tags.iter().zip(probabilities).enumerate() {
        // An entity never crosses a line break: an address written over several lines is
        // one span per line, so that each line can be masked on its own.
        if tokens.get(index).is_some_and(|token| token.after_newline) {
            close(&mut current);
        }
        match tag {
            Tag::Outside => close(&mut current),
            Tag::Inside(label) if current.is_some_and(|(open, ..)| open == label) => {
                if let Some((_, _, last, sum)) = current.as_mut() {
                    *last = index;
                    *sum += probability;
                }
            }
            Tag::Begin(label) | Tag::Inside(label) => {
                close(&mut current);
                current = Some((label, index, index, probability));
            }
        }
    }
    close(&mut current);
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tagger::tokenize::tokenize;

    #[test]
    fn tag_indices_round_trip() {
        for index in 0..TAG_COUNT {
            let tag = Tag::from_index(index).expect("index in range");
            assert_eq!(tag.index(), index);
        }
        assert_eq!(Tag::from_index(TAG_COUNT), None);
    }

    #[test]
    fn spans_become_tags_and_back() {
        let text = "Ann Lee met 王芳 in Paris";
        let tokens = tokenize(text);
        let person_end = "Ann Lee".len();
        let chinese = text.find("王芳").expect("name");
        let paris = text.find("Paris").expect("city");
        let gold = vec![
            (0..person_end, EntityLabel::Person),
            (chinese..chinese + "王芳".len(), EntityLabel::Person),
            (paris..text.len(), EntityLabel::Gpe),
        ];
        let tags = tags_from_spans(&tokens, &gold);
        assert_eq!(tags[0], Tag::Begin(EntityLabel::Person));
        assert_eq!(tags[1], Tag::Inside(EntityLabel::Person));
        assert_eq!(tags[2], Tag::Outside);
        let probabilities = vec![0.5; tokens.len()];
        let spans = decode_tags(&tokens, &tags, &probabilities);
        let decoded: Vec<(Range<usize>, EntityLabel)> = spans
            .iter()
            .map(|span| (span.range(), span.label))
            .collect();
        assert_eq!(decoded, gold);
        assert!(spans.iter().all(|span| span.score == 0.5));
    }

    #[test]
    fn stray_inside_tag_starts_a_span() {
        let tokens = tokenize("a b c d");
        let person = EntityLabel::Person;
        let tags = [
            Tag::Inside(person),
            Tag::Inside(person),
            Tag::Inside(EntityLabel::Gpe),
            Tag::Begin(person),
        ];
        let spans = decode_tags(&tokens, &tags, &[1.0, 0.5, 1.0, 1.0]);
        let ranges: Vec<Range<usize>> = spans.iter().map(EntitySpan::range).collect();
        assert_eq!(ranges, [0..3, 4..5, 6..7]);
        assert_eq!(spans[0].score, 0.75);
        assert_eq!(spans[1].label, EntityLabel::Gpe);
    }

    #[test]
    fn decoded_span_keeps_token_scores() {
        let text = "see Ann Marie Lee now";
        let tokens = tokenize(text);
        let person = EntityLabel::Person;
        let tags = [
            Tag::Outside,
            Tag::Begin(person),
            Tag::Inside(person),
            Tag::Inside(person),
            Tag::Outside,
        ];
        let spans = decode_tags(&tokens, &tags, &[0.99, 0.9, 0.6, 0.75, 0.98]);
        assert_eq!(spans.len(), 1);
        let words: Vec<&str> = spans[0].tokens.iter().map(|t| &text[t.range()]).collect();
        assert_eq!(words, ["Ann", "Marie", "Lee"]);
        let scores: Vec<Option<f32>> = spans[0].tokens.iter().map(|t| t.score).collect();
        assert_eq!(scores, [Some(0.9), Some(0.6), Some(0.75)]);
    }

    #[test]
    fn token_scores_mark_untagged_tokens() {
        let text = "corner of Elm Street and Oak Road";
        let elm = text.find("Elm").expect("street");
        let scored = [
            TokenScore {
                start: elm,
                end: elm + 3,
                score: Some(0.8),
            },
            TokenScore {
                start: elm + 4,
                end: elm + 10,
                score: Some(0.7),
            },
        ];
        let tokens = token_scores_in(text, elm..text.len(), &scored);
        let words: Vec<&str> = tokens.iter().map(|t| &text[t.range()]).collect();
        assert_eq!(words, ["Elm", "Street", "and", "Oak", "Road"]);
        let scores: Vec<Option<f32>> = tokens.iter().map(|t| t.score).collect();
        assert_eq!(scores, [Some(0.8), Some(0.7), None, None, None]);
        let inner = token_scores_in(text, elm + 4..elm + 10, &scored);
        assert_eq!(inner, [scored[1]]);
    }

    #[test]
    fn adjacent_begin_tags_split_spans() {
        let tokens = tokenize("Ann Bob");
        let tags = [
            Tag::Begin(EntityLabel::Person),
            Tag::Begin(EntityLabel::Person),
        ];
        let spans = decode_tags(&tokens, &tags, &[0.9, 0.9]);
        assert_eq!(spans.len(), 2);
    }

    #[test]
    fn decoding_ends_span_at_line_break() {
        let text = "12 Elm Road
Apt 4";
        let tokens = tokenize(text);
        let location = EntityLabel::Location;
        let mut tags = vec![Tag::Inside(location); tokens.len()];
        tags[0] = Tag::Begin(location);
        let spans = decode_tags(&tokens, &tags, &vec![0.9; tokens.len()]);
        let pieces: Vec<&str> = spans.iter().map(|span| &text[span.range()]).collect();
        assert_eq!(pieces, ["12 Elm Road", "Apt 4"]);
    }
}
