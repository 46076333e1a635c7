//! Kernel timing shared by `mpqlab bench gpu` and the `matvec_bench` example: same kernels,
//! same sizes, every format in one run, so ratios between formats are meaningful.

use std::time::Instant;

use crate::{Format, Gpu, GpuError, QuantMatrix};

/// One timed (format, shape) point.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelTiming {
    pub format: Format,
    pub rows: usize,
    pub cols: usize,
    pub batch: usize,
    /// Median time of one product, ms (submission and readback subtracted).
    pub ms: f64,
    pub gflops: f64,
    /// Weight bytes read per second (each weight once per product), GB/s.
    pub weight_gbps: f64,
    pub weight_bytes: usize,
}

/// Times W·x (batch 1) or X·Wᵀ for every format: a warm-up, then three timings of
/// `repeats` back-to-back dispatches minus one single dispatch (which carries the fixed cost of
/// uploading x and reading y back); the median of the three.
pub fn time_formats(gpu: &Gpu, rows: usize, cols: usize, batch: usize, repeats: u32) -> Result<Vec<KernelTiming>, GpuError> {
    let w: Vec<f32> = (0..rows * cols).map(|i| ((i.wrapping_mul(2654435761)) % 1000) as f32 / 500.0 - 1.0).collect();
    let x: Vec<f32> = (0..batch * cols).map(|i| ((i * 40503) % 1000) as f32 / 500.0 - 1.0).collect();
    let repeats = repeats.max(1);
    let mut out = Vec::new();
    for format in Format::ALL {
        let m = QuantMatrix::quantize(&w, rows, cols, format);
        let gm = gpu.upload(&m)?;
        gpu.run(&gm, &x, batch, 1)?;
        let mut per = Vec::new();
        for _ in 0..3 {
            let t0 = Instant::now();
            gpu.run(&gm, &x, batch, 1)?;
            let one = t0.elapsed().as_secs_f64();
            let t0 = Instant::now();
            gpu.run(&gm, &x, batch, repeats + 1)?;
            per.push(((t0.elapsed().as_secs_f64() - one) / repeats as f64).max(1e-9));
        }
        per.sort_by(f64::total_cmp);
        let s = per[1];
        out.push(KernelTiming {
            format,
            rows,
            cols,
            batch,
            ms: s * 1e3,
            gflops: 2.0 * (rows * cols * batch) as f64 / s / 1e9,
            weight_gbps: m.storage_bytes() as f64 / s / 1e9,
            weight_bytes: m.storage_bytes(),
        });
    }
    Ok(out)
}
