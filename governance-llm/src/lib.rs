//! Learned models of the `governance` SDK, trained on a city's own data: the backend
//! abstraction, the models, their training loops and the versioned model registry.
//!
//! The first model is a dense autoencoder over numeric sensor columns
//! ([`TrainedAutoencoder`]): it scores how unusual each row is and explains the score by the
//! columns that drove it. The anomaly cleaner of `governance-clean` wraps it as a chain stage.
//!
//! - [`backend`]: which burn device a model trains and runs on ([`DeviceConfig`]).
//! - [`matrix`]: the numeric input ([`FeatureMatrix`], with `NaN` for a missing value) and its
//!   per-column standardisation.
//! - [`autoencoder`]: the network, its training and its row scores.
//! - [`chat`]: a client of OpenAI-compatible chat-completions servers ([`chat::ChatClient`]),
//!   the HTTP implementation of `governance_core::chat::ChatModel`.
//! - [`cell_classifier`]: logistic regression or a small perceptron that turns detector
//!   features of a cell into an error probability ([`TrainedCellClassifier`]).
//! - [`forecaster`]: a global quantile forecaster for hourly series, trained with the pinball
//!   loss and calibrated by split conformal prediction ([`TrainedForecaster`]).
//! - [`pair_classifier`]: a perceptron that turns the comparison vector of a record pair into
//!   a match probability ([`TrainedPairClassifier`]), for entity resolution.
//! - [`registry`]: saving, listing, loading and rolling back model versions
//!   ([`ModelRegistry`]).
//! - [`tagger`]: a token tagger for names, street addresses, places and organisations in
//!   English and Chinese text ([`Tagger`]), with the generator of its training data.
//! - [`imputer`]: a perceptron that predicts a missing numeric or categorical cell from the
//!   other columns of its row ([`TrainedImputer`]).
//! - [`threshold`]: moving a score threshold to the best F1 on labelled feedback.
//! - [`embed`]: the [`TextEmbedder`] interface of text embeddings.
//! - [`encoder`]: a pretrained BERT-family sentence encoder such as all-MiniLM-L6-v2
//!   ([`SentenceEncoder`]), loaded from safetensors weights and a `tokenizer.json` that the
//!   caller provides; it implements [`TextEmbedder`].
//!
//! # Model conformance suite
//!
//! `tests/conformance.rs` runs the same four checks on the CPU for every burn model of the
//! crate: the autoencoder, the cell and pair classifiers, the imputer, the forecaster and the
//! tagger. The checks are the output shape of `forward` or of the predict call, equal
//! predictions after a save and load round trip, equal predictions for equal seeds and different ones for
//! different seeds, and a training loss that falls. Run it with
//! `cargo test -p governance-llm --test conformance`; a new model should get its own module
//! under `tests/conformance/`.
//!
//! # Why burn
//!
//! burn (0.22) is a deep-learning framework written in Rust, so models train and run inside
//! the SDK's process with no Python runtime. The same model code runs on the CPU (the ndarray
//! backend, the default here) or on a GPU backend, chosen by the device at run time. Its
//! autodiff and Adam optimizer train the models. Its `burn-store` crate writes weights as
//! safetensors, a format other tools can read and that cannot run code when loaded.
//!
//! # Example
//!
//! ```
//! use governance_llm::{AutoencoderConfig, FeatureMatrix, TrainedAutoencoder};
//!
//! // Three columns that move together: b = 2a, c = a + 1.
//! let columns = vec!["a".to_string(), "b".to_string(), "c".to_string()];
//! let rows: Vec<Vec<f32>> = (0..300)
//!     .map(|i| {
//!         let a = (i % 30) as f32;
//!         vec![a, 2.0 * a, a + 1.0]
//!     })
//!     .collect();
//! let data = FeatureMatrix::from_rows(columns.clone(), &rows)?;
//! let config = AutoencoderConfig { bottleneck: 1, epochs: 20, ..Default::default() };
//! let model = TrainedAutoencoder::train(&config, &data)?;
//!
//! // b is far from 2a in the second row; the first row follows the pattern.
//! let probe = FeatureMatrix::from_rows(columns, &[vec![10.0, 20.0, 11.0], vec![10.0, 80.0, 11.0]])?;
//! let scores = model.score_rows(&probe)?;
//! assert!(scores[1].is_anomaly);
//! assert!(scores[1].score > scores[0].score);
//! assert_eq!(model.columns()[scores[1].top_columns[0].column], "b");
//! # Ok::<(), governance_llm::Error>(())
//! ```

pub mod autoencoder;
pub mod backend;
pub mod cell_classifier;
pub mod chat;
pub mod embed;
pub mod encoder;
mod error;
pub mod forecaster;
pub mod imputer;
pub mod matrix;
pub mod pair_classifier;
pub mod registry;
pub mod tagger;
pub mod threshold;

pub use autoencoder::{
    AutoencoderConfig, AutoencoderNetwork, ColumnContribution, RowScore, TrainedAutoencoder,
    TrainingMetrics,
};
pub use backend::{Device, DeviceConfig, WgpuAdapter};
pub use cell_classifier::{
    CELL_CLASSIFIER_KIND, CellClassifierConfig, CellNetwork, TrainedCellClassifier,
};
pub use embed::{TextEmbedder, cosine};
pub use encoder::{EncoderError, EncoderOptions, SentenceEncoder};
pub use error::{Error, Result};
pub use forecaster::{
    DerivedCovariates, ForecastTrainingMetrics, ForecastWindow, ForecasterConfig, HourlySeries,
    QuantileForecast, SeriesSet, TrainedForecaster, ValidationSplit,
};
pub use imputer::{
    ColumnValues, IMPUTER_KIND, Imputation, ImputationTable, ImputedValue, ImputerConfig,
    ImputerMetrics, TableColumn, TrainedImputer,
};
pub use matrix::{FeatureMatrix, Standardization};
pub use pair_classifier::{
    PairClassifierConfig, PairNetwork, PairTrainingMetrics, TrainedPairClassifier, Validation,
};
pub use registry::{ModelCard, ModelMeta, ModelMetrics, ModelRegistry, RegisteredModel};
pub use tagger::{EntityLabel, EntitySpan, Tagger, TaggerConfig};
