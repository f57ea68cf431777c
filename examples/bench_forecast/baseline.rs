//! The linear autoregressive baseline: least squares on the same lag window as the
//! forecaster, per series.
//!
//! Lags and target go through `ln(1 + y)` when the forecaster's does, missing lags are filled
//! with the previous known lag as the forecaster fills them, and windows with more missing
//! lags than the forecaster allows are left out. The coefficients solve the ridge normal
//! equations `(XᵀX + λI) b = Xᵀy` (λ = 1e-3 times the row count, intercept not penalised) by
//! a Cholesky factorisation.

use governance::llm::HourlySeries;

/// A fitted linear autoregression of one series.
pub struct LinearAr {
    coefficients: Vec<f64>,
    log: bool,
    max_missing: usize,
}

impl LinearAr {
    /// Fits on the windows of `series` whose forecast hour is before `end` (an hour index
    /// into the series). Returns `None` when there are too few complete windows.
    pub fn fit(
        series: &HourlySeries,
        lags: usize,
        horizon: usize,
        end: usize,
        log: bool,
        max_missing: usize,
    ) -> Option<Self> {
        let width = lags + 1;
        let mut gram = vec![0.0f64; width * width];
        let mut moment = vec![0.0f64; width];
        let mut rows = 0usize;
        let mut features = Vec::with_capacity(width);
        let end = end.min(series.values.len());
        for target in (lags - 1 + horizon)..end {
            let value = series.values[target];
            if value.is_nan() {
                continue;
            }
            let origin = target - horizon;
            if !lag_features(
                &series.values[origin + 1 - lags..=origin],
                log,
                max_missing,
                &mut features,
            ) {
                continue;
            }
            let target = warp(value, log);
            for (i, &left) in features.iter().enumerate() {
                moment[i] += left * target;
                for (j, &right) in features.iter().enumerate() {
                    gram[i * width + j] += left * right;
                }
            }
            rows += 1;
        }
        if rows < 2 * width {
            return None;
        }
        let ridge = 1e-3 * rows as f64;
        for i in 1..width {
            gram[i * width + i] += ridge;
        }
        let coefficients = solve_cholesky(&mut gram, &moment, width)?;
        Some(LinearAr {
            coefficients,
            log,
            max_missing,
        })
    }

    /// Forecasts from a lag window, oldest first; `None` when it has too many gaps.
    pub fn predict(&self, lags: &[f32]) -> Option<f32> {
        let mut features = Vec::with_capacity(self.coefficients.len());
        if !lag_features(lags, self.log, self.max_missing, &mut features) {
            return None;
        }
        let warped: f64 = features
            .iter()
            .zip(&self.coefficients)
            .map(|(feature, coefficient)| feature * coefficient)
            .sum();
        Some(if self.log {
            warped.exp_m1() as f32
        } else {
            warped as f32
        })
    }
}

fn warp(value: f32, log: bool) -> f64 {
    let value = f64::from(value);
    if log { value.ln_1p() } else { value }
}

/// Writes an intercept and the filled, warped lags into `out`; false with too many gaps.
fn lag_features(lags: &[f32], log: bool, max_missing: usize, out: &mut Vec<f64>) -> bool {
    out.clear();
    let missing = lags.iter().filter(|value| value.is_nan()).count();
    if missing > max_missing || missing == lags.len() {
        return false;
    }
    out.push(1.0);
    let mut previous = lags
        .iter()
        .copied()
        .find(|value| !value.is_nan())
        .map_or(0.0, |value| warp(value, log));
    for &value in lags {
        if !value.is_nan() {
            previous = warp(value, log);
        }
        out.push(previous);
    }
    true
}

/// Solves `a x = b` for a symmetric positive definite `a` (row-major, `n` by `n`, overwritten
/// by its Cholesky factor). `None` when `a` is not positive definite.
fn solve_cholesky(a: &mut [f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        let mut diagonal = a[j * n + j];
        for k in 0..j {
            diagonal -= a[j * n + k] * a[j * n + k];
        }
        if diagonal <= 0.0 {
            return None;
        }
        let diagonal = diagonal.sqrt();
        a[j * n + j] = diagonal;
        for i in j + 1..n {
            let mut value = a[i * n + j];
            for k in 0..j {
                value -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = value / diagonal;
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut value = b[i];
        for k in 0..i {
            value -= a[i * n + k] * y[k];
        }
        y[i] = value / a[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut value = y[i];
        for k in i + 1..n {
            value -= a[k * n + i] * x[k];
        }
        x[i] = value / a[i * n + i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_small_system() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let x = solve_cholesky(&mut a, &[2.0, 1.0], 2).expect("positive definite");
        assert!((x[0] - 0.5).abs() < 1e-12);
        assert!(x[1].abs() < 1e-12);
    }

    #[test]
    fn ar_recovers_a_linear_rule() {
        // A period-3 cycle: y[t] = y[t-3], which a 3-lag model one step ahead fits exactly.
        let values: Vec<f32> = (0..400).map(|t| [1.0, 5.0, 9.0][t % 3]).collect();
        let series = HourlySeries {
            name: "s".into(),
            start_ms: 0,
            values,
            covariates: Vec::new(),
        };
        let model = LinearAr::fit(&series, 3, 1, 300, false, 0).expect("fit");
        let window = &series.values[350..353];
        let forecast = model.predict(window).expect("forecast");
        let truth = series.values[353];
        assert!((forecast - truth).abs() < 0.5, "{forecast} vs {truth}");
    }
}
