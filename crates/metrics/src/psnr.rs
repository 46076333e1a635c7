//! Peak signal-to-noise ratio, peak 255.
//!
//! PSNR = 10·log10(255² / MSE). Identical images have MSE 0 and PSNR `f64::INFINITY`
//! (mathematically the limit; callers that write JSON get `null` from serde_json, and UIs
//! should show it as "∞" / "identical").

use mpq_core::{Image, Result};

use crate::check_same_size;
use crate::luma::{luma_row, rgb_row};

const PEAK: f64 = 255.0;

fn psnr_from_mse(mse: f64) -> f64 {
    if mse > 0.0 { 10.0 * (PEAK * PEAK / mse).log10() } else { f64::INFINITY }
}

/// PSNR over all R, G and B samples of both images (as `to_rgb8` gives them: gray
/// replicated, alpha ignored), MSE averaged over `3·w·h` samples. `f64::INFINITY` when the
/// images are identical. Errors when the sizes differ.
pub fn psnr_rgb(a: &Image, b: &Image) -> Result<f64> {
    check_same_size(a, b)?;
    Ok(psnr_from_mse(rgb_mse(a, b)))
}

/// PSNR of BT.601 luma `Y = 0.299 R + 0.587 G + 0.114 B` (f64, not rounded), peak 255.
/// `f64::INFINITY` when the lumas are identical. Errors when the sizes differ.
pub fn psnr_y(a: &Image, b: &Image) -> Result<f64> {
    check_same_size(a, b)?;
    Ok(psnr_from_mse(luma_mse(a, b)))
}

/// Both PSNRs of a pair already checked to be the same size.
pub(crate) fn psnr_both(a: &Image, b: &Image) -> (f64, f64) {
    (psnr_from_mse(rgb_mse(a, b)), psnr_from_mse(luma_mse(a, b)))
}

fn rgb_mse(a: &Image, b: &Image) -> f64 {
    let (w, h) = (a.width() as usize, a.height() as usize);
    let (mut ra, mut rb) = (vec![0u8; 3 * w], vec![0u8; 3 * w]);
    // Exact integer sum: at most 255²·3·(24 Mpx) ≈ 4.7e12, far inside u64.
    let mut sse: u64 = 0;
    for y in 0..h {
        let (pa, pb) = (rgb_row(a, y, &mut ra), rgb_row(b, y, &mut rb));
        sse += pa
            .iter()
            .zip(pb)
            .map(|(&p, &q)| {
                let d = u32::from(p.abs_diff(q));
                u64::from(d * d)
            })
            .sum::<u64>();
    }
    sse as f64 / (3 * w * h) as f64
}

fn luma_mse(a: &Image, b: &Image) -> f64 {
    let (w, h) = (a.width() as usize, a.height() as usize);
    let (mut ya, mut yb) = (vec![0.0; w], vec![0.0; w]);
    let mut sse = 0.0;
    for y in 0..h {
        luma_row(a, y, &mut ya);
        luma_row(b, y, &mut yb);
        // Per-row partial sums keep the rounding error of the total small.
        sse += ya.iter().zip(&yb).map(|(p, q)| (p - q) * (p - q)).sum::<f64>();
    }
    sse / (w * h) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpq_core::{Error, PixelFormat};

    fn rgb(w: u32, h: u32, f: impl Fn(usize) -> u8) -> Image {
        Image::new(w, h, PixelFormat::Rgb8, (0..(w * h * 3) as usize).map(f).collect()).unwrap()
    }

    #[test]
    fn identical_is_infinite() {
        let a = rgb(7, 5, |i| (i * 37 % 256) as u8);
        assert_eq!(psnr_rgb(&a, &a).unwrap(), f64::INFINITY);
        assert_eq!(psnr_y(&a, &a).unwrap(), f64::INFINITY);
        // Alpha is ignored: RGBA with other alpha but the same colour is identical.
        let mut rgba = a.to_rgba8().into_data();
        rgba.iter_mut().skip(3).step_by(4).for_each(|v| *v = 7);
        let rgba = Image::new(7, 5, PixelFormat::Rgba8, rgba).unwrap();
        assert_eq!(psnr_rgb(&a, &rgba).unwrap(), f64::INFINITY);
    }

    #[test]
    fn constant_offset_has_known_mse() {
        // Every sample off by 5: MSE 25, PSNR = 10·log10(65025/25) ≈ 34.1514 dB, and luma is
        // off by 5·(0.299+0.587+0.114) = 5 too.
        let a = rgb(16, 9, |i| (i % 200) as u8);
        let b = rgb(16, 9, |i| (i % 200) as u8 + 5);
        let expect = 10.0 * (65025.0f64 / 25.0).log10();
        assert!((psnr_rgb(&a, &b).unwrap() - expect).abs() < 1e-12);
        assert!((psnr_y(&a, &b).unwrap() - expect).abs() < 1e-9);
        assert!((expect - 34.151_403_521_958_74).abs() < 1e-9);
    }

    #[test]
    fn only_one_channel_differs() {
        // Blue off by 10 everywhere: RGB MSE = 100/3; luma MSE = (0.114·10)².
        let a = rgb(4, 4, |_| 100);
        let b = rgb(4, 4, |i| if i % 3 == 2 { 110 } else { 100 });
        let e_rgb = 10.0 * (65025.0 / (100.0f64 / 3.0)).log10();
        let e_y = 10.0 * (65025.0 / (1.14f64 * 1.14)).log10();
        assert!((psnr_rgb(&a, &b).unwrap() - e_rgb).abs() < 1e-12);
        assert!((psnr_y(&a, &b).unwrap() - e_y).abs() < 1e-9);
    }

    #[test]
    fn symmetric() {
        let a = rgb(13, 11, |i| (i * 31 % 256) as u8);
        let b = rgb(13, 11, |i| (i * 17 % 256) as u8);
        assert_eq!(psnr_rgb(&a, &b).unwrap(), psnr_rgb(&b, &a).unwrap());
        assert_eq!(psnr_y(&a, &b).unwrap(), psnr_y(&b, &a).unwrap());
    }

    #[test]
    fn extreme_difference() {
        // Black vs white: MSE 255², PSNR exactly 0.
        let a = rgb(3, 3, |_| 0);
        let b = rgb(3, 3, |_| 255);
        assert_eq!(psnr_rgb(&a, &b).unwrap(), 0.0);
        assert!(psnr_y(&a, &b).unwrap().abs() < 1e-9);
    }

    #[test]
    fn size_mismatch_is_an_error() {
        let a = rgb(4, 3, |_| 0);
        let b = rgb(3, 4, |_| 0);
        let e = psnr_rgb(&a, &b).unwrap_err();
        assert!(matches!(&e, Error::Invalid(m) if m.contains("4×3") && m.contains("3×4")), "{e}");
        assert!(psnr_y(&a, &b).is_err());
    }
}
