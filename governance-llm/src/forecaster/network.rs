//! The forecaster's burn module and its pinball loss.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;
use burn::tensor::activation::{relu, softplus};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::backend::Device;
use crate::cell_classifier::seeded_linear;

/// A perceptron with ReLU hidden layers and three outputs: the median and the distances from
/// it to the lower and upper quantile. The distances go through softplus, so the quantiles
/// never cross.
#[derive(Module, Debug)]
pub struct ForecastNetwork {
    layers: Vec<Linear>,
    output: Linear,
}

impl ForecastNetwork {
    /// Creates a network for `inputs` features with the given hidden widths, with weights
    /// drawn uniformly from `±1/sqrt(fan_in)` by a ChaCha RNG seeded with `seed`.
    pub fn new(inputs: usize, hidden: &[usize], seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut layers = Vec::with_capacity(hidden.len());
        let mut width = inputs;
        for &next in hidden {
            layers.push(seeded_linear(width, next, &mut rng, device));
            width = next;
        }
        let output = seeded_linear(width, 3, &mut rng, device);
        ForecastNetwork { layers, output }
    }

    /// Maps feature rows `[rows, features]` to `[rows, 3]`: lower quantile, median and upper
    /// quantile, in model units.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let mut hidden = input;
        for layer in &self.layers {
            hidden = relu(layer.forward(hidden));
        }
        let raw = self.output.forward(hidden);
        let median = raw.clone().narrow(1, 0, 1);
        let below = softplus(raw.clone().narrow(1, 1, 1), 1.0);
        let above = softplus(raw.narrow(1, 2, 1), 1.0);
        Tensor::cat(
            vec![median.clone() - below, median.clone(), median + above],
            1,
        )
    }
}

/// Networks of the same shape whose outputs are averaged, in model units.
///
/// NOTE: weights are stored under `members.{i}.`. The weight files of forecasters saved
/// before ensembles existed (one network at the top level) do not match, so train them again.
#[derive(Module, Debug)]
pub struct ForecastEnsemble {
    members: Vec<ForecastNetwork>,
}

impl ForecastEnsemble {
    /// Creates `count` networks seeded with `seed`, `seed + 1`, ...
    pub fn new(inputs: usize, hidden: &[usize], count: usize, seed: u64, device: &Device) -> Self {
        let members = (0..count as u64)
            .map(|member| ForecastNetwork::new(inputs, hidden, seed.wrapping_add(member), device))
            .collect();
        ForecastEnsemble { members }
    }

    /// Wraps trained networks.
    pub fn from_members(members: Vec<ForecastNetwork>) -> Self {
        ForecastEnsemble { members }
    }

    /// Maps feature rows `[rows, features]` to the mean of the members' `[rows, 3]` outputs.
    /// Averaging keeps the three columns ordered, because each member's are.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let count = self.members.len().max(1);
        let mut total: Option<Tensor<2>> = None;
        for member in &self.members {
            let output = member.forward(input.clone());
            total = Some(match total {
                Some(sum) => sum + output,
                None => output,
            });
        }
        match total {
            Some(sum) => sum.div_scalar(count as f64),
            None => Tensor::zeros([input.dims()[0], 3], &input.device()),
        }
    }
}

/// Returns the mean pinball loss of `quantiles` `[rows, 3]` against `target` `[rows, 1]`,
/// summed over the three quantile levels `levels`.
pub(crate) fn pinball_loss(quantiles: Tensor<2>, target: Tensor<2>, levels: [f64; 3]) -> Tensor<1> {
    let mut total: Option<Tensor<1>> = None;
    for (column, level) in levels.into_iter().enumerate() {
        let residual = target.clone() - quantiles.clone().narrow(1, column, 1);
        let loss = residual
            .clone()
            .mul_scalar(level)
            .max_pair(residual.mul_scalar(level - 1.0))
            .mean();
        total = Some(match total {
            Some(sum) => sum + loss,
            None => loss,
        });
    }
    total.unwrap_or_else(|| Tensor::zeros([1], &target.device()))
}
