//! Deterministic randomness for the synthetic city.
//!
//! Every batch draws from its own ChaCha8 generator keyed by (seed, stream, batch index), so
//! any batch can be generated alone, in any order, with the same result. Quantities that must
//! be continuous across batches (a pollution episode, the weather) come instead from smooth
//! noise: Gaussian values at fixed knots, hashed from (seed, stream, key, knot), with cosine
//! interpolation between knots.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Independent streams of random numbers, so that changing one kind of data (such as an
/// error rate) leaves the others unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Stream {
    SensorValues = 1,
    SensorErrors = 2,
    Weather = 3,
    Tickets = 4,
    StationTraits = 5,
    Episodes = 6,
    LocalPollution = 7,
    WeatherField = 8,
}

/// Returns the generator of one batch of one stream.
pub(crate) fn batch_rng(seed: u64, stream: Stream, batch: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(stream as u64).to_le_bytes());
    key[16..24].copy_from_slice(&batch.to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

/// SplitMix64 finaliser: a fast, well-mixed 64-bit hash step.
fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

/// Returns a uniform value in [0, 1) determined by its four inputs.
pub(crate) fn hash_unit(seed: u64, stream: Stream, key: u64, index: u64) -> f64 {
    let hash = mix(mix(mix(mix(seed) ^ stream as u64) ^ key) ^ index);
    // The top 53 bits fill an f64 mantissa exactly.
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// Returns a standard normal value determined by its four inputs (Box-Muller transform).
pub(crate) fn hash_gaussian(seed: u64, stream: Stream, key: u64, index: u64) -> f64 {
    let first = hash_unit(seed, stream, key, index.wrapping_mul(2));
    let second = hash_unit(seed, stream, key, index.wrapping_mul(2).wrapping_add(1));
    box_muller(first, second)
}

/// Draws a standard normal value from `rng`.
pub(crate) fn gaussian(rng: &mut impl Rng) -> f64 {
    box_muller(rng.random::<f64>(), rng.random::<f64>())
}

fn box_muller(first: f64, second: f64) -> f64 {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    let radius = (-2.0 * (1.0 - first).ln()).sqrt();
    radius * (std::f64::consts::TAU * second).cos()
}

/// Returns smooth noise at `hour`, with roughly standard normal values at knots spaced
/// `knot_hours` apart and cosine interpolation between them.
pub(crate) fn smooth_noise(seed: u64, stream: Stream, key: u64, hour: f64, knot_hours: f64) -> f64 {
    let position = hour / knot_hours;
    let knot = position.floor();
    let fraction = position - knot;
    let knot = knot as i64 as u64;
    let left = hash_gaussian(seed, stream, key, knot);
    let right = hash_gaussian(seed, stream, key, knot.wrapping_add(1));
    let weight = (1.0 - (std::f64::consts::PI * fraction).cos()) / 2.0;
    left * (1.0 - weight) + right * weight
}

/// Rounds to `decimals` decimal places.
pub(crate) fn round_to(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_rng_depends_on_every_key_part() {
        let draw = |seed, stream, batch| batch_rng(seed, stream, batch).random::<u64>();
        let base = draw(1, Stream::SensorValues, 0);
        assert_eq!(base, draw(1, Stream::SensorValues, 0));
        assert_ne!(base, draw(2, Stream::SensorValues, 0));
        assert_ne!(base, draw(1, Stream::SensorErrors, 0));
        assert_ne!(base, draw(1, Stream::SensorValues, 1));
    }

    #[test]
    fn smooth_noise_is_continuous() {
        let step = |hour: f64| {
            (smooth_noise(7, Stream::Episodes, 0, hour + 0.01, 24.0)
                - smooth_noise(7, Stream::Episodes, 0, hour, 24.0))
            .abs()
        };
        for hour in [0.0, 23.99, 24.0, 100.5] {
            assert!(step(hour) < 0.05, "jump at hour {hour}");
        }
    }

    #[test]
    fn hash_gaussian_has_unit_spread() {
        let values: Vec<f64> = (0..20_000)
            .map(|index| hash_gaussian(3, Stream::Weather, 1, index))
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let variance = values
            .iter()
            .map(|value| (value - mean).powi(2))
            .sum::<f64>()
            / values.len() as f64;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((variance - 1.0).abs() < 0.05, "variance {variance}");
    }
}
