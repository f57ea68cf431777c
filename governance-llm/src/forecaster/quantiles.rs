//! Quantile forecasts and the probability of crossing a limit estimated from them.

use serde::{Deserialize, Serialize};

use super::series::TargetTransform;

/// A forecast of one value: the median and a central prediction interval, in the target's
/// unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuantileForecast {
    /// Forecast median.
    pub median: f32,
    /// Lower end of the interval, the `(1 - level) / 2` quantile after calibration.
    pub lower: f32,
    /// Upper end of the interval, the `(1 + level) / 2` quantile after calibration.
    pub upper: f32,
    /// Nominal coverage of the interval, such as 0.8.
    pub level: f32,
}

impl QuantileForecast {
    /// Returns the estimated probability that the value is above `limit`.
    ///
    /// The three quantiles are mapped to model units (the log step of `transform`, if any),
    /// where the forecast distribution is taken as a split normal: a normal below the median
    /// whose `(1 - level) / 2` quantile is `lower`, and one above whose `(1 + level) / 2`
    /// quantile is `upper`. This matches the three quantiles exactly and makes the tails
    /// normal, which is an assumption: real tails of pollution and traffic data are often
    /// heavier, so probabilities far beyond the interval are optimistic.
    pub fn exceedance_probability(&self, limit: f32, transform: &TargetTransform) -> f64 {
        let median = f64::from(transform.warp(self.median));
        let lower = f64::from(transform.warp(self.lower.min(self.median)));
        let upper = f64::from(transform.warp(self.upper.max(self.median)));
        let limit = f64::from(transform.warp(limit));
        let z = normal_quantile((1.0 + f64::from(self.level)) / 2.0);
        let spread = if limit >= median {
            (upper - median) / z
        } else {
            (median - lower) / z
        };
        if spread <= 0.0 || !spread.is_finite() {
            return if limit < median { 1.0 } else { 0.0 };
        }
        1.0 - normal_cdf((limit - median) / spread)
    }
}

/// The standard normal distribution function, through the error function.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2))
}

/// The standard normal quantile function for `p` in `(0, 1)`, by bisection on
/// [`normal_cdf`]; accurate to about 1e-7, the accuracy of [`erf`].
pub(crate) fn normal_quantile(p: f64) -> f64 {
    let (mut low, mut high) = (-10.0f64, 10.0f64);
    for _ in 0..80 {
        let middle = 0.5 * (low + high);
        if normal_cdf(middle) < p {
            low = middle;
        } else {
            high = middle;
        }
    }
    0.5 * (low + high)
}

/// The error function by formula 7.1.26 of Abramowitz and Stegun (1964), with an absolute
/// error below 1.5e-7.
fn erf(x: f64) -> f64 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let polynomial = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    sign * (1.0 - polynomial * (-x * x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDENTITY: TargetTransform = TargetTransform {
        log: false,
        mean: 0.0,
        std: 1.0,
    };

    #[test]
    fn normal_quantile_matches_tables() {
        assert!((normal_quantile(0.9) - 1.281_551_6).abs() < 1e-5);
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
        assert!(normal_quantile(0.5).abs() < 1e-6);
    }

    #[test]
    fn exceedance_hits_the_quantiles() {
        let forecast = QuantileForecast {
            median: 50.0,
            lower: 30.0,
            upper: 90.0,
            level: 0.8,
        };
        let at = |limit: f32| forecast.exceedance_probability(limit, &IDENTITY);
        assert!((at(50.0) - 0.5).abs() < 1e-6);
        assert!((at(90.0) - 0.1).abs() < 1e-4);
        assert!((at(30.0) - 0.9).abs() < 1e-4);
        assert!(at(200.0) < 0.01);
        assert!(at(60.0) > at(70.0), "probability falls as the limit rises");
    }

    #[test]
    fn exceedance_in_log_units_keeps_quantiles() {
        let forecast = QuantileForecast {
            median: 40.0,
            lower: 20.0,
            upper: 120.0,
            level: 0.8,
        };
        let log = TargetTransform {
            log: true,
            mean: 0.0,
            std: 1.0,
        };
        assert!((forecast.exceedance_probability(120.0, &log) - 0.1).abs() < 1e-4);
        assert!((forecast.exceedance_probability(40.0, &log) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn degenerate_interval_gives_certainty() {
        let forecast = QuantileForecast {
            median: 10.0,
            lower: 10.0,
            upper: 10.0,
            level: 0.8,
        };
        assert_eq!(forecast.exceedance_probability(5.0, &IDENTITY), 1.0);
        assert_eq!(forecast.exceedance_probability(15.0, &IDENTITY), 0.0);
    }
}
