//! The model lab: how many bits does a weight need? Each bundled model with its weights in
//! f32, f16, Q8_0, Q4_0, Q3_0 and lossless f16, run through our WGSL kernels on the browser's
//! WebGPU (or their CPU reference); the kernels checked against their references and timed.
//!
//! This file is the lab's protocol; `page.rs` is its page side, `worker.rs` its worker side.

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod page;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod worker;
#[cfg(all(target_arch = "wasm32", feature = "gpu"))]
mod kernels;

use mpq_core::target::{Target, TargetReport};
use serde::{Deserialize, Serialize};

use crate::bridge::WorkerModule;

/// The model lab (its [`Protocol`](crate::bridge::Protocol) is made by the registry).
pub struct Lab;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// The models this lab can evaluate.
    Catalog,
    /// Every weight format (and, with `search`, the error-minimising scales) of one model over
    /// its first `items` test items, on our kernels (`on_gpu`) or their CPU reference; with
    /// `target`, also the mix of formats that comes nearest that size.
    Evaluate { model: String, on_gpu: bool, items: u32, search: bool, target: Option<Target> },
    /// Every kernel against its CPU reference on this browser's adapter.
    CheckKernels,
    /// The kernels timed: each n×n size of `sizes` (as typed) and format, after the adapter's
    /// streaming-read ceiling; with `baseline` the v1 kernels too.
    BenchKernels { sizes: String, batch: u32, repeats: u32, baseline: bool },
}

/// The worker module a request needs: the GPU module for our kernels on WebGPU (an evaluation
/// on the GPU, the kernel checks and bench); the CPU references run in the CPU module.
pub fn module(request: &Request) -> WorkerModule {
    match request {
        Request::Evaluate { on_gpu: true, .. } | Request::CheckKernels | Request::BenchKernels { .. } => WorkerModule::Gpu,
        Request::Catalog | Request::Evaluate { .. } => WorkerModule::Cpu,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Catalog { models: Vec<ModelInfo> },
    Adapter(AdapterInfo),
    QuantRow(QuantRow),
    /// The evaluation's plot (the same SVG as `mpqlab quant --svg`).
    QuantDone { svg: String, elapsed_ms: f64 },
    CheckRow(CheckRow),
    CheckDone { total: u32, failed: u32 },
    /// What the bench runs on and the ceiling it measured (before the first row).
    BenchInfo(BenchInfo),
    BenchRow(KernelTiming),
    /// Points this adapter could not run (a matrix beyond one binding for the v1 kernels).
    BenchSkipped(String),
}

/// The bench's setting: adapter, clock, whether subgroups were used, the card's peak where
/// known, the streaming-read ceiling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchInfo {
    pub adapter: String,
    pub clock: String,
    pub subgroups: bool,
    /// How `dot4I8Packed` ran in the int8-input rows (`browser`), or `None` where none ran.
    pub packed_dot: Option<String>,
    pub peak_gbps: Option<f64>,
    pub ceiling_gbps: f64,
    pub ceiling_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    pub name: String,
    pub dataset_name: String,
}

/// The GPU adapter as wgpu and the browser name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterInfo {
    pub name: String,
    pub vendor: u32,
    pub device: u32,
    pub device_type: String,
    pub backend: String,
    pub driver: String,
    pub driver_info: String,
    pub max_storage_binding: u64,
}

/// One weight format's numbers (`mpqlab quant`'s row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantRow {
    pub variant: String,
    /// Where it ran (`WebGPU: adapter`, `CPU reference`).
    pub backend: String,
    pub bits_per_weight: f64,
    pub weight_bytes: usize,
    pub bytes_vs_f16: f64,
    pub accuracy: f64,
    pub reference_accuracy: f64,
    pub top1_agreement: f64,
    pub mean_kl: f64,
    pub weight_rel_rmse: f64,
    /// The target size's row: its search (the format per layer in `value`).
    pub target: Option<TargetReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRow {
    pub format: String,
    /// `f32`, or `int8` (x quantised to Q8_0, dot4I8Packed).
    pub inputs: String,
    pub scale: String,
    /// `matvec` or `matmul`.
    pub kind: String,
    pub rows: u32,
    pub cols: u32,
    pub batch: u32,
    pub max_abs_error: f64,
    pub share_of_tolerance: f64,
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelTiming {
    pub adapter: String,
    pub format: String,
    /// `v2` (today's kernels) or `v1` (the baseline).
    pub kernels: String,
    /// `f32`, or `int8` (x quantised to Q8_0, dot4I8Packed).
    pub inputs: String,
    pub rows: u32,
    pub cols: u32,
    pub batch: u32,
    pub ms: f64,
    pub gflops: f64,
    pub weight_gbps: f64,
    pub weight_bytes: u64,
    pub copies: u32,
    pub share_of_ceiling: f64,
    pub share_of_peak: Option<f64>,
    pub vs_f32: Option<f64>,
    pub vs_v1: Option<f64>,
    /// An int8-input row's speed vs the f32-input kernel of its format.
    pub vs_f32_inputs: Option<f64>,
}
