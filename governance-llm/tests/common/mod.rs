//! Synthetic sensor data shared by the integration tests.

use governance_llm::FeatureMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Column names of the synthetic stations.
pub const COLUMNS: [&str; 6] = ["PM2.5", "PM10", "NO2", "CO", "TEMP", "DEWP"];

/// Returns a standard normal draw (Box-Muller).
fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let uniform: f32 = rng.random_range(f32::EPSILON..1.0);
    let angle: f32 = rng.random_range(0.0..std::f32::consts::TAU);
    (-2.0 * uniform.ln()).sqrt() * angle.cos()
}

/// Returns `rows` readings driven by two hidden factors (pollution and weather), so the
/// columns are correlated, each with a little independent noise. Every value is well above
/// zero, so multiplying one by 10 moves it far from the rest.
pub fn correlated_rows(rows: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..rows)
        .map(|_| {
            let pollution = normal(&mut rng);
            let weather = normal(&mut rng);
            let mut noise = || 0.15 * normal(&mut rng);
            vec![
                60.0 + 15.0 * (pollution + noise()),
                90.0 + 20.0 * (pollution + 0.3 * weather + noise()),
                45.0 + 8.0 * (0.8 * pollution + noise()),
                30.0 + 6.0 * (pollution - 0.4 * weather + noise()),
                50.0 + 5.0 * (weather + noise()),
                40.0 + 4.0 * (weather - 0.5 * pollution + noise()),
            ]
        })
        .collect()
}

/// Returns the column names as owned strings.
pub fn column_names() -> Vec<String> {
    COLUMNS.iter().map(|name| name.to_string()).collect()
}

/// Builds a matrix from rows of [`COLUMNS`].
pub fn matrix(rows: &[Vec<f32>]) -> FeatureMatrix {
    FeatureMatrix::from_rows(column_names(), rows).expect("rows match the columns")
}
