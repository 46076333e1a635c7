//! mpqlab's machine perception: small `burn` models that judge compressed media.
//!
//! The models are plain burn modules (no backend type parameter in burn 0.22: the backend is
//! the [`Device`](burn::tensor::Device) they live on), one module per model. Inference needs
//! only burn's `std`, `flex` and `store` features and builds for wasm32; training (autodiff,
//! Adam) is behind this crate's `train` feature and runs natively on the CPU.
//!
//! - [`fashion_cnn`]: a small CNN for Fashion-MNIST; bundled f16 weights.
//! - [`float_codec`]: lossless f16/bf16 weight compression (entropy-coded exponents, DFloat11-like).
//! - [`data`]: readers for the data sets (IDX) and the compact test-subset format.

pub mod data;
pub mod fashion_cnn;
pub mod float_codec;
#[cfg(feature = "train")]
pub mod train;

pub use fashion_cnn::{FASHION_CLASSES, FashionCnn, FashionCnnConfig};

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
}
