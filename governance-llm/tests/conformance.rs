//! Model conformance suite: the checks every burn model of this crate must pass on the CPU.
//!
//! Each model gets four tests, named `<model>_<check>`:
//!
//! - `forward_shape`: the network's `forward` (or the public predict call where `forward` is
//!   crate-private) returns the expected shape for a small batch and for a batch of one row.
//! - `save_load_round_trip`: saving through the model registry (safetensors weights) or the
//!   model's own save and loading it back gives equal predictions on the same input.
//! - `seed_determinism`: two trainings with the same config and seed give equal predictions,
//!   and a different seed gives different ones.
//! - `training_lowers_loss`: the loss the model reports falls from the start of training to
//!   its end.
//!
//! With the `wgpu` feature, one more test trains the autoencoder on a wgpu adapter named in its
//! config, and skips where the machine has none.
//!
//! Run it with `cargo test -p governance-llm --test conformance`. The trainings are tiny (a
//! few hundred rows, a few epochs, small hidden layers), so the suite checks the contract of
//! each model, not its accuracy.

mod common;

#[path = "conformance/autoencoder.rs"]
mod autoencoder;
#[path = "conformance/cell_classifier.rs"]
mod cell_classifier;
#[cfg(feature = "wgpu")]
#[path = "conformance/devices.rs"]
mod devices;
#[path = "conformance/forecaster.rs"]
mod forecaster;
#[path = "conformance/imputer.rs"]
mod imputer;
#[path = "conformance/pair_classifier.rs"]
mod pair_classifier;
#[path = "conformance/tagger.rs"]
mod tagger;

use burn::tensor::{Tensor, TensorData};
use governance_llm::{Device, DeviceConfig};

/// Returns the CPU inference device every check runs on.
fn cpu() -> Device {
    DeviceConfig::Cpu.device()
}

/// Returns a `[rows, columns]` tensor on the CPU whose values count up in steps of 0.1, so
/// that no row is all zeros.
fn ramp(rows: usize, columns: usize) -> Tensor<2> {
    let values: Vec<f32> = (0..rows * columns).map(|i| i as f32 * 0.1).collect();
    Tensor::<2>::from_data(TensorData::new(values, [rows, columns]), &cpu())
}

/// Returns the values of a tensor, row-major.
fn values(tensor: Tensor<2>) -> Vec<f32> {
    tensor
        .into_data()
        .try_into_vec::<f32>()
        .expect("the tensor contains f32 values")
}

/// Asserts that two prediction vectors have the same length and differ by at most 1e-6.
fn assert_close(left: &[f32], right: &[f32], quantity: &str) {
    assert_eq!(left.len(), right.len(), "{quantity}: lengths differ");
    for (index, (a, b)) in left.iter().zip(right).enumerate() {
        assert!(
            (a - b).abs() <= 1e-6,
            "{quantity}: value {index} is {a} on the left and {b} on the right"
        );
    }
}
