//! Tuning a score threshold from labels: the update step that feedback drives for any model
//! that flags items whose score is above a threshold.

/// A labelled item: its score and whether it really is positive (an anomaly, an error).
pub type LabelledScore = (f32, bool);

/// Returns the F1 score of flagging the items with score above `threshold`. With no positives
/// and no flags among the labels there is nothing to get wrong, so the score is 1.
pub fn f1_at(labels: &[LabelledScore], threshold: f32) -> f64 {
    let (mut true_positives, mut false_positives, mut false_negatives) = (0.0, 0.0, 0.0);
    for &(score, positive) in labels {
        match (score > threshold, positive) {
            (true, true) => true_positives += 1.0,
            (true, false) => false_positives += 1.0,
            (false, true) => false_negatives += 1.0,
            (false, false) => {}
        }
    }
    let denominator = 2.0 * true_positives + false_positives + false_negatives;
    if denominator == 0.0 {
        1.0
    } else {
        2.0 * true_positives / denominator
    }
}

/// Chooses the threshold with the best F1 on `labels` and returns it with that F1.
///
/// Among equal F1 it takes the candidate closest to `current`, so the threshold moves only as
/// far as the labels require. The candidates are `current`, each labelled score (flagging the
/// scores above it), and the largest value below the lowest labelled score (flagging every
/// labelled item). With no labels it returns `current`.
pub fn best_f1_threshold(labels: &[LabelledScore], current: f32) -> (f32, f64) {
    let mut candidates: Vec<f32> = labels.iter().map(|&(score, _)| score).collect();
    if let Some(lowest) = candidates.iter().copied().min_by(f32::total_cmp) {
        candidates.push(next_below(lowest));
    }

    let mut best = (current, f1_at(labels, current));
    for candidate in candidates {
        let f1 = f1_at(labels, candidate);
        let closer = (candidate - current).abs() < (best.0 - current).abs();
        if f1 > best.1 + 1e-12 || ((f1 - best.1).abs() <= 1e-12 && closer) {
            best = (candidate, f1);
        }
    }
    best
}

/// Returns the largest `f32` below `value`, or 0 when `value` is not positive, because scores
/// and thresholds are never negative.
fn next_below(value: f32) -> f32 {
    if value <= 0.0 {
        0.0
    } else {
        f32::from_bits(value.to_bits() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_flag_raises_threshold_to_its_score() {
        let (threshold, f1) = best_f1_threshold(&[(3.0, false)], 1.0);
        assert_eq!(threshold, 3.0);
        assert_eq!(f1, 1.0);
    }

    #[test]
    fn missed_positive_lowers_threshold_below_its_score() {
        let (threshold, f1) = best_f1_threshold(&[(0.8, true), (2.0, true)], 1.0);
        assert!(threshold < 0.8, "threshold {threshold}");
        assert!(
            threshold > 0.79,
            "threshold {threshold} moved further than needed"
        );
        assert_eq!(f1, 1.0);
    }

    #[test]
    fn mixed_labels_pick_separating_score() {
        let labels = [(0.5, false), (1.5, false), (2.5, true), (4.0, true)];
        let (threshold, f1) = best_f1_threshold(&labels, 1.0);
        assert_eq!(threshold, 1.5);
        assert_eq!(f1, 1.0);
        assert!(f1_at(&labels, 1.0) < 1.0);
    }

    #[test]
    fn no_labels_keep_current_threshold() {
        assert_eq!(best_f1_threshold(&[], 1.25), (1.25, 1.0));
    }

    #[test]
    fn f1_counts_flags_above_threshold() {
        let labels = [(2.0, true), (2.0, false), (0.5, true)];
        // One true positive, one false positive, one false negative.
        assert_eq!(f1_at(&labels, 1.0), 0.5);
    }
}
