//! The recent values of one series and column, and the median and MAD taken from them.
//!
//! A sample of `sample_size` values is cut into blocks of about an eighth of the sample. The
//! newest block keeps its values as they arrive. A full block is sorted and sealed: of each
//! group of `group` neighbouring sorted values it keeps one, the midpoint of the group's two
//! middle values, which then stands for the whole group. A sample of 1,024 values thus takes
//! 1.5 KiB (128 open values and 8 sealed blocks of 32) in place of 4 KiB, and the values stay
//! `f32`, seven significant digits, more than sensors report.
//!
//! Counting a sealed representative `group` times misplaces, for any threshold `t`, at most
//! `group / 2` values of its block on the wrong side of `t`, because only one group of a
//! sorted block can hold values on both sides. Over the whole sample the count of values at
//! or below any `t` is therefore off by at most [`SampleShape::rank_error`], which the group
//! size keeps at or below 1/64 of the sample (16 of 1,024 values). The median then lies
//! between the exact order statistics that many ranks either side of the middle, and the MAD
//! within twice that many ranks of the exact deviations. That is about one standard error of
//! the exact median itself, whose rank varies by `0.5 / sqrt(1024)` = 1/64 of the sample
//! between samples of 1,024 values. Samples under 256 values keep every value (group 1) and
//! are exact.

/// Scale factor that makes the MAD a consistent estimator of the standard deviation for
/// normally distributed data.
pub(super) const MAD_SCALE: f64 = 1.4826;

/// Scale factor for the mean absolute deviation, used when the MAD is 0 (more than half the
/// sample equals the median), after Iglewicz and Hoaglin's modified z-score.
pub(super) const MEAN_AD_SCALE: f64 = 1.253314;

/// Number of blocks a sample is cut into.
const BLOCKS: usize = 8;

/// Largest number of sorted values that one sealed representative stands for.
const MAX_GROUP: usize = 4;

/// Sample size per unit of group size: with `group <= sample_size / 256` and eight blocks,
/// the rank error stays at or below `sample_size / 64`.
const VALUES_PER_GROUP_UNIT: usize = 256;

/// Block layout of the samples of one stage, derived from its `sample_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SampleShape {
    /// Sorted values that one sealed representative stands for.
    group: usize,
    /// Values per block, a multiple of `group`.
    block_len: usize,
    /// Sealed blocks kept; together they cover at least `sample_size` values.
    max_sealed: usize,
}

impl SampleShape {
    /// Derives the shape for samples of `sample_size` values, at least 1.
    pub(super) fn new(sample_size: usize) -> Self {
        let sample_size = sample_size.max(1);
        let group = (sample_size / VALUES_PER_GROUP_UNIT).clamp(1, MAX_GROUP);
        let block_len = sample_size.div_ceil(BLOCKS).next_multiple_of(group);
        SampleShape {
            group,
            block_len,
            max_sealed: sample_size.div_ceil(block_len),
        }
    }

    fn summary_len(&self) -> usize {
        self.block_len / self.group
    }

    /// Returns the largest error of the sample's count of values at or below (or below) any
    /// threshold, once every sealed block is in use; 0 when the sample is exact.
    #[cfg(test)]
    fn rank_error(&self) -> usize {
        self.max_sealed * (self.group / 2)
    }
}

/// The recent values of one series and column: the open block as it arrived and a ring of
/// sealed block summaries, overwritten oldest first. It covers the most recent
/// `max_sealed * block_len` values or more, and less than one block more.
#[derive(Debug, Default)]
pub(super) struct RecentValues {
    /// Values of the newest block, in arrival order.
    open: Vec<f32>,
    /// Summaries of sealed blocks, `summary_len` sorted representatives each.
    sealed: Vec<f32>,
    /// Block index in `sealed` of the oldest summary once the ring is full.
    oldest: usize,
}

impl RecentValues {
    /// Adds `value`, sealing the open block when it is full. Each part is allocated whole
    /// when first needed: growing step by step leaves freed blocks of every size behind, which
    /// the allocator keeps and the process's resident size shows.
    pub(super) fn push(&mut self, value: f32, shape: SampleShape) {
        if self.open.capacity() == 0 {
            self.open.reserve_exact(shape.block_len);
        }
        self.open.push(value);
        if self.open.len() >= shape.block_len {
            self.seal(shape);
        }
    }

    fn seal(&mut self, shape: SampleShape) {
        self.open.sort_unstable_by(f32::total_cmp);
        let summary_len = shape.summary_len();
        let ring_len = shape.max_sealed * summary_len;
        if self.sealed.capacity() == 0 {
            self.sealed.reserve_exact(ring_len);
        }
        let representatives = self.open.chunks_exact(shape.group).map(|group| {
            let lower = f64::from(group[(group.len() - 1) / 2]);
            let upper = f64::from(group[group.len() / 2]);
            // Rounding the midpoint of two f32 values to f32 keeps it between them.
            ((lower + upper) / 2.0) as f32
        });
        if self.sealed.len() < ring_len {
            self.sealed.extend(representatives);
        } else {
            let start = self.oldest * summary_len;
            for (slot, value) in self.sealed[start..start + summary_len]
                .iter_mut()
                .zip(representatives)
            {
                *slot = value;
            }
            self.oldest = (self.oldest + 1) % shape.max_sealed;
        }
        self.open.clear();
    }

    /// Returns the number of values the sample stands for.
    pub(super) fn len(&self, shape: SampleShape) -> usize {
        self.sealed.len() * shape.group + self.open.len()
    }

    /// Appends the values the sample stands for to `pooled`: each sealed representative
    /// `group` times, then the open block.
    pub(super) fn extend_pooled(&self, pooled: &mut Vec<f64>, shape: SampleShape) {
        for &value in &self.sealed {
            let value = f64::from(value);
            pooled.extend(std::iter::repeat_n(value, shape.group));
        }
        pooled.extend(self.open.iter().map(|&value| f64::from(value)));
    }
}

/// Median and scale of one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct RobustStats {
    pub(super) median: f64,
    pub(super) mad: f64,
    /// Divisor of the score: `1.4826 * MAD`, or `1.2533 * mean absolute deviation` when the MAD
    /// is 0.
    pub(super) scale: f64,
}

impl RobustStats {
    /// Computes the statistics; `None` when the sample has no spread at all.
    pub(super) fn of(sample: &mut [f64]) -> Option<RobustStats> {
        let center = median(sample)?;
        let mut deviations: Vec<f64> = sample.iter().map(|value| (value - center).abs()).collect();
        let mad = median(&mut deviations)?;
        let scale = if mad > 0.0 {
            MAD_SCALE * mad
        } else {
            MEAN_AD_SCALE * deviations.iter().sum::<f64>() / deviations.len() as f64
        };
        (scale > 0.0).then_some(RobustStats {
            median: center,
            mad,
            scale,
        })
    }
}

/// Returns the median, reordering `values`; `None` when empty.
pub(super) fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let length = values.len();
    let (lower, upper, _) = values.select_nth_unstable_by(length / 2, f64::total_cmp);
    let upper = *upper;
    if length % 2 == 1 {
        return Some(upper);
    }
    let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((below + upper) / 2.0)
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Pushes `values` into a sample and returns it with the exact values it covers, as `f32`
    /// widened to `f64`, oldest first.
    fn fill(values: &[f64], shape: SampleShape) -> (RecentValues, Vec<f64>) {
        let mut sample = RecentValues::default();
        for &value in values {
            sample.push(value as f32, shape);
        }
        let covered = sample.len(shape);
        let exact = values[values.len() - covered..]
            .iter()
            .map(|&value| f64::from(value as f32))
            .collect();
        (sample, exact)
    }

    /// Hourly readings shaped like PM2.5: a daily cycle with noise of varying spread, cut at
    /// 0, and rare spikes.
    fn readings(count: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..count)
            .map(|hour| {
                let daily = 40.0 + 25.0 * (hour as f64 * std::f64::consts::TAU / 24.0).sin();
                let noise: f64 = rng.random_range(-1.0..1.0) * rng.random_range(0.0..30.0);
                let spike = if rng.random_bool(0.01) { 400.0 } else { 0.0 };
                (daily + noise).max(0.0) + spike
            })
            .collect()
    }

    fn sorted(mut values: Vec<f64>) -> Vec<f64> {
        values.sort_by(f64::total_cmp);
        values
    }

    /// Returns the order statistic at `rank`, clamped to the ends.
    fn at(sorted: &[f64], rank: isize) -> f64 {
        sorted[rank.clamp(0, sorted.len() as isize - 1) as usize]
    }

    #[test]
    fn median_handles_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn zero_mad_falls_back_to_mean_deviation() {
        // Mostly zeros, like rainfall: the MAD is 0 but the mean deviation is not.
        let mut sample: Vec<f64> = (0..40)
            .map(|index| if index % 10 == 0 { 2.0 } else { 0.0 })
            .collect();
        let stats = RobustStats::of(&mut sample).expect("spread");
        assert_eq!(stats.mad, 0.0);
        assert!((stats.scale - MEAN_AD_SCALE * 0.2).abs() < 1e-12);
        assert_eq!(RobustStats::of(&mut [3.0; 10]), None);
    }

    #[test]
    fn shape_bounds_rank_error() {
        let default = SampleShape::new(1024);
        assert_eq!(
            (default.group, default.block_len, default.max_sealed),
            (4, 128, 8)
        );
        assert_eq!(default.rank_error(), 16);
        for sample_size in [
            1, 2, 10, 100, 255, 256, 300, 511, 512, 1000, 1024, 1025, 5000,
        ] {
            let shape = SampleShape::new(sample_size);
            assert_eq!(shape.block_len % shape.group, 0, "size {sample_size}");
            assert!(
                shape.max_sealed * shape.block_len >= sample_size,
                "size {sample_size}"
            );
            assert!(
                shape.rank_error() * 64 <= sample_size,
                "size {sample_size}: rank error {}",
                shape.rank_error()
            );
        }
        assert_eq!(SampleShape::new(255).rank_error(), 0);
    }

    #[test]
    fn small_sample_is_exact() {
        let shape = SampleShape::new(10);
        let values: Vec<f64> = (0..37).map(|value| f64::from(value * 7 % 11)).collect();
        let (sample, exact) = fill(&values, shape);
        let mut pooled = Vec::new();
        sample.extend_pooled(&mut pooled, shape);
        assert_eq!(sorted(pooled), sorted(exact.clone()));
        assert!((10..10 + shape.block_len).contains(&exact.len()));
    }

    #[test]
    fn covered_values_stay_within_one_block() {
        let shape = SampleShape::new(1024);
        let mut sample = RecentValues::default();
        for index in 0..5_000 {
            sample.push(index as f32, shape);
            let covered = sample.len(shape);
            let expected = (index + 1).min(1024 + (index + 1) % 128);
            assert_eq!(covered, expected, "after {} values", index + 1);
        }
        assert_eq!(sample.sealed.capacity(), 8 * 32);
        assert_eq!(sample.open.capacity(), 128);
    }

    /// The summarised sample against the exact values it covers: the median lies within
    /// `rank_error` ranks of the exact middle, and the MAD within twice that many ranks of the
    /// exact deviations around the same center. On readings like PM2.5, both differ from the
    /// exact statistics by at most 2.5% of the exact MAD (1.7% was the largest seen), or by at
    /// most one unit when the readings are whole numbers, as stations report them.
    #[test]
    fn summary_bounds_median_and_mad() {
        let shape = SampleShape::new(1024);
        let error = shape.rank_error() as isize;
        for (seed, whole) in (0..20).flat_map(|seed| [(seed, false), (seed, true)]) {
            let mut values = readings(3_000 + 37 * seed as usize, seed);
            if whole {
                values.iter_mut().for_each(|value| *value = value.round());
            }
            let (sample, mut exact) = fill(&values, shape);
            let mut pooled = Vec::new();
            sample.extend_pooled(&mut pooled, shape);
            assert_eq!(pooled.len(), exact.len());
            // The largest difference allowed against the exact statistics.
            let tolerance = |mad: f64| if whole { 1.0 } else { 0.025 * mad };

            let estimate = RobustStats::of(&mut pooled).expect("spread");
            let truth = RobustStats::of(&mut exact).expect("spread");
            let exact = sorted(exact);
            let middle = exact.len() as isize / 2;
            assert!(
                at(&exact, middle - 1 - error) <= estimate.median
                    && estimate.median <= at(&exact, middle + error),
                "seed {seed}: median {} outside the rank bound",
                estimate.median
            );
            let deviations = sorted(
                exact
                    .iter()
                    .map(|value| (value - estimate.median).abs())
                    .collect(),
            );
            assert!(
                at(&deviations, middle - 1 - 2 * error) <= estimate.mad
                    && estimate.mad <= at(&deviations, middle + 2 * error),
                "seed {seed}: MAD {} outside the rank bound",
                estimate.mad
            );
            assert!(
                (estimate.median - truth.median).abs() <= tolerance(truth.mad),
                "seed {seed}: median {} against exact {} (MAD {})",
                estimate.median,
                truth.median,
                truth.mad
            );
            assert!(
                (estimate.mad - truth.mad).abs() <= tolerance(truth.mad),
                "seed {seed}: MAD {} against exact {}",
                estimate.mad,
                truth.mad
            );
        }
    }
}
