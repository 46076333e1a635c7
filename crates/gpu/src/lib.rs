//! mpqlab GPU: quantized matrix multiply in WGSL compute shaders through wgpu, with a CPU
//! reference for every kernel.
//!
//! * [`formats`]: f32, f16, and llama.cpp's Q8_0 / Q4_0 block formats, packed for the GPU.
//! * [`cpu`]: reference y = W·x and Y = X·Wᵀ on the stored weights.
//! * [`device`]: wgpu device setup and the kernels (matrix–vector and tiled matrix–matrix).

#[cfg(not(target_arch = "wasm32"))]
pub mod bench;
pub mod cpu;
pub mod device;
pub mod formats;

pub use device::{Gpu, GpuError, GpuMatrix, Kind};
pub use formats::{Format, QuantMatrix};
