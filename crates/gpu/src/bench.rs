//! Kernel timing shared by `mpqlab bench gpu`, the `matvec_bench` example and the page's bench
//! panel: same kernels, same sizes, every format in one run, so ratios between formats (and
//! between the v1 and v2 kernels, [`Generation`]) are meaningful.
//!
//! What makes the numbers honest:
//! * GPU timestamps around a pass of many back-to-back products where the adapter has
//!   `TIMESTAMP_QUERY` ([`Clock::GpuTimestamps`]); otherwise the wall clock of `repeats + 1`
//!   products minus one (which carries the fixed cost of submission and readback).
//! * Rotated copies of the matrix, so that one timing touches at least [`FOOTPRINT`] bytes of
//!   weights: a matrix that fits the last-level cache (50 MB on an H100) would otherwise be
//!   timed from cache.
//! * The stack's own ceiling in the same run: a plain streaming read ([`stream_ceiling`]) of a
//!   buffer of the same footprint.
//! * Effective GB/s counts each weight's stored bytes (scales included) once per product, and
//!   is set against the adapter's peak where [`peak_bandwidth`] knows the card.
//! * The int8-input kernels ([`Activations::Int8`]) are timed beside the f32-input ones of the
//!   same format, x quantised beforehand (as llama.cpp's separate quantisation pass; its one
//!   pass over K floats is not in the time).

use crate::device::Prepared;
use crate::kernel::{Activations, Generation, PackedDot};
use crate::{Format, Gpu, GpuError, QuantMatrix};

/// Largest square matrix the page's bench accepts: 8192² in f32 is 256 MiB, about the most a
/// browser's WebGPU binds in one buffer (larger matrices are split into slabs, but the page's
/// memory is the limit there). The CLI takes up to [`MAX_SIDE_NATIVE`].
pub const MAX_SIDE: usize = 8192;
/// 32768² f32 is 4 GiB.
pub const MAX_SIDE_NATIVE: usize = 32768;

/// Bytes of weights one timing cycles through (rotated copies of a smaller matrix).
pub const FOOTPRINT: usize = 256 << 20;
/// At most this many copies (1024² Q4_0 would need 450).
pub const MAX_COPIES: usize = 64;

/// Parses a list of square sizes ("1024, 4096"), each 1 ..= `max`.
pub fn parse_sizes_up_to(text: &str, max: usize) -> Result<Vec<usize>, GpuError> {
    let mut out = Vec::new();
    for part in text.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        let n: usize = part
            .parse()
            .map_err(|_| GpuError::Input(format!("'{part}' is not a matrix size (write e.g. 1024, 4096)")))?;
        if n == 0 || n > max {
            return Err(GpuError::Input(format!("size {n} is outside 1 … {max}")));
        }
        out.push(n);
    }
    if out.is_empty() {
        return Err(GpuError::Input("give at least one matrix size, e.g. 1024, 4096".into()));
    }
    Ok(out)
}

/// [`parse_sizes_up_to`] with the page's limit, [`MAX_SIDE`].
pub fn parse_sizes(text: &str) -> Result<Vec<usize>, GpuError> {
    parse_sizes_up_to(text, MAX_SIDE)
}

/// Peak memory bandwidth (GB/s, vendor figures) of common GPUs, matched on the adapter's name;
/// the longest matching key wins ("H100 PCIe" before "H100"). `None` for unknown adapters
/// (and CPU drivers, whose figure depends on the host).
pub fn peak_bandwidth(adapter: &str) -> Option<(f64, &'static str)> {
    const TABLE: &[(&str, f64)] = &[
        ("H200", 4800.0),
        ("H100 PCIe", 2000.0),
        ("H100 NVL", 3900.0),
        ("H100", 3350.0),
        ("GH200", 4000.0),
        ("B200", 8000.0),
        ("A100-SXM4-80GB", 2039.0),
        ("A100 80GB PCIe", 1935.0),
        ("A100", 1555.0),
        ("L40S", 864.0),
        ("L40", 864.0),
        ("L4", 300.0),
        ("A10G", 600.0),
        ("A10", 600.0),
        ("T4", 320.0),
        ("V100", 900.0),
        ("RTX 5090", 1792.0),
        ("RTX 4090", 1008.0),
        ("RTX 4080", 717.0),
        ("RTX 4070 Ti", 504.0),
        ("RTX 4070", 504.0),
        ("RTX 4060", 272.0),
        ("RTX 3090 Ti", 1008.0),
        ("RTX 3090", 936.0),
        ("RTX 3080", 760.0),
        ("RTX 3070", 448.0),
        ("RTX 3060", 360.0),
        ("RTX 2080 Ti", 616.0),
        ("RTX A6000", 768.0),
        ("RTX 6000 Ada", 960.0),
        ("MI300X", 5300.0),
        ("MI250X", 3277.0),
        ("RX 7900 XTX", 960.0),
        ("RX 7900 XT", 800.0),
        ("RX 6900 XT", 512.0),
        ("Apple M1 Max", 400.0),
        ("Apple M1 Pro", 200.0),
        ("Apple M1", 68.0),
        ("Apple M2 Max", 400.0),
        ("Apple M2 Pro", 200.0),
        ("Apple M2", 100.0),
        ("Apple M3 Max", 400.0),
        ("Apple M3", 100.0),
    ];
    TABLE.iter().filter(|(k, _)| adapter.contains(k)).max_by_key(|(k, _)| k.len()).map(|&(k, v)| (v, k))
}

/// How a time was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    GpuTimestamps,
    WallClock,
}

impl Clock {
    pub fn name(self) -> &'static str {
        match self {
            Clock::GpuTimestamps => "gpu timestamps",
            Clock::WallClock => "wall clock",
        }
    }
}

/// One timed (format, kernels, shape) point.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelTiming {
    pub format: Format,
    pub generation: Generation,
    pub activations: Activations,
    pub rows: usize,
    pub cols: usize,
    pub batch: usize,
    /// Median time of one product, ms.
    pub ms: f64,
    pub gflops: f64,
    /// Weight bytes read per second (each stored byte once per product), GB/s.
    pub weight_gbps: f64,
    pub weight_bytes: usize,
    /// Rotated copies of the matrix the timing cycled through.
    pub copies: usize,
    pub clock: Clock,
}

/// The streaming-read ceiling of this adapter and stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Ceiling {
    pub bytes: usize,
    pub ms: f64,
    pub gbps: f64,
}

/// A whole bench run: what it ran on, the ceiling, the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRun {
    pub adapter: String,
    pub backend: String,
    pub device_type: String,
    /// Whether the v2 kernels used `subgroupAdd` (else a workgroup-memory tree).
    pub subgroups: bool,
    /// How `dot4I8Packed` ran in the int8-input rows; `None` where none ran (not asked for, or
    /// the device lacks it).
    pub packed_dot: Option<PackedDot>,
    pub clock: Clock,
    /// Vendor peak (GB/s) and the table key that matched the adapter's name.
    pub peak: Option<(f64, &'static str)>,
    pub ceiling: Ceiling,
    pub rows: Vec<KernelTiming>,
    /// Points that could not run here, and why (e.g. a v1 matrix beyond one binding).
    pub skipped: Vec<String>,
}

impl BenchRun {
    /// `t`'s speed relative to f32 with the same kernels and shape (f32 time / this time).
    pub fn vs_f32(&self, t: &KernelTiming) -> Option<f64> {
        self.rows
            .iter()
            .find(|o| o.format == Format::F32 && o.generation == t.generation && (o.rows, o.cols, o.batch) == (t.rows, t.cols, t.batch))
            .map(|o| o.ms / t.ms)
    }
    /// `t`'s speed relative to the v1 kernels on the same format and shape.
    pub fn vs_v1(&self, t: &KernelTiming) -> Option<f64> {
        self.rows
            .iter()
            .find(|o| o.format == t.format && o.generation == Generation::V1 && (o.rows, o.cols, o.batch) == (t.rows, t.cols, t.batch))
            .map(|o| o.ms / t.ms)
    }
    /// For an int8-input row: its speed relative to the f32-input v2 kernel of its format.
    pub fn vs_f32_inputs(&self, t: &KernelTiming) -> Option<f64> {
        (t.activations == Activations::Int8).then_some(())?;
        self.rows
            .iter()
            .find(|o| {
                o.format == t.format
                    && o.generation == Generation::V2
                    && o.activations == Activations::F32
                    && (o.rows, o.cols, o.batch) == (t.rows, t.cols, t.batch)
            })
            .map(|o| o.ms / t.ms)
    }
}

impl BenchRun {
    /// One row as a line of text (`mpqlab bench gpu`'s stderr, the `matvec_bench` example).
    pub fn describe(&self, t: &KernelTiming) -> String {
        let (c, p) = shares(t.weight_gbps, &self.ceiling, self.peak);
        format!(
            "{:>5} {}{} {}×{} batch {}: {:>9.3} ms {:>8.2} GB/s {:>5.1} % of ceiling{} {:.2}× f32{}{}",
            t.format.name(),
            t.generation.name(),
            if t.activations == Activations::Int8 { " int8-x" } else { "" },
            t.rows,
            t.cols,
            t.batch,
            t.ms,
            t.weight_gbps,
            100.0 * c,
            p.map_or(String::new(), |p| format!(" {:.1} % of peak", 100.0 * p)),
            self.vs_f32(t).unwrap_or(f64::NAN),
            self.vs_v1(t).filter(|_| t.generation == Generation::V2).map_or(String::new(), |v| format!(" {v:.2}× v1")),
            self.vs_f32_inputs(t).map_or(String::new(), |v| format!(" {v:.2}× f32-x")),
        )
    }
}

/// Shares of the ceiling and of the peak for a weight GB/s figure.
pub fn shares(gbps: f64, ceiling: &Ceiling, peak: Option<(f64, &'static str)>) -> (f64, Option<f64>) {
    (gbps / ceiling.gbps, peak.map(|(p, _)| gbps / p))
}

/// What a bench runs.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchSpec {
    pub sizes: Vec<usize>,
    pub batch: usize,
    /// Products per timed pass.
    pub repeats: u32,
    /// Also time the v1 kernels (the baseline) in the same run.
    pub baseline: bool,
    /// Also time the int8-input kernels of the block formats (where the device has
    /// `dot4I8Packed`).
    pub int8: bool,
    pub formats: Vec<Format>,
}

/// Times the `preps` (rotated copies of one product) `repeats` times per round, three rounds,
/// and returns the median seconds per product and the clock used.
async fn time_products(gpu: &Gpu, preps: &[Prepared], repeats: u32, now_ms: &dyn Fn() -> f64) -> Result<(f64, Clock), GpuError> {
    let repeats = repeats.max(1);
    let record = |enc: &mut wgpu::CommandEncoder, n: u32, ts: Option<&wgpu::QuerySet>| {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("bench"),
            timestamp_writes: ts.map(|q| wgpu::ComputePassTimestampWrites {
                query_set: q,
                beginning_of_pass_write_index: Some(0),
                end_of_pass_write_index: Some(1),
            }),
        });
        for i in 0..n as usize {
            preps[i % preps.len()].record(&mut pass);
        }
    };
    // Warm-up: every copy once (first touches, pipeline creation).
    let mut enc = gpu.device.create_command_encoder(&Default::default());
    record(&mut enc, preps.len() as u32, None);
    gpu.read_back(enc, preps[0].y_buffer(), 4).await?;
    let mut per = Vec::new();
    if gpu.has_timestamps() {
        let qs = gpu.device.create_query_set(&wgpu::QuerySetDescriptor { label: Some("bench"), ty: wgpu::QueryType::Timestamp, count: 2 });
        let resolved = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("timestamps"),
            size: 16,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let period_ns = gpu.queue.get_timestamp_period() as f64;
        for _ in 0..3 {
            let mut enc = gpu.device.create_command_encoder(&Default::default());
            record(&mut enc, repeats, Some(&qs));
            enc.resolve_query_set(&qs, 0..2, &resolved, 0);
            let bytes = gpu.read_back(enc, &resolved, 16).await?;
            let t: &[u64] = bytemuck::cast_slice(&bytes);
            per.push((t[1].saturating_sub(t[0]) as f64 * period_ns * 1e-9 / repeats as f64).max(1e-12));
        }
        per.sort_by(f64::total_cmp);
        // Some drivers report zeros (timestamps unsupported in compute passes after all):
        // fall back to the wall clock then.
        if per[1] > 1e-11 {
            return Ok((per[1], Clock::GpuTimestamps));
        }
        per.clear();
    }
    for _ in 0..3 {
        let t0 = now_ms();
        let mut enc = gpu.device.create_command_encoder(&Default::default());
        record(&mut enc, 1, None);
        gpu.read_back(enc, preps[0].y_buffer(), 4).await?;
        let one = now_ms() - t0;
        let t0 = now_ms();
        let mut enc = gpu.device.create_command_encoder(&Default::default());
        record(&mut enc, repeats + 1, None);
        gpu.read_back(enc, preps[0].y_buffer(), 4).await?;
        per.push(((now_ms() - t0 - one) / repeats as f64 / 1e3).max(1e-9));
    }
    per.sort_by(f64::total_cmp);
    Ok((per[1], Clock::WallClock))
}

/// A deterministic `rows × cols` test matrix and `batch` inputs in [-1, 1).
pub fn bench_inputs(rows: usize, cols: usize, batch: usize) -> (Vec<f32>, Vec<f32>) {
    let w = (0..rows * cols).map(|i| ((i.wrapping_mul(2654435761)) % 1000) as f32 / 500.0 - 1.0).collect();
    let x = (0..batch * cols).map(|i| ((i * 40503) % 1000) as f32 / 500.0 - 1.0).collect();
    (w, x)
}

/// Times one quantised matrix with one generation of kernels and one kind of inputs.
#[allow(clippy::too_many_arguments)]
pub async fn time_matrix(
    gpu: &Gpu,
    m: &QuantMatrix,
    x: &[f32],
    batch: usize,
    generation: Generation,
    activations: Activations,
    repeats: u32,
    now_ms: &dyn Fn() -> f64,
) -> Result<KernelTiming, GpuError> {
    let bytes = m.storage_bytes();
    let copies = FOOTPRINT.div_ceil(bytes.max(1)).clamp(1, MAX_COPIES);
    let reduction = gpu.reductions()[0];
    let mut preps = Vec::with_capacity(copies);
    let mut mats = Vec::with_capacity(copies);
    for _ in 0..copies {
        let gm = match generation {
            Generation::V1 => gpu.upload_v1(m)?,
            Generation::V2 => gpu.upload(m)?,
        };
        preps.push(gpu.prepare_with(&gm, x, batch, reduction, activations)?);
        mats.push(gm);
    }
    let (s, clock) = time_products(gpu, &preps, repeats.max(copies as u32), now_ms).await?;
    Ok(KernelTiming {
        format: m.format,
        generation,
        activations,
        rows: m.rows,
        cols: m.cols,
        batch,
        ms: s * 1e3,
        gflops: 2.0 * (m.rows * m.cols * batch) as f64 / s / 1e9,
        weight_gbps: bytes as f64 / s / 1e9,
        weight_bytes: bytes,
        copies,
        clock,
    })
}

/// The streaming-read ceiling on a buffer of about `bytes` (at most one binding).
pub async fn stream_ceiling(gpu: &Gpu, bytes: usize, repeats: u32, now_ms: &dyn Fn() -> f64) -> Result<Ceiling, GpuError> {
    const WG: usize = 256;
    const PER: usize = 16;
    let chunk = WG * PER * 16;
    let groups = (bytes.min(gpu.max_binding()) / chunk).clamp(1, 65535);
    let bytes = groups * chunk;
    let src = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("stream"),
        size: bytes as u64,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    let sink = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("sink"),
        size: (groups * WG * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let source = format!("const WG: u32 = {WG}u;\nconst PER: u32 = {PER}u;\nconst GROUPS: u32 = {groups}u;\n{}", include_str!("kernels/stream.wgsl"));
    let pipeline = gpu.pipeline_for("stream", source);
    let bind = gpu.bind(&pipeline, &[&src, &sink]);
    let prep = Prepared::single(pipeline, bind, [groups as u32, 1, 1], sink, (groups * WG * 4) as u64);
    let (s, _) = time_products(gpu, std::slice::from_ref(&prep), repeats.max(4), now_ms).await?;
    Ok(Ceiling { bytes, ms: s * 1e3, gbps: bytes as f64 / s / 1e9 })
}

/// A whole bench: the ceiling, then for each size and format the v2 kernels (and the v1
/// kernels when `spec.baseline`). `on_row` sees the ceiling first and every row as it
/// arrives (the page fills its table live); `progress` gets (what, done, total).
pub async fn run(
    gpu: &Gpu,
    spec: &BenchSpec,
    now_ms: &dyn Fn() -> f64,
    mut progress: impl FnMut(&str, usize, usize),
    mut on_row: impl FnMut(&BenchRun),
) -> Result<BenchRun, GpuError> {
    let mut kinds: Vec<(Generation, Activations)> = Vec::new();
    if spec.baseline {
        kinds.push((Generation::V1, Activations::F32));
    }
    kinds.push((Generation::V2, Activations::F32));
    let int8 = spec.int8 && gpu.packed_dot.available();
    // What runs per format: the kinds, int8 inputs only for the block formats.
    let kinds_for = |f: Format| -> Vec<(Generation, Activations)> {
        let mut k = kinds.clone();
        if int8 && !matches!(f, Format::F32 | Format::F16) {
            k.push((Generation::V2, Activations::Int8));
        }
        k
    };
    let total = spec.sizes.len() * spec.formats.iter().map(|&f| kinds_for(f).len()).sum::<usize>() + 1;
    progress("streaming-read ceiling", 0, total);
    let ceiling = stream_ceiling(gpu, FOOTPRINT, spec.repeats, now_ms).await?;
    let mut run = BenchRun {
        adapter: gpu.info.name.clone(),
        backend: format!("{:?}", gpu.info.backend),
        device_type: format!("{:?}", gpu.info.device_type),
        subgroups: gpu.has_subgroups(),
        packed_dot: int8.then_some(gpu.packed_dot),
        clock: if gpu.has_timestamps() { Clock::GpuTimestamps } else { Clock::WallClock },
        peak: peak_bandwidth(&gpu.info.name),
        ceiling,
        rows: Vec::new(),
        skipped: Vec::new(),
    };
    on_row(&run);
    let mut done = 1;
    for &n in &spec.sizes {
        let (w, x) = bench_inputs(n, n, spec.batch);
        for &format in &spec.formats {
            let m = QuantMatrix::quantize(&w, n, n, format);
            for (g, a) in kinds_for(format) {
                let what = format!("{n}×{n} {} {}{}", format.name(), g.name(), if a == Activations::Int8 { " int8 inputs" } else { "" });
                progress(&what, done, total);
                match time_matrix(gpu, &m, &x, spec.batch, g, a, spec.repeats, now_ms).await {
                    Ok(t) => {
                        run.clock = t.clock;
                        run.rows.push(t);
                    }
                    // Only a matrix this adapter cannot bind is skipped; anything else fails.
                    Err(GpuError::TooLarge(e)) => run.skipped.push(format!("{what}: {e}")),
                    Err(e) => return Err(e),
                }
                on_row(&run);
                done += 1;
            }
        }
    }
    Ok(run)
}

/// [`run`] natively, blocking.
#[cfg(not(target_arch = "wasm32"))]
pub fn run_blocking(gpu: &Gpu, spec: &BenchSpec, mut progress: impl FnMut(&str, usize, usize)) -> Result<BenchRun, GpuError> {
    let start = std::time::Instant::now();
    let now_ms = move || start.elapsed().as_secs_f64() * 1e3;
    pollster::block_on(run(gpu, spec, &now_ms, &mut progress, |_| {}))
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
        assert_eq!(parse_sizes_up_to("16384", MAX_SIDE_NATIVE).unwrap(), vec![16384]);
    }

    #[test]
    fn peaks_match_the_most_specific_name() {
        assert_eq!(peak_bandwidth("NVIDIA H100 80GB HBM3"), Some((3350.0, "H100")));
        assert_eq!(peak_bandwidth("NVIDIA H100 PCIe"), Some((2000.0, "H100 PCIe")));
        assert_eq!(peak_bandwidth("NVIDIA H200"), Some((4800.0, "H200")));
        assert_eq!(peak_bandwidth("NVIDIA GeForce RTX 4070 Ti"), Some((504.0, "RTX 4070 Ti")));
        assert_eq!(peak_bandwidth("llvmpipe (LLVM 15.0.6, 256 bits)"), None);
        assert_eq!(peak_bandwidth("SwiftShader Device (Subzero)"), None);
    }
}
