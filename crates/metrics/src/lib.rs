//! mpqlab metrics: how far a decoded image is from its original, and what it cost.
//!
//! * [`psnr_rgb`], [`psnr_y`]: peak signal-to-noise ratio (peak 255) over RGB samples or luma.
//! * [`ssim`]: SSIM of Wang et al. 2004 on luma, Gaussian window (σ = 1.5, 11×11), equal to
//!   scikit-image's `structural_similarity(gaussian_weights=True, sigma=1.5,
//!   use_sample_covariance=False, data_range=255)`.
//! * [`ms_ssim`]: multi-scale SSIM (Wang, Simoncelli & Bovik 2003), 5 scales where the image is
//!   large enough, fewer (with renormalised weights) where it is not.
//! * [`quality`]: all of the above in one pass where passes can be shared.
//! * [`rate`]: bytes, bits per pixel and compression ratio of an encoding.
//! * [`perception`]: machine-perceptual quality, how compression changes a model's output
//!   (agreement, accuracy, KL divergence, feature distance).
//! * [`sweep`]: a rate–perception sweep's results and their CSV, JSON and SVG plot.
//! * [`audio`]: audio signal metrics (delay alignment, SNR, segmental SNR, log-spectral
//!   distance, bits per sample and kbps), each pinned to a reference definition; [`stoi`]:
//!   STOI, the human-intelligibility measure (as pystoi); [`mel`]: the keyword model's log-mel
//!   features (as librosa) and the log-mel distance on them.
//! * [`text`]: a text codec's bytes, bits per byte and round trip.
//! * [`ncd`]: compressors as classifiers (normalized compression distance, k nearest
//!   neighbours with an honest top-1); [`ngram`]: the character n-gram naive Bayes baseline;
//!   [`classify`]: the labelled sets they run on and the confusion matrix.
//! * [`lossy_text`]: lossy text's points (what a machine still perceives per kept fraction),
//!   their CSV, JSON and plot.
//!
//! Every image metric compares colour: inputs are read as if converted with
//! [`Image::to_rgb8`](mpq_core::Image::to_rgb8) (gray replicated, alpha dropped), without
//! actually copying them. Luma is BT.601, `Y = 0.299 R + 0.587 G + 0.114 B`, computed in f64 and
//! not rounded, so that the values can be checked against numpy/scikit-image to ~1e-12.
//!
//! Nothing here panics on any input: mismatched sizes and images too small for a window are
//! [`Error::Invalid`](mpq_core::Error::Invalid).

pub mod audio;
pub mod classify;
mod luma;
pub mod lossy_text;
pub mod mel;
pub mod ncd;
pub mod ngram;
pub mod perception;
mod psnr;
mod rate;
pub mod report;
mod ssim;
pub mod stoi;
pub mod sweep;
pub mod text;

use mpq_core::{Error, Image, Result};
use serde::Serialize;

pub use perception::{
    Activation, ItemVerdict, Prediction, SetAccumulator, SetSummary, argmax, compare,
    feature_distance, kl_divergence, top_k,
};
pub use psnr::{psnr_rgb, psnr_y};
pub use rate::{RateStats, median, rate};
pub use report::ImageReport;
pub use ssim::{MS_SSIM_WEIGHTS, MsSsim, SSIM_MIN_SIDE, ms_ssim, ms_ssim_scales, ssim};
pub use sweep::{AudioPointAccumulator, AudioPointMetrics, PointAccumulator, SweepPoint, SweepResult, pooled_psnr};

/// Every image quality metric of a pair at once.
///
/// PSNR works on images of any size; SSIM and MS-SSIM need at least
/// [`SSIM_MIN_SIDE`] pixels on each side and are `None` for smaller images (rather than failing
/// the whole comparison). Identical images have infinite PSNR, which `serde_json` writes as
/// `null`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    pub psnr_rgb: f64,
    pub psnr_y: f64,
    pub ssim: Option<f64>,
    pub ms_ssim: Option<MsSsim>,
}

/// Computes [`Quality`]: the same values as [`psnr_rgb`], [`psnr_y`], [`ssim`] and [`ms_ssim`],
/// but sharing work (PSNRs in one pass; SSIM is MS-SSIM's first scale, so it comes for free).
pub fn quality(a: &Image, b: &Image) -> Result<Quality> {
    check_same_size(a, b)?;
    let (psnr_rgb, psnr_y) = psnr::psnr_both(a, b);
    let (ssim, ms_ssim) = match ssim::ms_ssim_with_first(a, b) {
        Ok((first, ms)) => (Some(first), Some(ms)),
        Err(_) => (None, None), // only possible cause after the size check: too small
    };
    Ok(Quality { psnr_rgb, psnr_y, ssim, ms_ssim })
}

/// Full-reference metrics need two images of the same size (pixel formats may differ).
fn check_same_size(a: &Image, b: &Image) -> Result<()> {
    if a.width() != b.width() || a.height() != b.height() {
        return Err(Error::Invalid(format!(
            "cannot compare images of different sizes: {}×{} and {}×{}",
            a.width(),
            a.height(),
            b.width(),
            b.height()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpq_core::PixelFormat;

    #[test]
    fn quality_matches_single_metrics() {
        let (w, h) = (200u32, 190u32);
        let a: Vec<u8> = (0..w * h * 3).map(|i| ((i * 7919) % 251) as u8).collect();
        let b: Vec<u8> =
            a.iter().enumerate().map(|(i, &v)| v.wrapping_add((i % 5) as u8)).collect();
        let a = Image::new(w, h, PixelFormat::Rgb8, a).unwrap();
        let b = Image::new(w, h, PixelFormat::Rgb8, b).unwrap();
        let q = quality(&a, &b).unwrap();
        assert_eq!(q.psnr_rgb, psnr_rgb(&a, &b).unwrap());
        assert_eq!(q.psnr_y, psnr_y(&a, &b).unwrap());
        assert_eq!(q.ssim, Some(ssim(&a, &b).unwrap()));
        assert_eq!(q.ms_ssim, Some(ms_ssim(&a, &b).unwrap()));
        assert_eq!(q.ms_ssim.unwrap().scales, 5);
    }

    #[test]
    fn quality_of_tiny_images_has_psnr_only() {
        let a = Image::new(5, 4, PixelFormat::Gray8, vec![10; 20]).unwrap();
        let b = Image::new(5, 4, PixelFormat::Gray8, vec![12; 20]).unwrap();
        let q = quality(&a, &b).unwrap();
        assert!(q.psnr_rgb.is_finite());
        assert_eq!(q.ssim, None);
        assert_eq!(q.ms_ssim, None);
        let json = serde_json::to_string(&quality(&a, &a).unwrap()).unwrap();
        assert_eq!(json, r#"{"psnr_rgb":null,"psnr_y":null,"ssim":null,"ms_ssim":null}"#);
    }

    #[test]
    fn quality_rejects_size_mismatch() {
        let a = Image::new(5, 4, PixelFormat::Gray8, vec![10; 20]).unwrap();
        let b = Image::new(4, 5, PixelFormat::Gray8, vec![10; 20]).unwrap();
        assert!(matches!(quality(&a, &b), Err(Error::Invalid(_))));
    }
}
