//! Kernel timing shared by `mpqlab bench gpu`, the `matvec_bench` example and the page's bench
//! panel: same kernels, same sizes, every format in one run, so ratios between formats are
//! meaningful. The clock is passed in (`Instant` natively, `performance.now()` in a browser).

use crate::{Format, Gpu, GpuError, QuantMatrix};

/// Largest square matrix the page's bench accepts: 8192² in f32 is 256 MiB, about the most a
/// browser's WebGPU binds in one buffer.
pub const MAX_SIDE: usize = 8192;

/// Parses a list of square sizes ("1024, 4096"), each 1 ..= [`MAX_SIDE`].
pub fn parse_sizes(text: &str) -> Result<Vec<usize>, GpuError> {
    let mut out = Vec::new();
    for part in text.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        let n: usize = part
            .parse()
            .map_err(|_| GpuError::Input(format!("'{part}' is not a matrix size (write e.g. 1024, 4096)")))?;
        if n == 0 || n > MAX_SIDE {
            return Err(GpuError::Input(format!("size {n} is outside 1 … {MAX_SIDE}")));
        }
        out.push(n);
    }
    if out.is_empty() {
        return Err(GpuError::Input("give at least one matrix size, e.g. 1024, 4096".into()));
    }
    Ok(out)
}

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

/// Times W·x (batch 1) or X·Wᵀ for one format: a warm-up, then three timings of `repeats`
/// back-to-back dispatches minus one single dispatch (which carries the fixed cost of uploading
/// x and reading y back); the median of the three. `now_ms` is a monotonic clock in ms.
pub async fn time_format(
    gpu: &Gpu,
    format: Format,
    rows: usize,
    cols: usize,
    batch: usize,
    repeats: u32,
    now_ms: &dyn Fn() -> f64,
) -> Result<KernelTiming, GpuError> {
    let w: Vec<f32> = (0..rows * cols).map(|i| ((i.wrapping_mul(2654435761)) % 1000) as f32 / 500.0 - 1.0).collect();
    let x: Vec<f32> = (0..batch * cols).map(|i| ((i * 40503) % 1000) as f32 / 500.0 - 1.0).collect();
    let repeats = repeats.max(1);
    let m = QuantMatrix::quantize(&w, rows, cols, format);
    drop(w);
    let gm = gpu.upload(&m)?;
    gpu.run_async(&gm, &x, batch, 1).await?;
    let mut per = Vec::new();
    for _ in 0..3 {
        let t0 = now_ms();
        gpu.run_async(&gm, &x, batch, 1).await?;
        let one = now_ms() - t0;
        let t0 = now_ms();
        gpu.run_async(&gm, &x, batch, repeats + 1).await?;
        per.push(((now_ms() - t0 - one) / repeats as f64 / 1e3).max(1e-9));
    }
    per.sort_by(f64::total_cmp);
    let s = per[1];
    Ok(KernelTiming {
        format,
        rows,
        cols,
        batch,
        ms: s * 1e3,
        gflops: 2.0 * (rows * cols * batch) as f64 / s / 1e9,
        weight_gbps: m.storage_bytes() as f64 / s / 1e9,
        weight_bytes: m.storage_bytes(),
    })
}

/// [`time_format`] for every format, in [`Format::ALL`] order (native, blocking).
#[cfg(not(target_arch = "wasm32"))]
pub fn time_formats(gpu: &Gpu, rows: usize, cols: usize, batch: usize, repeats: u32) -> Result<Vec<KernelTiming>, GpuError> {
    let start = std::time::Instant::now();
    let now_ms = move || start.elapsed().as_secs_f64() * 1e3;
    Format::ALL
        .into_iter()
        .map(|format| pollster::block_on(time_format(gpu, format, rows, cols, batch, repeats, &now_ms)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_or_say_why() {
        assert_eq!(parse_sizes("1024, 4096").unwrap(), vec![1024, 4096]);
        assert_eq!(parse_sizes(" 7 ").unwrap(), vec![7]);
        for bad in ["", " , ", "0", "8193", "4k", "-1"] {
            assert!(matches!(parse_sizes(bad), Err(GpuError::Input(_))), "{bad:?}");
        }
    }
}
