//! The confidence of a numeric imputation by the number of predictors its row misses.
//!
//! Held-out rows are complete, so their error measures how well the model predicts from every
//! predictor. A row that needs imputation often misses others too, and the network then
//! predicts from less. The held-out rows are therefore scored again with each predictor hidden
//! alone, and with `k` predictors hidden at random for `k` from 2 to [`MEASURED_MISSING`]. A
//! row missing one predictor gets the error measured without that predictor, a row missing
//! `k` the error with `k` hidden.

use burn::tensor::{Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;

use super::{FeatureSpan, ImputerNetwork, PREDICT_CHUNK_ROWS, read_values};
use crate::Result;
use crate::backend::Device;

/// Largest number of hidden predictors whose error is measured. A row missing more is given
/// the error measured with this many hidden.
// NOTE: so a row missing more than this many predictors still gets an optimistic confidence.
pub const MEASURED_MISSING: usize = 3;

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
