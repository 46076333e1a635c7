//! mpqlab GPU: quantized matrix multiply in WGSL compute shaders through wgpu, with a CPU
//! reference for every kernel.
//!
//! * [`formats`]: f32, f16, llama.cpp's Q8_0 / Q4_0 block formats and our Q3_0, packed for
//!   the GPU; reference or error-minimising ([`Scale::Search`]) block scales.
//! * [`cpu`]: reference y = W·x and Y = X·Wᵀ on the stored weights.
//! * [`kernel`]: which kernel a product runs, and its WGSL source.
//! * `device`: wgpu device setup and the kernels (f32 inputs, and int8 inputs with
//!   `dot4I8Packed` for the block formats).
//! * `check`: every kernel against its CPU reference (native tests and the page).
//! * `bench`: kernel timing (`mpqlab bench gpu`, the page's bench panel).

//!
//! Without the `device` feature (the page's CPU-only worker module) only the formats, the CPU
//! references, the layouts and the kernels' WGSL sources build: no wgpu.

#[cfg(feature = "device")]
pub mod bench;
#[cfg(feature = "device")]
pub mod check;
pub mod cpu;
#[cfg(feature = "device")]
pub mod device;
pub mod formats;
pub mod kernel;
pub mod layout;

#[cfg(feature = "device")]
pub use device::{Gpu, GpuMatrix};
pub use kernel::{Activations, Generation, GpuError, Kind, PackedDot, Reduction, Variant};
pub use formats::{Format, QuantMatrix, Scale};
