//! The numbers shown under each side of the lab and printed by `mpqlab eval`: one flat record
//! with plainly named fields, the same in the page and the CLI.

use mpq_core::{Image, Params, Result};
use serde::{Deserialize, Serialize};

use crate::{quality, rate};

/// Everything measured for one (image, codec, parameters) triple.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageReport {
    pub codec: String,
    pub params: Params,
    pub width: u32,
    pub height: u32,
    /// Encoded size.
    pub bytes: usize,
    pub bits_per_pixel: f64,
    /// Raw RGB8 size over encoded size.
    pub compression_ratio: f64,
    /// PSNR over R, G and B samples in dB; `null` (infinite) when the decoded image is exact.
    pub psnr_rgb: Option<f64>,
    /// PSNR of BT.601 luma in dB; `null` when exact.
    pub psnr_y: Option<f64>,
    /// SSIM on luma (Gaussian window, σ = 1.5); `null` for images under 11 px a side.
    pub ssim: Option<f64>,
    /// MS-SSIM on luma; `null` for images under 11 px a side.
    pub ms_ssim: Option<f64>,
    /// Scales MS-SSIM used (5 unless the image is under 176 px a side).
    pub ms_ssim_scales: Option<usize>,
    /// True when every decoded pixel equals the original's (compared as RGB).
    pub exact: bool,
    pub encode_ms: f64,
    pub decode_ms: f64,
}

impl ImageReport {
    /// Measures `decoded` against `original`. Timings are passed in because clocks are
    /// platform-specific (`Instant` natively, `performance.now()` in the browser).
    pub fn measure(
        codec: &str,
        params: &Params,
        original: &Image,
        decoded: &Image,
        encoded_bytes: usize,
        encode_ms: f64,
        decode_ms: f64,
    ) -> Result<ImageReport> {
        let q = quality(original, decoded)?;
        let r = rate(encoded_bytes, original);
        let finite = |x: f64| x.is_finite().then_some(x);
        Ok(ImageReport {
            codec: codec.to_string(),
            params: params.clone(),
            width: original.width(),
            height: original.height(),
            bytes: r.bytes,
            bits_per_pixel: r.bits_per_pixel,
            compression_ratio: r.compression_ratio,
            psnr_rgb: finite(q.psnr_rgb),
            psnr_y: finite(q.psnr_y),
            ssim: q.ssim,
            ms_ssim: q.ms_ssim.map(|m| m.value),
            ms_ssim_scales: q.ms_ssim.map(|m| m.scales),
            exact: original.to_rgb8().data() == decoded.to_rgb8().data(),
            encode_ms,
            decode_ms,
        })
    }
}
