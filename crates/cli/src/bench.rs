//! `mpqlab bench`: encode and decode time per codec on the gallery photos. The page's timing
//! table runs the same loop in the browser, so the two give the wasm/native ratio per codec.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use mpq_core::{Media, Params};
use serde::Serialize;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Images to time on (default: the page's gallery photos in www/gallery).
    images: Vec<PathBuf>,
    /// Runs per codec and image; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Only these codec ids (comma-separated); default all.
    #[arg(long)]
    codecs: Option<String>,
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

pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 }
}

pub fn run(args: BenchArgs) -> Result<()> {
    let images = if args.images.is_empty() {
        let dir = gallery_dir()?;
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
                encode_ms: median(&mut enc),
                decode_ms: median(&mut dec),
                runs,
            };
            eprintln!("{:>14} {:>10}  encode {:>8.2} ms  decode {:>8.2} ms", row.codec, row.image, row.encode_ms, row.decode_ms);
            rows.push(row);
        }
    }
    println!("{}", serde_json::to_string_pretty(&rows)?);
    Ok(())
}

/// `www/gallery` of the checkout this binary was built from, or of the current directory.
fn gallery_dir() -> Result<PathBuf> {
    let candidates = [
        PathBuf::from("www/gallery"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../www/gallery"),
    ];
    candidates
        .into_iter()
        .find(|p| p.join("index.json").is_file())
        .ok_or_else(|| anyhow::anyhow!("gallery not found: run from the repository root or name images"))
}
