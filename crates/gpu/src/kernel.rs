//! Which kernel a product runs and its WGSL source: plain data, no device. The CPU-only worker
//! module builds this crate without wgpu (no `device` feature) and still names these types.

use crate::formats::Format;
use crate::layout;

#[derive(Debug, Clone, PartialEq)]
pub enum GpuError {
    NoAdapter(String),
    Device(String),
    TooLarge(String),
    Readback(String),
    /// The caller's input does not fit the matrix (a bad shape).
    Input(String),
}

impl std::fmt::Display for GpuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GpuError::NoAdapter(e) => write!(f, "no GPU adapter: {e}"),
            GpuError::Device(e) => write!(f, "GPU device error: {e}"),
            GpuError::TooLarge(e) => write!(f, "too large for this GPU: {e}"),
            GpuError::Readback(e) => write!(f, "GPU readback failed: {e}"),
            GpuError::Input(e) => write!(f, "bad input for the GPU kernel: {e}"),
        }
    }
}
impl std::error::Error for GpuError {}

/// Which kernel a product runs: batch 1 is a matrix–vector product. (The bandwidth kernels
/// share one source for both; the v1 kernels had a tiled matrix–matrix kernel.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    MatVec,
    MatMul,
}

/// Which generation of kernels (and GPU layout) a matrix is uploaded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    /// The first kernels (kept as the bench's baseline, `kernels/v1/`): one 64-lane workgroup
    /// per row, byte-wise unpacking, [`QuantMatrix`](crate::QuantMatrix)'s layout as is.
    V1,
    /// The bandwidth kernels (`kernels/matvec.wgsl`): [`crate::layout`], R rows per workgroup,
    /// whole-word decoding, constants baked into the pipeline.
    V2,
}

impl Generation {
    pub fn name(self) -> &'static str {
        match self {
            Generation::V1 => "v1",
            Generation::V2 => "v2",
        }
    }
}

/// How a workgroup sums its lanes' partial sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// A tree in workgroup memory (every adapter).
    Workgroup,
    /// `subgroupAdd`, then workgroup memory across subgroups (adapters with
    /// [`wgpu::Features::SUBGROUP`]).
    Subgroup,
}

impl Reduction {
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Workgroup => "workgroup",
            Reduction::Subgroup => "subgroup",
        }
    }
}

/// What the kernels multiply the weights with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activations {
    /// x as given (f32): every format.
    F32,
    /// x quantised to Q8_0 blocks and integer block dot products with `dot4I8Packed`
    /// (`kernels/matvec_int8.wgsl`): block formats, on devices whose WGSL has the built-in.
    Int8,
}

impl Activations {
    pub fn name(self) -> &'static str {
        match self {
            Activations::F32 => "f32",
            Activations::Int8 => "int8",
        }
    }
}

/// Whether and how this device runs WGSL's `dot4I8Packed` (the int8-activation path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackedDot {
    /// The shader compiler lacks the built-in (WGSL language feature
    /// `packed_4x8_integer_dot_product`): no int8 path.
    Absent,
    /// The browser's WGSL has the built-in; whether it becomes one instruction is the
    /// browser's business (Chromium polyfills it where the GPU has no integer dot product).
    Browser,
    /// Native Vulkan with integer dot products (Vulkan 1.3 or VK_KHR_shader_integer_dot_product):
    /// naga emits `OpSDot`.
    Native,
    /// Native, but the driver has no integer dot products: naga writes it as shifts and adds.
    Polyfilled,
}

impl PackedDot {
    pub fn name(self) -> &'static str {
        match self {
            PackedDot::Absent => "absent",
            PackedDot::Browser => "browser",
            PackedDot::Native => "native",
            PackedDot::Polyfilled => "polyfilled",
        }
    }
    pub fn available(self) -> bool {
        self != PackedDot::Absent
    }
}

/// The shape constants of one bandwidth-kernel pipeline: the choice of variant, in one place
/// ([`Variant::choose`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Variant {
    pub format: Format,
    /// Lanes per workgroup.
    pub wg: u32,
    /// Rows per workgroup.
    pub rows: u32,
    /// Inputs per pass (1 for a matvec; up to 8 of a batch).
    pub inputs: u32,
    pub reduction: Reduction,
    pub activations: Activations,
}

impl Variant {
    /// Lanes: the largest power of two up to the row's unit count, at most 64 and at least 8,
    /// so that no lane idles through the K loop (CPU drivers such as SwiftShader run every
    /// lane, idle or not: 128 lanes on a 64-unit row took twice the time of 64), and a large
    /// K still gives each lane several independent 16-byte loads.
    /// Batch 1: R rows so that a lane has 64–256 bytes of weight loads in flight per step
    /// (enough to cover memory latency on large GPUs, few enough registers): f32/f16
    /// (128/64-byte units) two rows, the block formats four. Batches: 8 inputs per pass (each
    /// block's scale and offset used 8 times), 2 rows.
    /// The int8-activation kernels take the same shapes as the f32-input ones of their format.
    pub fn choose(format: Format, cols: usize, batch: usize, reduction: Reduction, activations: Activations) -> Variant {
        let units = layout::units_per_row(format, cols).max(1);
        let wg = (1u32 << units.ilog2()).clamp(8, 64);
        if batch <= 1 {
            let rows = if matches!(format, Format::F32 | Format::F16) { 2 } else { 4 };
            Variant { format, wg, rows, inputs: 1, reduction, activations }
        } else {
            Variant { format, wg, rows: 2, inputs: batch.min(8) as u32, reduction, activations }
        }
    }
}

/// One section (`// ---- name ----` up to the next) of a family file.
fn section(text: &'static str, name: &str) -> &'static str {
    let marker = format!("// ---- {name} ----");
    let start = text.find(&marker).unwrap_or_else(|| panic!("no section {name}"));
    let rest = &text[start..];
    let end = rest[marker.len()..].find("// ---- ").map_or(rest.len(), |e| e + marker.len());
    &rest[..end]
}

/// WGSL of the bandwidth kernel for `v` on rows of `cols` weights: generated constants, the
/// shared bindings (common.wgsl), the format's decoding (float.wgsl, block.wgsl, or block_int8.wgsl for int8 inputs), the
/// reduction (reduce.wgsl) and the kernel (matvec.wgsl or matvec_int8.wgsl).
pub fn kernel_source(v: &Variant, cols: usize) -> String {
    let units = layout::units_per_row(v.format, cols) as u32;
    let (family, kernel) = match (v.format, v.activations) {
        (Format::F32 | Format::F16, _) => (include_str!("kernels/float.wgsl"), include_str!("kernels/matvec.wgsl")),
        (_, Activations::F32) => (include_str!("kernels/block.wgsl"), include_str!("kernels/matvec.wgsl")),
        (_, Activations::Int8) => (include_str!("kernels/block_int8.wgsl"), include_str!("kernels/matvec_int8.wgsl")),
    };
    let (sg_param, sg_lane) = match v.reduction {
        Reduction::Workgroup => ("", "0u,"),
        Reduction::Subgroup => (", @builtin(subgroup_invocation_id) sg_lane: u32", "sg_lane,"),
    };
    // Chromium requires `enable subgroups;`; naga rejects it (subgroups are a capability there).
    let enable = if v.reduction == Reduction::Subgroup && cfg!(target_arch = "wasm32") { "enable subgroups;\n" } else { "" };
    let kernel = kernel.replace("/*SG_PARAM*/", sg_param).replace("/*SG_LANE*/", sg_lane);
    format!(
        "{enable}const WG: u32 = {wg}u;\nconst R: u32 = {r}u;\nconst B: u32 = {b}u;\nconst RB: u32 = {rb}u;\n\
         const UNITS: u32 = {units}u;\nconst ITERS: u32 = {iters}u;\nconst BPU: u32 = {bpu}u;\n\
         const XV: u32 = {xv}u;\nconst NB: u32 = {nb}u;\n\n{common}\n{fmt}\n{red}\n{kernel}",
        wg = v.wg,
        r = v.rows,
        b = v.inputs,
        rb = v.rows * v.inputs,
        iters = units.div_ceil(v.wg),
        bpu = layout::blocks_per_unit(v.format),
        xv = layout::padded_cols(v.format, cols) / 4,
        nb = layout::padded_blocks(v.format, cols),
        common = include_str!("kernels/common.wgsl"),
        fmt = section(family, v.format.name()),
        red = section(include_str!("kernels/reduce.wgsl"), v.reduction.name()),
    )
}

/// WGSL of one v1 kernel for one format: the shared part, the format's accessors, the kernel.
pub fn shader_source_v1(format: Format, kind: Kind) -> String {
    let fmt = match format {
        Format::F32 => include_str!("kernels/v1/f32.wgsl"),
        Format::F16 => include_str!("kernels/v1/f16.wgsl"),
        Format::Q8_0 => include_str!("kernels/v1/q8_0.wgsl"),
        Format::Q4_0 => include_str!("kernels/v1/q4_0.wgsl"),
        Format::Q3_0 => include_str!("kernels/v1/q3_0.wgsl"),
    };
    let kernel = match kind {
        Kind::MatVec => include_str!("kernels/v1/matvec.wgsl"),
        Kind::MatMul => include_str!("kernels/v1/matmul.wgsl"),
    };
    format!("{}\n{fmt}\n{kernel}", include_str!("kernels/v1/common.wgsl"))
}
