//! The confidence of a numeric imputation by the number of predictors its row misses.
//!
//! Held-out rows are complete, so their error measures how well the model predicts from every
//! predictor. A row that needs imputation often misses others too, and the network then
//! predicts from less. The held-out rows are therefore scored again with each predictor hidden
//! alone, and with `k` predictors of each row hidden at random for every `k` from 2 to the
//! number of predictors, or for [`MAX_MEASURED_COUNTS`] of those counts spread over that range
//! when there are more. A row missing one predictor gets the error measured without that
//! predictor, a row missing `k` the error with `k` hidden ([`error_with_missing`]).

use burn::tensor::{Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;

use super::{FeatureSpan, ImputerNetwork, PREDICT_CHUNK_ROWS, read_values};
use crate::Result;
use crate::backend::Device;

/// Largest number of counts of hidden predictors whose error is measured, which bounds the
/// scoring work at this many passes over the held-out rows (plus one per predictor for the
/// errors with one hidden).
pub const MAX_MEASURED_COUNTS: usize = 16;

/// Returns the counts of randomly hidden predictors whose error is measured for `predictors`
/// predictors: every count from 2 to `predictors`, or [`MAX_MEASURED_COUNTS`] counts spread
/// evenly from 2 to `predictors`, both ends included, when there are more.
pub(super) fn measured_counts(predictors: usize) -> Vec<usize> {
    if predictors < 2 {
        return Vec::new();
    }
    let span = predictors - 2;
    if span < MAX_MEASURED_COUNTS {
        return (2..=predictors).collect();
    }
    let steps = MAX_MEASURED_COUNTS - 1;
    let mut counts: Vec<usize> = (0..=steps)
        .map(|step| 2 + (step * span + steps / 2) / steps)
        .collect();
    counts.dedup();
    counts
}

/// Returns the error to expect for a row missing `count` predictors (at least 2), from
/// `measured`: the error with `k` predictors hidden at random at index `k - 2`, `None` where
/// that count was not measured.
///
/// The result is the largest error measured with at most `count` hidden, and with the
/// nearest measured count above `count` where `count` itself was not measured, so a row that
/// misses more predictors never gets a lower error than one that misses fewer, whatever the
/// sampling noise. A model saved when only 2 and 3 were measured gives a row missing more
/// the largest of those two errors. Returns `None` when nothing was measured.
pub(super) fn error_with_missing(measured: &[Option<f64>], count: usize) -> Option<f64> {
    let index = count.checked_sub(2)?;
    let upto = index.min(measured.len().checked_sub(1)?);
    let at_or_below = measured[..=upto].iter().flatten().copied();
    let next_above = if measured[upto].is_none() {
        measured[upto..].iter().flatten().next().copied()
    } else {
        None
    };
    at_or_below.chain(next_above).reduce(f64::max)
}

/// The predictors hidden in every held-out row.
#[derive(Debug, Clone, Copy)]
pub(super) enum Hidden {
    /// The predictor at this index.
    One(usize),
    /// `count` predictors drawn per row with an RNG seeded by `seed`.
    Random { count: usize, seed: u64 },
}

/// Returns the indexes of the predictors that row-major `row` encodes as missing: a numeric
/// predictor with its missing flag set, or a one-hot block with no bit set.
pub(super) fn missing_predictors(row: &[f32], spans: &[FeatureSpan]) -> Vec<usize> {
    spans
        .iter()
        .enumerate()
        .filter(|(_, span)| {
            let features = &row[span.start..span.start + span.width];
            if span.numeric {
                features[1] == 1.0
            } else {
                features.iter().all(|&value| value == 0.0)
            }
        })
        .map(|(index, _)| index)
        .collect()
}

/// Returns the root mean squared error, in standardised target units, of the network on the
/// complete rows `inputs` (row-major, one span of features per predictor) with the `hidden`
/// predictors of each row encoded as missing. `actual` contains the standardised targets.
pub(super) fn rmse_with_hidden(
    network: &ImputerNetwork,
    device: &Device,
    inputs: &[f32],
    actual: &[f32],
    spans: &[FeatureSpan],
    hidden: Hidden,
) -> Result<f64> {
    let width: usize = spans.iter().map(|span| span.width).sum();
    let mut masked = inputs.to_vec();
    let hide = |row: &mut [f32], span: &FeatureSpan| {
        row[span.start..span.start + span.width].fill(0.0);
        if span.numeric {
            row[span.start + 1] = 1.0;
        }
    };
    match hidden {
        Hidden::One(index) => {
            for row in masked.chunks_mut(width) {
                hide(row, &spans[index]);
            }
        }
        Hidden::Random { count, seed } => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for row in masked.chunks_mut(width) {
                for index in sample(&mut rng, spans.len(), count.min(spans.len())) {
                    hide(row, &spans[index]);
                }
            }
        }
    }
    let mut squared = 0.0f64;
    for (chunk, expected) in masked
        .chunks(PREDICT_CHUNK_ROWS * width)
        .zip(actual.chunks(PREDICT_CHUNK_ROWS))
    {
        let rows = chunk.len() / width;
        let input = Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [rows, width]), device);
        let predicted = read_values(network.forward(input))?;
        squared += predicted
            .iter()
            .zip(expected)
            .map(|(&predicted, &expected)| f64::from(predicted - expected).powi(2))
            .sum::<f64>();
    }
    Ok((squared / actual.len().max(1) as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_count_measured_for_few_predictors() {
        assert!(measured_counts(0).is_empty());
        assert!(measured_counts(1).is_empty());
        assert_eq!(measured_counts(2), vec![2]);
        assert_eq!(measured_counts(5), vec![2, 3, 4, 5]);
        assert_eq!(measured_counts(17).len(), 16);
    }

    #[test]
    fn counts_spread_for_many_predictors() {
        let counts = measured_counts(60);
        assert_eq!(counts.len(), MAX_MEASURED_COUNTS);
        assert_eq!(counts.first(), Some(&2));
        assert_eq!(counts.last(), Some(&60));
        assert!(
            counts.windows(2).all(|pair| pair[0] < pair[1]),
            "{counts:?}"
        );
    }

    #[test]
    fn error_never_falls_as_more_predictors_miss() {
        // Sampling noise made the error with 4 hidden lower than with 3.
        let measured = [Some(2.0), Some(3.0), Some(2.5), Some(4.0)];
        assert_eq!(error_with_missing(&measured, 2), Some(2.0));
        assert_eq!(error_with_missing(&measured, 3), Some(3.0));
        assert_eq!(error_with_missing(&measured, 4), Some(3.0));
        assert_eq!(error_with_missing(&measured, 5), Some(4.0));
        // Beyond the measured counts, the largest error measured.
        assert_eq!(error_with_missing(&measured, 9), Some(4.0));
        assert_eq!(error_with_missing(&measured, 1), None);
        assert_eq!(error_with_missing(&[], 3), None);
    }

    #[test]
    fn unmeasured_count_takes_next_measured() {
        let measured = [Some(2.0), None, None, Some(5.0)];
        assert_eq!(error_with_missing(&measured, 3), Some(5.0));
        assert_eq!(error_with_missing(&measured, 4), Some(5.0));
        // A model saved with the errors for 2 and 3 only, the second unmeasured.
        assert_eq!(error_with_missing(&[Some(2.0), None], 3), Some(2.0));
        assert_eq!(error_with_missing(&[Some(2.0), None], 6), Some(2.0));
    }
}
