//! Adjusting the shared model to the error rate of the column it scores.
//!
//! The model shared by all columns learns the error rate of its whole training set along with
//! the features. It therefore scores a column where every labelled cell is an error as if that
//! column were as clean as the rest. By Bayes' rule, when only the prior changes, a posterior's
//! odds scale with the prior odds, so each probability's odds are multiplied by the column's
//! prior odds over the training prior odds.

/// Returns the error rate of a column's labelled cells, smoothed with one error and one
/// correct cell as prior (Laplace's rule), so that a few labels move it only part of the way.
pub(super) fn column_rate(errors: usize, labelled: usize) -> f64 {
    (errors as f64 + 1.0) / (labelled as f64 + 2.0)
}

/// Returns the weighted share of errors among training labels, or `None` without labels.
pub(super) fn training_rate(is_error: &[bool], weights: &[f32]) -> Option<f64> {
    let total: f64 = weights.iter().map(|&weight| f64::from(weight)).sum();
    if total <= 0.0 {
        return None;
    }
    let errors: f64 = is_error
        .iter()
        .zip(weights)
        .filter(|(is_error, _)| **is_error)
        .map(|(_, &weight)| f64::from(weight))
        .sum();
    Some(errors / total)
}

/// Moves every probability from a model trained at error rate `trained` to error rate
/// `target`. Nothing changes unless both rates lie strictly between 0 and 1.
pub(super) fn shift(probabilities: &mut [f32], trained: f64, target: f64) {
    let open = |rate: f64| rate > 0.0 && rate < 1.0;
    if !(open(trained) && open(target)) {
        return;
    }
    let ratio = (target / (1.0 - target)) / (trained / (1.0 - trained));
    for probability in probabilities.iter_mut() {
        let p = f64::from(*probability).clamp(1e-6, 1.0 - 1e-6);
        let odds = ratio * p / (1.0 - p);
        *probability = (odds / (1.0 + odds)) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_to_same_rate_keeps_probabilities() {
        let mut probabilities = vec![0.1, 0.5, 0.9];
        shift(&mut probabilities, 0.2, 0.2);
        for (shifted, original) in probabilities.iter().zip([0.1, 0.5, 0.9]) {
            assert!((shifted - original).abs() < 1e-5, "{shifted} vs {original}");
        }
    }

    #[test]
    fn shift_to_higher_rate_raises_probabilities() {
        let mut probabilities = vec![0.1, 0.5];
        shift(&mut probabilities, 0.1, column_rate(20, 20));
        assert!(probabilities[0] > 0.5, "{}", probabilities[0]);
        assert!(probabilities[1] > 0.99, "{}", probabilities[1]);
    }

    #[test]
    fn shift_to_lower_rate_lowers_probabilities() {
        let mut probabilities = vec![0.6];
        shift(&mut probabilities, 0.3, column_rate(0, 20));
        assert!(probabilities[0] < 0.2, "{}", probabilities[0]);
    }

    #[test]
    fn shift_without_valid_rates_changes_nothing() {
        let mut probabilities = vec![0.4];
        shift(&mut probabilities, 0.0, 0.5);
        shift(&mut probabilities, 0.5, 1.0);
        assert_eq!(probabilities, vec![0.4]);
    }

    #[test]
    fn training_rate_weighs_labels() {
        let rate = training_rate(&[true, false, false], &[1.0, 0.5, 0.5]);
        assert_eq!(rate, Some(0.5));
        assert_eq!(training_rate(&[], &[]), None);
    }

    #[test]
    fn column_rate_smooths_toward_half() {
        assert_eq!(column_rate(0, 0), 0.5);
        assert!((column_rate(20, 20) - 21.0 / 22.0).abs() < 1e-12);
    }
}
