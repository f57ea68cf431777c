//! The backend abstraction: which burn device a model trains and runs on.
//!
//! burn 0.22 selects the backend at run time through its [`Device`] rather than through a
//! backend type parameter, so the models of this crate are plain structs whose tensors live on
//! whatever device they were created on. [`DeviceConfig`] is the serde-facing choice of that
//! device, read from a model's config at run time, and [`DeviceConfig::device`] and
//! [`DeviceConfig::training_device`] turn it into a burn device for inference and for training
//! (with autodiff).
//!
//! The CPU (burn's ndarray backend) is always there. Two cargo features add GPUs:
//!
//! - `wgpu`: any GPU that wgpu reaches through Vulkan, Metal, DirectX 12 or WebGPU;
//! - `cuda`: NVIDIA GPUs through the CUDA driver. The build script of burn's CUDA runtime
//!   downloads an LLVM bundle, so a build with this feature needs network access once.
//!   `DOCS_RS=1 cargo check --features cuda` skips that download and checks the code only.
//!
//! In a config the device reads as `"cpu"`, `{"wgpu": {}}` (the adapter wgpu prefers),
//! `{"wgpu": {"adapter": {"discrete": 1}}}` or `{"cuda": {"index": 0}}`; in TOML,
//! `device = "cpu"` or `device = { cuda = { index = 0 } }`. A config that names a GPU this build
//! was compiled without is rejected when it is read, with the feature to turn on. A GPU that
//! the build knows but the machine lacks shows up in [`DeviceConfig::probe`].

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::{Deserialize, Serialize};

pub use burn::tensor::Device;

use crate::error::{Error, Result};

/// The device models train and run on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "DeviceSpec", into = "DeviceSpec")]
#[non_exhaustive]
pub enum DeviceConfig {
    /// The CPU, through burn's ndarray backend.
    #[default]
    Cpu,
    /// A GPU through wgpu.
    #[cfg(feature = "wgpu")]
    Wgpu(WgpuAdapter),
    /// The NVIDIA GPU with this index, through CUDA.
    #[cfg(feature = "cuda")]
    Cuda {
        /// Index of the GPU among those the CUDA driver lists, from 0.
        index: usize,
    },
}

/// The adapter wgpu runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WgpuAdapter {
    /// The adapter wgpu prefers: a high-power GPU when there is one.
    #[default]
    Preferred,
    /// The discrete GPU with this index among the discrete GPUs.
    Discrete(usize),
    /// The integrated GPU with this index among the integrated GPUs.
    Integrated(usize),
}

/// The serde form of [`DeviceConfig`], with every device a config may name. A config that
/// names a GPU this build lacks then gets an error with the fix, not serde's "unknown variant".
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum DeviceSpec {
    Cpu,
    Wgpu {
        #[serde(default)]
        adapter: WgpuAdapter,
    },
    Cuda {
        #[serde(default)]
        index: usize,
    },
}

impl TryFrom<DeviceSpec> for DeviceConfig {
    type Error = String;

    fn try_from(spec: DeviceSpec) -> std::result::Result<Self, String> {
        match spec {
            DeviceSpec::Cpu => Ok(DeviceConfig::Cpu),
            #[cfg(feature = "wgpu")]
            DeviceSpec::Wgpu { adapter } => Ok(DeviceConfig::Wgpu(adapter)),
            #[cfg(feature = "cuda")]
            DeviceSpec::Cuda { index } => Ok(DeviceConfig::Cuda { index }),
            #[cfg(not(all(feature = "wgpu", feature = "cuda")))]
            other => Err(missing_feature(other)),
        }
    }
}

#[cfg(not(all(feature = "wgpu", feature = "cuda")))]
fn missing_feature(spec: DeviceSpec) -> String {
    let feature = match spec {
        DeviceSpec::Cpu => "cpu",
        DeviceSpec::Wgpu { .. } => "wgpu",
        DeviceSpec::Cuda { .. } => "cuda",
    };
    format!(
        "device `{feature}` is not compiled into this build, which has {}; rebuild with the \
         cargo feature `{feature}` of governance-llm (or of the governance facade), or choose \
         \"cpu\"",
        compiled_devices()
    )
}

impl From<DeviceConfig> for DeviceSpec {
    fn from(config: DeviceConfig) -> Self {
        match config {
            DeviceConfig::Cpu => DeviceSpec::Cpu,
            #[cfg(feature = "wgpu")]
            DeviceConfig::Wgpu(adapter) => DeviceSpec::Wgpu { adapter },
            #[cfg(feature = "cuda")]
            DeviceConfig::Cuda { index } => DeviceSpec::Cuda { index },
        }
    }
}

/// Lists the devices this build can run, for error messages: `cpu`, then the GPU features.
pub fn compiled_devices() -> String {
    let mut devices = vec!["cpu"];
    if cfg!(feature = "wgpu") {
        devices.push("wgpu");
    }
    if cfg!(feature = "cuda") {
        devices.push("cuda");
    }
    devices.join(", ")
}

impl fmt::Display for DeviceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceConfig::Cpu => f.write_str("cpu"),
            #[cfg(feature = "wgpu")]
            DeviceConfig::Wgpu(WgpuAdapter::Preferred) => f.write_str("wgpu (preferred adapter)"),
            #[cfg(feature = "wgpu")]
            DeviceConfig::Wgpu(WgpuAdapter::Discrete(index)) => {
                write!(f, "wgpu (discrete GPU {index})")
            }
            #[cfg(feature = "wgpu")]
            DeviceConfig::Wgpu(WgpuAdapter::Integrated(index)) => {
                write!(f, "wgpu (integrated GPU {index})")
            }
            #[cfg(feature = "cuda")]
            DeviceConfig::Cuda { index } => write!(f, "cuda (GPU {index})"),
        }
    }
}

impl DeviceConfig {
    /// Returns the burn device for inference: no autodiff graph is recorded on it.
    ///
    /// burn opens a GPU device lazily, on the first tensor placed on it. Call
    /// [`DeviceConfig::probe`] first to turn a missing GPU or driver into an error.
    pub fn device(self) -> Device {
        match self {
            DeviceConfig::Cpu => cpu_device(),
            #[cfg(feature = "wgpu")]
            DeviceConfig::Wgpu(adapter) => Device::wgpu(match adapter {
                WgpuAdapter::Preferred => burn::tensor::DeviceKind::DefaultDevice,
                WgpuAdapter::Discrete(index) => burn::tensor::DeviceKind::DiscreteGpu(index),
                WgpuAdapter::Integrated(index) => burn::tensor::DeviceKind::IntegratedGpu(index),
            }),
            #[cfg(feature = "cuda")]
            DeviceConfig::Cuda { index } => Device::cuda(index),
        }
    }

    /// Returns the burn device for training: the inference device with autodiff enabled.
    pub fn training_device(self) -> Device {
        self.device().autodiff()
    }

    /// Checks the device by placing a small tensor on it and reading it back. A GPU or driver
    /// this machine lacks becomes an error that names the device, not a failure inside a model.
    /// burn panics on a device it cannot open, so this call catches the panic.
    pub fn probe(self) -> Result<()> {
        let device = self.device();
        let expected = [1.0f32, -2.5, 4.0];
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let tensor = burn::tensor::Tensor::<1>::from_floats(expected, &device);
            tensor
                .try_into_data()
                .map_err(|error| format!("{error:?}"))
                .and_then(|data| {
                    data.try_into_vec::<f32>()
                        .map_err(|error| format!("{error:?}"))
                })
        }));
        let unavailable = |reason: String| {
            Error::Config(format!(
                "device {self} is not available on this machine ({reason}): install its \
                 driver or choose \"cpu\""
            ))
        };
        match outcome {
            Ok(Ok(values)) if values == expected => Ok(()),
            Ok(Ok(values)) => Err(unavailable(format!(
                "a test tensor came back as {values:?} instead of {expected:?}"
            ))),
            Ok(Err(reason)) => Err(unavailable(reason)),
            Err(panic) => Err(unavailable(panic_message(panic.as_ref()))),
        }
    }
}

/// Returns the text of a caught panic, or a placeholder when the payload is not a string.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "the backend panicked without a message".to_string()
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
        assert_eq!(
            serde_json::to_string(&config).expect("cpu serialises"),
            "\"cpu\""
        );
        let error = serde_json::from_str::<DeviceConfig>("\"tpu\"").expect_err("tpu is unknown");
        assert!(error.to_string().contains("tpu"), "{error}");
    }

    #[test]
    fn cpu_probe_succeeds() {
        DeviceConfig::Cpu
            .probe()
            .expect("the CPU is always available");
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_feature_names_it() {
        let error = serde_json::from_str::<DeviceConfig>(r#"{"cuda": {"index": 0}}"#)
            .expect_err("this build has no cuda");
        let message = error.to_string();
        assert!(message.contains("`cuda`"), "{message}");
        assert!(message.contains("cargo feature"), "{message}");
        assert!(message.contains(&compiled_devices()), "{message}");
    }

    #[cfg(not(feature = "wgpu"))]
    #[test]
    fn wgpu_without_feature_names_it() {
        let error = serde_json::from_str::<DeviceConfig>(r#"{"wgpu": {}}"#)
            .expect_err("this build has no wgpu");
        assert!(error.to_string().contains("`wgpu`"), "{error}");
    }

    #[cfg(feature = "wgpu")]
    #[test]
    fn wgpu_config_round_trips() {
        for text in [
            r#"{"wgpu":{"adapter":"preferred"}}"#,
            r#"{"wgpu":{"adapter":{"discrete":1}}}"#,
        ] {
            let config: DeviceConfig = serde_json::from_str(text).expect("wgpu parses");
            assert_eq!(serde_json::to_string(&config).expect("serialises"), text);
        }
        let config: DeviceConfig = serde_json::from_str(r#"{"wgpu":{}}"#).expect("default");
        assert_eq!(config, DeviceConfig::Wgpu(WgpuAdapter::Preferred));
    }

    /// Without a GPU driver the probe returns an error that names the device. It must not
    /// bring the test process down.
    #[cfg(feature = "wgpu")]
    #[test]
    fn wgpu_probe_returns_not_panics() {
        match DeviceConfig::Wgpu(WgpuAdapter::Preferred).probe() {
            Ok(()) => {}
            Err(error) => {
                let message = error.to_string();
                assert!(message.contains("wgpu"), "{message}");
                assert!(message.contains("cpu"), "{message}");
            }
        }
    }

    #[cfg(feature = "cuda")]
    #[test]
    fn cuda_config_round_trips() {
        let config: DeviceConfig =
            serde_json::from_str(r#"{"cuda":{"index":1}}"#).expect("cuda parses");
        assert_eq!(config, DeviceConfig::Cuda { index: 1 });
        assert_eq!(
            serde_json::to_string(&config).expect("serialises"),
            r#"{"cuda":{"index":1}}"#
        );
    }

    #[test]
    fn gpu_unknown_field_rejected() {
        let error = serde_json::from_str::<DeviceConfig>(r#"{"cuda": {"gpu": 0}}"#)
            .expect_err("gpu is not a field");
        assert!(error.to_string().contains("gpu"), "{error}");
    }
}
