//! Span-level, type-agnostic scoring: a prediction matches a gold span when their
//! intersection over union, in characters, is at least 0.5. Gold spans are taken in order and
//! each matches at most one prediction (the first unmatched one that qualifies).

use std::collections::BTreeMap;
use std::ops::Range;

use crate::dataset::Sentence;

/// Minimum intersection over union for a match.
const MIN_IOU: f64 = 0.5;

/// One predicted span in characters, with its kind and whether a validator confirmed it.
#[derive(Debug, Clone)]
pub struct Predicted {
    pub span: Range<usize>,
    pub validated: bool,
    /// The detector's name for the kind, such as `person` or Presidio's `PERSON`.
    pub kind: String,
}

/// Gold types whose values have a validator (check digit, checksum, address syntax). Their
/// precision and recall are reported apart from the rest.
const VALIDATED_TYPES: &[&str] = &[
    "EMAIL_ADDRESS",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "US_SSN",
    "CN_RESIDENT_ID",
    "CN_SOCIAL_CREDIT_CODE",
];

/// Counts over a whole set.
#[derive(Debug, Default, Clone)]
pub struct Score {
    pub gold: usize,
    pub predicted: usize,
    pub matched: usize,
    /// Per gold type: (matched, total).
    pub per_type: BTreeMap<String, (usize, usize)>,
    /// Gold spans of validated types, and how many of them were matched.
    pub validated_gold: usize,
    pub validated_gold_matched: usize,
    /// Predictions a validator confirmed, and how many of them match a gold span.
    pub validated_predicted: usize,
    pub validated_predicted_matched: usize,
    /// Labelled spans no prediction matched, as (type, text).
    pub missed: Vec<(String, String)>,
    /// Predictions that matched no labelled span, as (kind, text).
    pub spurious: Vec<(String, String)>,
    /// Per predicted kind: (predictions matching a labelled span, predictions).
    pub per_predicted_kind: BTreeMap<String, (usize, usize)>,
}

/// Returns the characters `span` of `text`.
fn char_slice(text: &str, span: &Range<usize>) -> String {
    text.chars().skip(span.start).take(span.len()).collect()
}

fn iou(a: &Range<usize>, b: &Range<usize>) -> f64 {
    let intersection = a.end.min(b.end).saturating_sub(a.start.max(b.start));
    let union = a.len() + b.len() - intersection;
    if union == 0 {
        return 0.0;
    }
    intersection as f64 / union as f64
}

impl Score {
    /// Adds one sentence's predictions.
    pub fn add(&mut self, sentence: &Sentence, predictions: &[Predicted]) {
        self.gold += sentence.spans.len();
        self.predicted += predictions.len();
        let mut used = vec![false; predictions.len()];
        for gold in &sentence.spans {
            let gold_span = gold.start_position..gold.end_position;
            let validated_type = VALIDATED_TYPES.contains(&gold.entity_type.as_str());
            let hit = predictions
                .iter()
                .enumerate()
                .find(|(index, p)| !used[*index] && iou(&p.span, &gold_span) >= MIN_IOU)
                .map(|(index, _)| index);
            let entry = self.per_type.entry(gold.entity_type.clone()).or_default();
            entry.1 += 1;
            if validated_type {
                self.validated_gold += 1;
            }
            if hit.is_none() {
                self.missed.push((
                    gold.entity_type.clone(),
                    char_slice(&sentence.full_text, &gold_span),
                ));
            }
            if let Some(index) = hit {
                used[index] = true;
                self.matched += 1;
                entry.0 += 1;
                if validated_type {
                    self.validated_gold_matched += 1;
                }
            }
        }
        for (index, prediction) in predictions.iter().enumerate() {
            let entry = self
                .per_predicted_kind
                .entry(prediction.kind.clone())
                .or_default();
            entry.1 += 1;
            if used[index] {
                entry.0 += 1;
            } else {
                self.spurious.push((
                    prediction.kind.clone(),
                    char_slice(&sentence.full_text, &prediction.span),
                ));
            }
            if prediction.validated {
                self.validated_predicted += 1;
                if used[index] {
                    self.validated_predicted_matched += 1;
                }
            }
        }
    }

    pub fn precision(&self) -> f64 {
        ratio(self.matched, self.predicted)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.matched, self.gold)
    }

    /// F-beta with beta 2: recall weighs four times as much as precision in the harmonic
    /// mean, as presidio-research reports it.
    pub fn f2(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            return 0.0;
        }
        5.0 * p * r / (4.0 * p + r)
    }
}

/// Returns `part / whole`, or 1 when `whole` is 0 (nothing to find, nothing wrong).
pub fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::GoldSpan;

    fn sentence(spans: &[(usize, usize)]) -> Sentence {
        Sentence {
            full_text: "x".repeat(100),
            spans: spans
                .iter()
                .map(|&(start, end)| GoldSpan {
                    entity_type: "PERSON".into(),
                    start_position: start,
                    end_position: end,
                })
                .collect(),
        }
    }

    fn predicted(start: usize, end: usize) -> Predicted {
        Predicted {
            span: start..end,
            validated: false,
            kind: "person".into(),
        }
    }

    #[test]
    fn half_overlap_matches() {
        let mut score = Score::default();
        score.add(&sentence(&[(0, 10)]), &[predicted(0, 5)]);
        assert_eq!(score.matched, 1);
    }

    #[test]
    fn small_overlap_misses() {
        let mut score = Score::default();
        score.add(&sentence(&[(0, 10)]), &[predicted(0, 4)]);
        assert_eq!(score.matched, 0);
        assert_eq!(score.precision(), 0.0);
    }

    #[test]
    fn one_prediction_matches_one_gold_span() {
        let mut score = Score::default();
        score.add(&sentence(&[(0, 10), (0, 9)]), &[predicted(0, 10)]);
        assert_eq!(score.matched, 1);
        assert_eq!(score.recall(), 0.5);
    }

    #[test]
    fn f2_weighs_recall() {
        let mut score = Score::default();
        score.add(&sentence(&[(0, 10), (20, 30)]), &[predicted(0, 10)]);
        // P = 1, R = 0.5: F2 = 5 * 0.5 / (4 + 0.5).
        assert!((score.f2() - 2.5 / 4.5).abs() < 1e-12);
    }
}
