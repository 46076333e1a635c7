//! `mpqlab bench rd`: our encoders against the reference encoder users would pick instead, at
//! equal bits per pixel on photos. Each side is swept over its quality, every stream is decoded
//! by the same decoder (ours, as the lab does) and scored by RGB PSNR; the curves are compared
//! as the mean PSNR difference over their common range of log bits per pixel (Bjøntegaard's
//! delta, with piecewise-linear curves instead of his cubic fit, which can swing between sparse
//! points), and the mean rate difference at equal PSNR (BD-rate).
//!
//! ```text
//! mpqlab bench rd                                   # jpeg vs cjpeg -optimize on the gallery photos
//! mpqlab bench rd --codec jpeg:chroma=average --qualities 30,50,70,90
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use mpq_core::{Image, Media, PixelFormat};
use serde_json::json;

#[derive(clap::Args)]
pub struct RdArgs {
    /// Photos (default: the gallery photos in www/gallery).
    images: Vec<PathBuf>,
    /// Our side: a JPEG codec spec (`jpeg`, `jpeg:chroma=average`); repeatable.
    #[arg(long = "codec", default_value = "jpeg")]
    codecs: Vec<String>,
    /// Qualities swept on both sides.
    #[arg(long, default_value = "20,30,40,50,60,70,80,90", value_delimiter = ',')]
    qualities: Vec<u8>,
}

/// The photos of `mpqlab bench` (the gallery's).
const PHOTOS: [&str; 5] = ["astronaut", "brick", "camera", "chelsea", "coffee"];

/// One point of a curve.
#[derive(Debug, Clone, Copy)]
pub struct RdPoint {
    pub quality: u8,
    pub bpp: f64,
    pub psnr: f64,
}

pub fn run(args: RdArgs) -> Result<()> {
    let images = if args.images.is_empty() {
        let dir = crate::run::gallery_dir()?;
        PHOTOS.iter().map(|n| dir.join(format!("{n}.png"))).collect()
    } else {
        args.images.clone()
    };
    if args.qualities.len() < 2 || args.qualities.iter().any(|&q| !(1..=100).contains(&q)) {
        bail!("--qualities: at least two, each 1 … 100");
    }
    let cjpeg = which("cjpeg").context("cjpeg (libjpeg-turbo-progs) is the reference: install it (scripts/setup.sh does)")?;
    let tmp = std::env::temp_dir().join(format!("mpqlab-rd-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let mut out = Vec::new();
    for spec in &args.codecs {
        let (codec, params) = crate::parse_codec_spec(spec)?;
        if codec.id() != "jpeg" {
            bail!("--codec {spec}: the reference here is cjpeg, so the codec is jpeg");
        }
        let mut photos = Vec::new();
        let (mut sum_db, mut sum_rate) = (0.0, 0.0);
        for path in &images {
            let img = crate::read_image(path)?;
            let img = if img.format() == PixelFormat::Rgba8 { img.to_rgb8() } else { img };
            let media = Media::Image(img.clone());
            let ppm = tmp.join("in.pnm");
            std::fs::write(&ppm, pnm(&img))?;
            let (mut ours, mut reference) = (Vec::new(), Vec::new());
            for &q in &args.qualities {
                let mut p = params.clone();
                p.insert("quality".into(), mpq_core::ParamValue::Int(q as i64));
                let stream = codec.encode(&media, &p)?;
                ours.push(point(q, &img, &stream)?);
                let r = Command::new(&cjpeg).args(["-optimize", "-quality", &q.to_string()]).arg(&ppm).output()?;
                if !r.status.success() {
                    bail!("cjpeg failed on {}: {}", path.display(), String::from_utf8_lossy(&r.stderr));
                }
                reference.push(point(q, &img, &r.stdout)?);
            }
            let db = bd_psnr(&ours, &reference);
            let rate = bd_rate(&ours, &reference);
            eprintln!("{spec} vs cjpeg -optimize on {}: {db:+.3} dB at equal bpp, {:+.2} % rate at equal PSNR", name(path), 100.0 * rate);
            sum_db += db;
            sum_rate += rate;
            let curve = |c: &[RdPoint]| c.iter().map(|p| json!({ "quality": p.quality, "bpp": p.bpp, "psnr": p.psnr })).collect::<Vec<_>>();
            photos.push(json!({ "image": name(path), "delta_db": db, "bd_rate": rate, "ours": curve(&ours), "reference": curve(&reference) }));
        }
        let n = images.len().max(1) as f64;
        eprintln!("{spec}: mean {:+.3} dB, {:+.2} % rate against cjpeg -optimize", sum_db / n, 100.0 * sum_rate / n);
        out.push(json!({ "codec": spec, "reference": "cjpeg -optimize", "reference_version": cjpeg_version(&cjpeg), "mean_delta_db": sum_db / n, "mean_bd_rate": sum_rate / n, "photos": photos }));
    }
    let _ = std::fs::remove_dir_all(&tmp);
    println!("{}", serde_json::to_string_pretty(&json!({ "metric": "psnr_rgb", "decoder": "zune-jpeg (the lab's)", "qualities": args.qualities, "results": out }))?);
    Ok(())
}

fn name(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(tool)).find(|p| p.is_file())
}

fn cjpeg_version(cjpeg: &Path) -> String {
    let out = Command::new(cjpeg).arg("-version").output().ok();
    out.map(|o| String::from_utf8_lossy(if o.stderr.is_empty() { &o.stdout } else { &o.stderr }).trim().to_string()).unwrap_or_default()
}

/// PPM (RGB) or PGM (gray), what cjpeg reads.
fn pnm(img: &Image) -> Vec<u8> {
    let magic = if img.format() == PixelFormat::Gray8 { "P5" } else { "P6" };
    let mut v = format!("{magic}\n{} {}\n255\n", img.width(), img.height()).into_bytes();
    v.extend_from_slice(img.data());
    v
}

/// A stream's bits per pixel and its RGB PSNR (decoded by the lab's JPEG decoder).
fn point(quality: u8, original: &Image, stream: &[u8]) -> Result<RdPoint> {
    let decoded = mpq_codecs::image::jpeg::decode_jpeg(stream)?;
    let psnr = mpq_metrics::psnr_rgb(original, &decoded)?;
    Ok(RdPoint { quality, bpp: 8.0 * stream.len() as f64 / original.pixel_count() as f64, psnr })
}

/// `y` at `x` on the piecewise-linear curve through `pts` (sorted by x; `x` inside their range).
fn at(pts: &[(f64, f64)], x: f64) -> f64 {
    let i = pts.windows(2).position(|w| x <= w[1].0).unwrap_or(pts.len() - 2);
    let ((x0, y0), (x1, y1)) = (pts[i], pts[i + 1]);
    if x1 == x0 { y0 } else { y0 + (y1 - y0) * (x - x0) / (x1 - x0) }
}

/// Mean of `a(x) − b(x)` over the overlap of the curves' x ranges (sampled finely).
fn mean_gap(a: &[(f64, f64)], b: &[(f64, f64)]) -> f64 {
    let sorted = |c: &[(f64, f64)]| {
        let mut c = c.to_vec();
        c.sort_by(|p, q| p.0.total_cmp(&q.0));
        c.dedup_by(|p, q| p.0 == q.0);
        c
    };
    let (a, b) = (sorted(a), sorted(b));
    if a.len() < 2 || b.len() < 2 {
        return f64::NAN;
    }
    let lo = a[0].0.max(b[0].0);
    let hi = a[a.len() - 1].0.min(b[b.len() - 1].0);
    if hi <= lo {
        return f64::NAN;
    }
    let n = 512;
    (0..=n).map(|k| lo + (hi - lo) * k as f64 / n as f64).map(|x| at(&a, x) - at(&b, x)).sum::<f64>() / (n + 1) as f64
}

/// PSNR difference (dB) of `ours` over `reference` at equal bits per pixel, averaged over
/// their common range of log bpp: positive means ours is better.
pub fn bd_psnr(ours: &[RdPoint], reference: &[RdPoint]) -> f64 {
    let c = |v: &[RdPoint]| v.iter().map(|p| (p.bpp.ln(), p.psnr)).collect::<Vec<_>>();
    mean_gap(&c(ours), &c(reference))
}

/// Rate difference of `ours` over `reference` at equal PSNR (−0.05 = 5 % fewer bits).
pub fn bd_rate(ours: &[RdPoint], reference: &[RdPoint]) -> f64 {
    let c = |v: &[RdPoint]| v.iter().map(|p| (p.psnr, p.bpp.ln())).collect::<Vec<_>>();
    mean_gap(&c(ours), &c(reference)).exp() - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deltas_read_a_known_shift() {
        // The same curve 0.5 dB higher: +0.5 dB, and fewer bits at equal PSNR.
        let base: Vec<RdPoint> = [0.25, 0.5, 1.0, 2.0].iter().map(|&b: &f64| RdPoint { quality: 0, bpp: b, psnr: 30.0 + 4.0 * b.log2() }).collect();
        let up: Vec<RdPoint> = base.iter().map(|p| RdPoint { psnr: p.psnr + 0.5, ..*p }).collect();
        assert!((bd_psnr(&up, &base) - 0.5).abs() < 1e-9);
        assert!((bd_psnr(&base, &base)).abs() < 1e-12);
        // 4 dB per doubling: 0.5 dB is 2^(−0.5/4) of the rate.
        assert!((bd_rate(&up, &base) - (2f64.powf(-0.5 / 4.0) - 1.0)).abs() < 1e-3, "{}", bd_rate(&up, &base));
    }
}
