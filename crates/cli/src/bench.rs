//! `mpqlab bench`: encode and decode time per codec on the gallery photos. The page's timing
//! table runs the same loop in the browser, so the two give the wasm/native ratio per codec.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use mpq_core::{Media, Params};
use serde::Serialize;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    target: Option<BenchTarget>,
    /// Images to time on (default: the page's gallery photos in www/gallery).
    images: Vec<PathBuf>,
    /// Runs per codec and image; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Only these codec ids (comma-separated); default all.
    #[arg(long)]
    codecs: Option<String>,
}

#[derive(clap::Subcommand)]
enum BenchTarget {
    /// Time the WGSL matrix–vector kernels per weight format (f32, f16, Q8_0, Q4_0, Q3_0) on
    /// the first GPU adapter wgpu finds (lavapipe without a GPU), with the adapter's
    /// streaming-read ceiling in the same run: JSON with ms, GB/s of weights, the share of the
    /// ceiling and of the card's peak, and the speed vs f32 (and vs the v1 kernels with
    /// --baseline).
    Gpu(GpuBenchArgs),
    /// Time every audio codec's encode and decode (default settings) on a clip made of the
    /// keyword test windows end to end (16 kHz mono), and the keyword model's inference per 1 s
    /// window on the CPU: JSON with ms and times faster than real time.
    Audio(AudioBenchArgs),
    /// Rate–distortion against the reference encoder at equal bits per pixel: our JPEG against
    /// `cjpeg -optimize` (libjpeg-turbo) over the gallery photos, each swept over its quality
    /// and decoded by the lab's decoder: JSON with every point, the mean PSNR difference at
    /// equal bpp and the rate difference at equal PSNR, per photo and on average.
    Rd(crate::rd::RdArgs),
}

#[derive(clap::Args)]
struct AudioBenchArgs {
    /// Seconds of audio (the first N keyword test windows end to end).
    #[arg(long, default_value_t = 10)]
    seconds: usize,
    /// Runs per codec; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Only these codec ids (comma-separated); default every audio codec.
    #[arg(long)]
    codecs: Option<String>,
}

/// One row of the audio timing table (the page's audio bench emits the same fields).
#[derive(Serialize)]
pub struct AudioBenchRow {
    pub codec: String,
    pub seconds: f64,
    pub bytes: usize,
    pub kbps: f64,
    pub encode_ms: f64,
    pub decode_ms: f64,
    /// Seconds of audio coded per second of work.
    pub encode_x_realtime: f64,
    pub decode_x_realtime: f64,
    pub runs: usize,
}

fn run_audio(args: AudioBenchArgs) -> Result<()> {
    use mpq_models::kws_cnn::{CLIP_SAMPLES, KwsCnn, SAMPLE_RATE, bundled_test_subset};
    let set = bundled_test_subset()?;
    let n = args.seconds.clamp(1, set.len());
    let clip = mpq_core::Audio::new(SAMPLE_RATE, 1, set.clips[..n].concat())?;
    let wanted: Option<Vec<&str>> = args.codecs.as_deref().map(|s| s.split(',').collect());
    let runs = args.runs.max(1);
    let mut rows = Vec::new();
    for codec in mpq_codecs::registry_for(mpq_core::Modality::Audio) {
        if wanted.as_ref().is_some_and(|w| !w.contains(&codec.id())) {
            continue;
        }
        let (bytes, encode_ms, decode_ms) = time_codec(codec.as_ref(), &Media::Audio(clip.clone()), runs)?;
        let seconds = clip.seconds();
        let row = AudioBenchRow {
            codec: codec.id().into(),
            seconds,
            bytes,
            kbps: bytes as f64 * 8.0 / seconds / 1000.0,
            encode_ms,
            decode_ms,
            encode_x_realtime: seconds * 1e3 / encode_ms.max(1e-6),
            decode_x_realtime: seconds * 1e3 / decode_ms.max(1e-6),
            runs,
        };
        eprintln!(
            "{:>10}  {:>7.1} kbps  encode {:>8.2} ms ({:>6.0}× real time)  decode {:>8.2} ms ({:>6.0}×)",
            row.codec, row.kbps, row.encode_ms, row.encode_x_realtime, row.decode_ms, row.decode_x_realtime
        );
        rows.push(row);
    }
    // The model: one window at a time (the page's single-clip verdict), median of the runs
    // after a warm-up call.
    let model = KwsCnn::load_bundled(&mpq_models::cpu_device())?;
    let window = vec![set.clips[0].clone()];
    model.predictions(&window)?;
    let mut infer = Vec::new();
    for _ in 0..runs.max(5) {
        let t = Instant::now();
        std::hint::black_box(model.predictions(&window)?);
        infer.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let infer_ms = mpq_metrics::median(&mut infer);
    eprintln!("kws_cnn on the CPU (flex): {infer_ms:.2} ms per 1 s window (features included)");
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "clip": {"seconds": clip.seconds(), "sample_rate": SAMPLE_RATE, "channels": 1, "windows": n, "window_samples": CLIP_SAMPLES},
            "codecs": rows,
            "model": {"model": "kws_cnn", "backend": "cpu (burn flex)", "ms_per_window": infer_ms, "runs": infer.len()},
        }))?
    );
    Ok(())
}

#[derive(clap::Args)]
struct GpuBenchArgs {
    /// Square matrix sizes (rows = cols), comma-separated; up to 32768 (matrices beyond one
    /// storage binding are split into slabs). The headline size is 16384.
    #[arg(long, default_value = "1024,4096", value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Inputs per product: 1 is a matrix–vector product.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Products per timed pass (at least one per rotated copy of the matrix).
    #[arg(long, default_value_t = 20)]
    repeats: u32,
    /// Also time the v1 kernels, side by side (before/after in one run).
    #[arg(long)]
    baseline: bool,
    /// Skip the int8-input kernels (x quantised to Q8_0, dot4I8Packed) of the block formats.
    #[arg(long)]
    no_int8: bool,
    /// Only these formats (comma-separated: f32,f16,q8_0,q4_0,q3_0).
    #[arg(long, value_delimiter = ',')]
    formats: Vec<String>,
}

/// A bench run as JSON (also `mpqlab run` of a model-lab bench link).
pub fn gpu_bench_json(run: &mpq_gpu::bench::BenchRun) -> serde_json::Value {
    let rows: Vec<_> = run
        .rows
        .iter()
        .map(|t| {
            let (of_ceiling, of_peak) = mpq_gpu::bench::shares(t.weight_gbps, &run.ceiling, run.peak);
            serde_json::json!({
                "format": t.format.name(), "kernels": t.generation.name(), "inputs": t.activations.name(),
                "bits_per_weight": t.format.bits_per_weight(),
                "rows": t.rows, "cols": t.cols, "batch": t.batch, "ms": t.ms, "gflops": t.gflops,
                "weight_gbps": t.weight_gbps, "weight_bytes": t.weight_bytes, "copies": t.copies,
                "share_of_ceiling": of_ceiling, "share_of_peak": of_peak,
                "vs_f32": run.vs_f32(t), "vs_v1": if t.generation == mpq_gpu::Generation::V2 { run.vs_v1(t) } else { None },
                "vs_f32_inputs": run.vs_f32_inputs(t),
            })
        })
        .collect();
    serde_json::json!({
        "adapter": run.adapter, "backend": run.backend, "device_type": run.device_type,
        "clock": run.clock.name(), "subgroups": run.subgroups, "packed_dot": run.packed_dot.map(|p| p.name()),
        "peak_gbps": run.peak.map(|p| p.0), "peak_matched": run.peak.map(|p| p.1),
        "ceiling": { "bytes": run.ceiling.bytes, "ms": run.ceiling.ms, "gbps": run.ceiling.gbps },
        "rows": rows, "skipped": run.skipped,
    })
}

fn run_gpu(args: GpuBenchArgs) -> Result<()> {
    let gpu = mpq_gpu::Gpu::new_blocking()?;
    let sizes = mpq_gpu::bench::parse_sizes_up_to(
        &args.sizes.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(","),
        mpq_gpu::bench::MAX_SIDE_NATIVE,
    )?;
    let formats = if args.formats.is_empty() {
        mpq_gpu::Format::ALL.to_vec()
    } else {
        args.formats
            .iter()
            .map(|f| mpq_gpu::Format::parse(f).ok_or_else(|| anyhow::anyhow!("'{f}' is not a format (f32, f16, q8_0, q4_0, q3_0)")))
            .collect::<Result<_>>()?
    };
    let spec = mpq_gpu::bench::BenchSpec { sizes, batch: args.batch.max(1), repeats: args.repeats, baseline: args.baseline, int8: !args.no_int8, formats };
    eprintln!(
        "adapter: {} ({:?}, {:?}), subgroups: {}, dot4I8Packed: {}",
        gpu.info.name,
        gpu.info.device_type,
        gpu.info.backend,
        gpu.has_subgroups(),
        gpu.packed_dot.name()
    );
    let run = mpq_gpu::bench::run_blocking(&gpu, &spec, |what, k, n| eprintln!("[{k}/{n}] {what}"))?;
    eprintln!("streaming-read ceiling: {:.2} GB/s ({} MiB, {})", run.ceiling.gbps, run.ceiling.bytes >> 20, run.clock.name());
    for t in &run.rows {
        eprintln!("{}", run.describe(t));
    }
    for s in &run.skipped {
        eprintln!("skipped: {s}");
    }
    println!("{}", serde_json::to_string_pretty(&gpu_bench_json(&run))?);
    Ok(())
}

/// Encodes and decodes `media` with default settings `runs` times: the encoded size and the
/// median encode and decode milliseconds.
fn time_codec(codec: &dyn mpq_core::Codec, media: &Media, runs: usize) -> Result<(usize, f64, f64)> {
    let (mut enc, mut dec) = (Vec::new(), Vec::new());
    let mut bytes = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let encoded = codec.encode(media, &Params::new())?;
        enc.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        std::hint::black_box(codec.decode(&encoded)?);
        dec.push(t.elapsed().as_secs_f64() * 1e3);
        bytes = encoded.len();
    }
    Ok((bytes, mpq_metrics::median(&mut enc), mpq_metrics::median(&mut dec)))
}

/// One row of the timing table (the page emits the same fields).
#[derive(Serialize)]
pub struct BenchRow {
    pub codec: String,
    pub image: String,
    pub width: u32,
    pub height: u32,
    pub bytes: usize,
    pub bits_per_pixel: f64,
    pub encode_ms: f64,
    pub decode_ms: f64,
    pub runs: usize,
}

/// The photos the page's bench uses (see `www/gallery/index.json`).
pub const BENCH_PHOTOS: [&str; 3] = ["astronaut", "coffee", "chelsea"];

pub fn run(args: BenchArgs) -> Result<()> {
    match args.target {
        Some(BenchTarget::Gpu(gpu)) => return run_gpu(gpu),
        Some(BenchTarget::Audio(audio)) => return run_audio(audio),
        Some(BenchTarget::Rd(rd)) => return crate::rd::run(rd),
        None => {}
    }
    let images = if args.images.is_empty() {
        let dir = crate::run::gallery_dir()?;
        BENCH_PHOTOS.iter().map(|n| dir.join(format!("{n}.png"))).collect()
    } else {
        args.images
    };
    let wanted: Option<Vec<&str>> = args.codecs.as_deref().map(|s| s.split(',').collect());
    let runs = args.runs.max(1);
    let mut rows = Vec::new();
    for path in &images {
        let image = crate::read_image(path)?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        for codec in mpq_codecs::registry_for(mpq_core::Modality::Image) {
            if wanted.as_ref().is_some_and(|w| !w.contains(&codec.id())) {
                continue;
            }
            let (bytes, encode_ms, decode_ms) = time_codec(codec.as_ref(), &Media::Image(image.clone()), runs)?;
            let row = BenchRow {
                codec: codec.id().into(),
                image: name.clone(),
                width: image.width(),
                height: image.height(),
                bytes,
                bits_per_pixel: 8.0 * bytes as f64 / image.pixel_count() as f64,
                encode_ms,
                decode_ms,
                runs,
            };
            eprintln!("{:>14} {:>10}  encode {:>8.2} ms  decode {:>8.2} ms", row.codec, row.image, row.encode_ms, row.decode_ms);
            rows.push(row);
        }
    }
    println!("{}", serde_json::to_string_pretty(&rows)?);
    Ok(())
}
