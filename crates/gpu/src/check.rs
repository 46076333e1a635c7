//! Every kernel against its CPU reference, as a library function: the native test suite runs it
//! on whatever adapter wgpu finds (lavapipe in CI), and the page runs the very same checks on
//! the browser's WebGPU (SwiftShader in headless Chromium) and shows the table.

use crate::{Activations, Format, Generation, Gpu, GpuError, GpuMatrix, Kind, QuantMatrix, Reduction, Scale, cpu};

/// Shapes that are not multiples of the block (32) or tile (16) sizes, plus exact multiples;
/// batch 1 runs the matrix–vector kernel, larger batches the tiled matrix–matrix kernel.
pub const SHAPES: [(usize, usize, usize); 9] = [
    (1, 1, 1),
    (7, 33, 1),
    (64, 100, 1),
    (130, 257, 1),
    (5, 64, 1),
    (33, 65, 17),
    (100, 96, 16),
    (17, 31, 20),
    (48, 200, 33),
];

/// Deterministic pseudo-random values in [-1, 1) (xorshift), with a few outliers (×6) so block
/// scales differ between blocks.
pub fn test_values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    (0..n)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let v = (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
            if i % 97 == 3 { v * 6.0 } else { v }
        })
        .collect()
}

/// One kernel run compared with the CPU reference.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelCheck {
    pub format: Format,
    pub scale: Scale,
    pub kind: Kind,
    pub generation: Generation,
    pub reduction: Reduction,
    pub activations: Activations,
    pub rows: usize,
    pub cols: usize,
    pub batch: usize,
    /// Largest |gpu − cpu| over the outputs.
    pub max_abs_error: f64,
    /// Largest error as a share of its output's tolerance (≤ 1 passes).
    pub worst_share_of_tolerance: f64,
    pub passed: bool,
}

/// Runs one kernel (format, scale rule, shape, generation, reduction, inputs) on the GPU and on
/// the CPU reference (`cpu::matmul`, or `cpu::matmul_int8` for int8 inputs); `max_binding`
/// (bytes) splits a V2 matrix into slabs of at most that size.
///
/// Tolerance: the two sum in different orders, so each output may differ by rounding bounded by
/// 1e-5 · Σ|wᵢ·xᵢ| (+1e-6), x being the inputs as the kernel sees them (quantised for int8).
/// The integer parts (block codes, scales, int8 dot products) are the same on both sides, so
/// any unpacking mistake shows up as an error of the size of a weight.
#[allow(clippy::too_many_arguments)]
pub async fn check_variant(
    gpu: &Gpu,
    format: Format,
    scale: Scale,
    rows: usize,
    cols: usize,
    batch: usize,
    generation: Generation,
    reduction: Reduction,
    activations: Activations,
    max_binding: Option<usize>,
) -> Result<KernelCheck, GpuError> {
    let w = test_values(rows * cols, (rows * 31 + cols) as u64);
    let x = test_values(batch * cols, (batch * 7 + cols) as u64 + 1);
    let m = QuantMatrix::quantize_with(&w, rows, cols, format, scale).map_err(|e| GpuError::Input(e.to_string()))?;
    let (expect, x_seen) = match activations {
        Activations::F32 => (if batch == 1 { cpu::matvec(&m, &x) } else { cpu::matmul(&m, &x, batch) }, x.clone()),
        Activations::Int8 => (
            cpu::matmul_int8(&m, &x, batch)
                .ok_or_else(|| GpuError::Input(format!("{} weights have no int8 path", format.name())))?,
            cpu::dequantized_activations(&x, batch, cols),
        ),
    };
    let gm: GpuMatrix = match generation {
        Generation::V1 => gpu.upload_v1(&m)?,
        Generation::V2 => gpu.upload_in_slabs(&m, max_binding.unwrap_or(gpu.max_binding()))?,
    };
    let got = gpu.run_variant(&gm, &x, batch, 1, reduction, activations).await?;
    if got.len() != expect.len() {
        return Err(GpuError::Readback(format!("{} outputs, expected {}", got.len(), expect.len())));
    }
    let deq = m.dequantize();
    let (mut max_abs_error, mut worst) = (0f64, 0f64);
    for (i, (g, e)) in got.iter().zip(&expect).enumerate() {
        let (b, r) = (i / rows, i % rows);
        let mag: f32 = (0..cols).map(|c| (deq[r * cols + c] * x_seen[b * cols + c]).abs()).sum();
        let tol = (1e-5 * mag + 1e-6) as f64;
        let err = (g - e).abs() as f64;
        // NaN from the GPU must fail, not compare false everywhere.
        let err = if err.is_nan() { f64::INFINITY } else { err };
        max_abs_error = max_abs_error.max(err);
        worst = worst.max(err / tol);
    }
    Ok(KernelCheck {
        format,
        scale,
        kind: if batch == 1 { Kind::MatVec } else { Kind::MatMul },
        generation,
        reduction,
        activations,
        rows,
        cols,
        batch,
        max_abs_error,
        worst_share_of_tolerance: worst,
        passed: worst <= 1.0,
    })
}

/// The inputs the bandwidth kernels take for `format` on this device: f32, and int8 for the
/// block formats where the device has `dot4I8Packed`.
pub fn activations_for(gpu: &Gpu, format: Format) -> Vec<Activations> {
    if matches!(format, Format::F32 | Format::F16) || !gpu.packed_dot.available() {
        vec![Activations::F32]
    } else {
        vec![Activations::F32, Activations::Int8]
    }
}

/// Every reduction this device has × format × inputs ([`activations_for`]) × scale rule ×
/// [`SHAPES`] of the bandwidth kernels; `each` sees each result as it arrives (the page fills
/// its table live).
pub async fn check_all(gpu: &Gpu, mut each: impl FnMut(usize, usize, &KernelCheck)) -> Result<Vec<KernelCheck>, GpuError> {
    let mut cases: Vec<(Reduction, Format, Activations, Scale, (usize, usize, usize))> = Vec::new();
    for red in gpu.reductions() {
        for f in Format::ALL {
            let scales: &[Scale] = if matches!(f, Format::F32 | Format::F16) { &[Scale::Reference] } else { &[Scale::Reference, Scale::Search] };
            for a in activations_for(gpu, f) {
                for &s in scales {
                    cases.extend(SHAPES.into_iter().map(|shape| (red, f, a, s, shape)));
                }
            }
        }
    }
    let mut out = Vec::with_capacity(cases.len());
    for (k, (red, format, act, scale, (rows, cols, batch))) in cases.iter().copied().enumerate() {
        let c = check_variant(gpu, format, scale, rows, cols, batch, Generation::V2, red, act, None).await?;
        each(k, cases.len(), &c);
        out.push(c);
    }
    Ok(out)
}
