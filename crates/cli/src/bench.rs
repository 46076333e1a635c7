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
    /// Time the WGSL matmul kernels per weight format (f32, f16, Q8_0, Q4_0) on the first GPU
    /// adapter wgpu finds (lavapipe without a GPU): JSON rows with GFLOP/s and weight GB/s.
    Gpu(GpuBenchArgs),
}

#[derive(clap::Args)]
struct GpuBenchArgs {
    /// Square matrix sizes (rows = cols), comma-separated.
    #[arg(long, default_value = "1024,4096", value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Inputs per product: 1 is the matrix–vector kernel, more the tiled matrix kernel.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Back-to-back dispatches per timing.
    #[arg(long, default_value_t = 10)]
    repeats: u32,
}

fn run_gpu(args: GpuBenchArgs) -> Result<()> {
    let gpu = mpq_gpu::Gpu::new_blocking()?;
    eprintln!("adapter: {} ({:?}, {:?})", gpu.info.name, gpu.info.device_type, gpu.info.backend);
    let mut rows = Vec::new();
    for &n in &args.sizes {
        for t in mpq_gpu::bench::time_formats(&gpu, n, n, args.batch.max(1), args.repeats)? {
            eprintln!("{:>5} {n}×{n} batch {}: {:>9.3} ms {:>8.2} GFLOP/s {:>8.2} GB/s", t.format.name(), t.batch, t.ms, t.gflops, t.weight_gbps);
            rows.push(serde_json::json!({
                "adapter": gpu.info.name, "backend": format!("{:?}", gpu.info.backend),
                "device_type": format!("{:?}", gpu.info.device_type),
                "format": t.format.name(), "bits_per_weight": t.format.bits_per_weight(),
                "rows": t.rows, "cols": t.cols, "batch": t.batch, "ms": t.ms,
                "gflops": t.gflops, "weight_gbps": t.weight_gbps, "weight_bytes": t.weight_bytes,
            }));
        }
    }
    println!("{}", serde_json::to_string_pretty(&rows)?);
    Ok(())
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
    if let Some(BenchTarget::Gpu(gpu)) = args.target {
        return run_gpu(gpu);
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
        for codec in mpq_codecs::registry() {
            if wanted.as_ref().is_some_and(|w| !w.contains(&codec.id())) {
                continue;
            }
            let media = Media::Image(image.clone());
            let (mut enc, mut dec) = (Vec::new(), Vec::new());
            let mut bytes = 0;
            for _ in 0..runs {
                let t = Instant::now();
                let encoded = codec.encode(&media, &Params::new())?;
                enc.push(t.elapsed().as_secs_f64() * 1e3);
                let t = Instant::now();
                let decoded = codec.decode(&encoded)?;
                dec.push(t.elapsed().as_secs_f64() * 1e3);
                std::hint::black_box(decoded);
                bytes = encoded.len();
            }
            let row = BenchRow {
                codec: codec.id().into(),
                image: name.clone(),
                width: image.width(),
                height: image.height(),
                bytes,
                bits_per_pixel: 8.0 * bytes as f64 / image.pixel_count() as f64,
                encode_ms: mpq_metrics::median(&mut enc),
                decode_ms: mpq_metrics::median(&mut dec),
                runs,
            };
            eprintln!("{:>14} {:>10}  encode {:>8.2} ms  decode {:>8.2} ms", row.codec, row.image, row.encode_ms, row.decode_ms);
            rows.push(row);
        }
    }
    println!("{}", serde_json::to_string_pretty(&rows)?);
    Ok(())
}
