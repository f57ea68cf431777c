//! The backend abstraction: which burn device a model trains and runs on.
//!
//! burn 0.22 selects the backend at run time through its [`Device`] rather than through a
//! backend type parameter, so the models of this crate are plain structs whose tensors live on
//! whatever device they were created on. [`DeviceConfig`] is the serde-facing choice of that
//! device, and [`DeviceConfig::device`] and [`DeviceConfig::training_device`] turn it into a
//! burn device for inference and for training (with autodiff).
//!
//! Only the CPU is available for now, because the workspace enables only burn's `ndarray`
//! backend. A GPU variant (`Wgpu`, `Cuda`) belongs behind a cargo feature of the same name that
//! forwards to burn's feature. The model code needs no change for it, because the same tensors
//! and modules run on every burn device.

use serde::{Deserialize, Serialize};

pub use burn::tensor::Device;

/// The device models train and run on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeviceConfig {
    /// The CPU, through burn's ndarray backend.
    #[default]
    Cpu,
}

impl DeviceConfig {
    /// Returns the burn device for inference: no autodiff graph is recorded on it.
    pub fn device(self) -> Device {
        match self {
            DeviceConfig::Cpu => cpu_device(),
        }
    }

    /// Returns the burn device for training: the inference device with autodiff enabled.
    pub fn training_device(self) -> Device {
        self.device().autodiff()
    }
}

/// Returns burn's ndarray CPU device.
///
/// burn 0.22 marks the ndarray backend deprecated in favour of its `flex` backend, but the
/// workspace enables only `ndarray`, so this is the CPU backend available here.
#[expect(
    deprecated,
    reason = "ndarray is the only CPU backend the workspace's burn features enable"
)]
pub fn cpu_device() -> Device {
    Device::ndarray()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_device_records_gradients() {
        let config = DeviceConfig::Cpu;
        assert!(config.training_device().is_autodiff());
        assert!(!config.device().is_autodiff());
    }

    #[test]
    fn device_config_reads_snake_case() {
        let config: DeviceConfig = serde_json::from_str("\"cpu\"").expect("cpu parses");
        assert_eq!(config, DeviceConfig::Cpu);
        let error = serde_json::from_str::<DeviceConfig>("\"tpu\"").expect_err("tpu is unknown");
        assert!(error.to_string().contains("tpu"));
    }
}
