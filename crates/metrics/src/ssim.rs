//! SSIM (Wang, Bovik, Sheikh & Simoncelli 2004) and MS-SSIM (Wang, Simoncelli & Bovik 2003)
//! on BT.601 luma in f64, range 0..255.
//!
//! Conventions, chosen to equal scikit-image's
//! `structural_similarity(y1, y2, gaussian_weights=True, sigma=1.5,
//! use_sample_covariance=False, data_range=255)`:
//! * Gaussian window σ = 1.5, radius 5 (11 taps; scipy's `int(3.5·σ + 0.5)`), weights
//!   normalised to sum 1;
//! * K1 = 0.01, K2 = 0.03, L = 255;
//! * population covariance (`E[xy] − E[x]E[y]`, no n/(n−1) factor), as in the paper;
//! * the SSIM map is averaged over the "valid" region only: pixels whose 11×11 window lies
//!   entirely inside the image. scikit-image filters with reflect padding and then crops
//!   5 pixels from every border, which keeps exactly those pixels, so padding never matters.
//!
//! The Gaussian filter is separable: a horizontal 11-tap pass per row, then a vertical pass
//! over a ring of the last 11 filtered rows. Only the valid region is ever computed, one output
//! row at a time, so memory is O(width) however tall the image (apart from MS-SSIM's
//! downsampled planes, a third of the original's pixels in all).

use mpq_core::{Error, Image, Result};
use serde::Serialize;

use crate::check_same_size;
use crate::luma::{Luma, Plane};

const RADIUS: usize = 5;
const TAPS: usize = 2 * RADIUS + 1;
const SIGMA: f64 = 1.5;
const L: f64 = 255.0;
const C1: f64 = (0.01 * L) * (0.01 * L);
const C2: f64 = (0.03 * L) * (0.03 * L);

/// The smallest side (in pixels) SSIM accepts: one whole 11×11 window.
pub const SSIM_MIN_SIDE: u32 = TAPS as u32;

/// MS-SSIM exponents for scales 1 (full resolution) to 5, from Wang et al. 2003.
pub const MS_SSIM_WEIGHTS: [f64; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

/// The result of [`ms_ssim`]: its value and how many scales it used.
///
/// `scales` is 5 unless the image's smaller side is under 176 = 11·2⁴ pixels; then it is
/// the number of scales at which an 11×11 window still fits, and the value uses the first
/// `scales` weights renormalised to sum 1. Values with different `scales` are not strictly
/// comparable, so UIs should say when fewer than 5 were used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MsSsim {
    pub value: f64,
    pub scales: usize,
}

/// Mean SSIM of the luma planes of `a` and `b` over the valid region; 1 for identical images,
/// in [−1, 1] always. Symmetric in its arguments.
///
/// Errors when the sizes differ or a side is under [`SSIM_MIN_SIDE`] (11) pixels.
pub fn ssim(a: &Image, b: &Image) -> Result<f64> {
    check_ssim_inputs(a, b)?;
    Ok(ssim_means(Luma::Image(a), Luma::Image(b)).ssim)
}

/// Multi-scale SSIM of the luma planes of `a` and `b`, with [`MS_SSIM_WEIGHTS`].
///
/// At scales 1..n−1 it takes the mean contrast-structure term `cs` (valid region), at the
/// last scale the full SSIM (luminance term too); between scales both planes are halved by
/// 2×2 averaging, dropping an odd last row or column. The value is Π csⱼ^wⱼ · ssimₙ^wₙ.
///
/// Negative `cs` or final SSIM (anti-correlated images) are clamped to 0 before the power,
/// as TensorFlow's `tf.image.ssim_multiscale` does with its ReLU: a negative base with a
/// fractional exponent has no real value. So the result is in [0, 1], and 0 for e.g. an
/// image against its negative.
///
/// Images whose smaller side is under 176 pixels use fewer scales (see [`MsSsim`] and
/// [`ms_ssim_scales`]). Errors when the sizes differ or a side is under 11 pixels.
pub fn ms_ssim(a: &Image, b: &Image) -> Result<MsSsim> {
    ms_ssim_with_first(a, b).map(|(_, ms)| ms)
}

/// How many MS-SSIM scales a `width`×`height` image gets: the largest n ≤ 5 such that the
/// (n−1)-times-halved image still holds an 11×11 window, i.e. `min(w, h) ≥ 11·2ⁿ⁻¹`; 0 when
/// the image is too small even for plain SSIM.
pub fn ms_ssim_scales(width: u32, height: u32) -> usize {
    let side = width.min(height);
    (0..MS_SSIM_WEIGHTS.len()).take_while(|&j| side >> j >= SSIM_MIN_SIDE).count()
}

/// MS-SSIM and, for free, plain SSIM (the full SSIM of the first scale).
pub(crate) fn ms_ssim_with_first(a: &Image, b: &Image) -> Result<(f64, MsSsim)> {
    check_ssim_inputs(a, b)?;
    let scales = ms_ssim_scales(a.width(), a.height());
    let weights = &MS_SSIM_WEIGHTS[..scales];
    let total: f64 = weights.iter().sum();

    let first = ssim_means(Luma::Image(a), Luma::Image(b));
    let mut value = 1.0;
    let mut means = first;
    let mut planes: Option<(Plane, Plane)> = None;
    for (j, &w) in weights.iter().enumerate() {
        if j > 0 {
            let (pa, pb) = match &planes {
                None => (Luma::Image(a).downsample(), Luma::Image(b).downsample()),
                Some((pa, pb)) => (Luma::Plane(pa).downsample(), Luma::Plane(pb).downsample()),
            };
            means = ssim_means(Luma::Plane(&pa), Luma::Plane(&pb));
            planes = Some((pa, pb));
        }
        let term = if j + 1 == scales { means.ssim } else { means.cs };
        // Clamp (see the doc comment), and renormalise the weights actually used.
        value *= term.max(0.0).powf(w / total);
    }
    Ok((first.ssim, MsSsim { value, scales }))
}

fn check_ssim_inputs(a: &Image, b: &Image) -> Result<()> {
    check_same_size(a, b)?;
    if a.width() < SSIM_MIN_SIDE || a.height() < SSIM_MIN_SIDE {
        return Err(Error::Invalid(format!(
            "SSIM needs images at least {SSIM_MIN_SIDE}×{SSIM_MIN_SIDE} pixels (one 11×11 \
             Gaussian window); these are {}×{}",
            a.width(),
            a.height()
        )));
    }
    Ok(())
}

/// The 11 Gaussian taps, normalised to sum 1 (as scipy's `_gaussian_kernel1d`).
fn gaussian_taps() -> [f64; TAPS] {
    let mut g = [0.0; TAPS];
    for (i, v) in g.iter_mut().enumerate() {
        let x = i as f64 - RADIUS as f64;
        *v = (-0.5 * x * x / (SIGMA * SIGMA)).exp();
    }
    let sum: f64 = g.iter().sum();
    g.iter_mut().for_each(|v| *v /= sum);
    g
}

/// Means over the valid region of the SSIM map and of its contrast-structure map.
#[derive(Debug, Clone, Copy)]
struct Means {
    ssim: f64,
    cs: f64,
}

/// Number of filtered quantities: μx, μy, E[x²], E[y²], E[xy].
const Q: usize = 5;

/// Valid-region means of the SSIM and cs maps of two planes of the same size, each side ≥ 11.
fn ssim_means(a: Luma<'_>, b: Luma<'_>) -> Means {
    let (w, h) = (a.width(), a.height());
    debug_assert!(w >= TAPS && h >= TAPS && (w, h) == (b.width(), b.height()));
    let g = gaussian_taps();
    let vw = w + 1 - TAPS; // valid width
    let vh = h + 1 - TAPS;

    let (mut buf_a, mut buf_b) = (vec![0.0; w], vec![0.0; w]);
    let mut products = vec![0.0; 3 * w]; // x², y², xy of the current row
    // Ring of the last 11 horizontally filtered rows; slot s holds Q arrays of vw values.
    let slot_len = Q * vw;
    let mut ring = vec![0.0; TAPS * slot_len];
    let mut acc = vec![0.0; slot_len];
    let (mut sum_ssim, mut sum_cs) = (0.0, 0.0);

    for y in 0..h {
        let ra = a.row(y, &mut buf_a);
        let rb = b.row(y, &mut buf_b);
        let (xx, rest) = products.split_at_mut(w);
        let (yy, xy) = rest.split_at_mut(w);
        for i in 0..w {
            let (p, q) = (ra[i], rb[i]);
            xx[i] = p * p;
            yy[i] = q * q;
            xy[i] = p * q;
        }
        let slot = &mut ring[(y % TAPS) * slot_len..][..slot_len];
        for (dst, src) in slot.chunks_exact_mut(vw).zip([ra, rb, &*xx, &*yy, &*xy]) {
            filter_row(&g, src, dst);
        }

        if y + 1 < TAPS {
            continue;
        }
        // Output row y − 10: vertical pass over rows y−10 ..= y.
        let top = y + 1 - TAPS;
        acc.fill(0.0);
        for (k, &gk) in g.iter().enumerate() {
            let src = &ring[((top + k) % TAPS) * slot_len..][..slot_len];
            for (d, &s) in acc.iter_mut().zip(src) {
                *d += gk * s;
            }
        }
        let (mut row_ssim, mut row_cs) = (0.0, 0.0);
        let mut maps = acc.chunks_exact(vw);
        if let (Some(mx), Some(my), Some(mxx), Some(myy), Some(mxy)) =
            (maps.next(), maps.next(), maps.next(), maps.next(), maps.next())
        {
            for i in 0..vw {
                let (ux, uy) = (mx[i], my[i]);
                let vx = mxx[i] - ux * ux;
                let vy = myy[i] - uy * uy;
                let vxy = mxy[i] - ux * uy;
                // Denominators ≥ C1, C2 (up to rounding of the variances), never 0.
                let cs = (2.0 * vxy + C2) / (vx + vy + C2);
                let l = (2.0 * ux * uy + C1) / (ux * ux + uy * uy + C1);
                row_ssim += l * cs;
                row_cs += cs;
            }
        }
        // Per-row partial sums keep the rounding error of the total small.
        sum_ssim += row_ssim;
        sum_cs += row_cs;
    }
    let n = (vw * vh) as f64;
    Means { ssim: sum_ssim / n, cs: sum_cs / n }
}

/// Valid-mode horizontal Gaussian filter: `dst[i] = Σₖ g[k]·src[i+k]`, `dst.len() ==
/// src.len() − 10`. The kernel is symmetric, so pairs of taps share a multiply.
#[inline]
fn filter_row(g: &[f64; TAPS], src: &[f64], dst: &mut [f64]) {
    for (d, win) in dst.iter_mut().zip(src.windows(TAPS)) {
        let mut s = g[RADIUS] * win[RADIUS];
        for k in 0..RADIUS {
            s += g[k] * (win[k] + win[TAPS - 1 - k]);
        }
        *d = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpq_core::PixelFormat;

    /// Deterministic pseudo-random bytes (xorshift), for test images.
    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 32) as u8
            })
            .collect()
    }

    fn gray(w: u32, h: u32, data: Vec<u8>) -> Image {
        Image::new(w, h, PixelFormat::Gray8, data).unwrap()
    }

    /// Textbook SSIM: a full 2-D 11×11 window at every valid pixel, straight from the
    /// definition (gray images, where luma is the gray value).
    fn naive_ssim(a: &[f64], b: &[f64], w: usize, h: usize) -> (f64, f64) {
        let g = gaussian_taps();
        let (mut s_sum, mut cs_sum, mut n) = (0.0, 0.0, 0.0);
        for y in 0..=h - TAPS {
            for x in 0..=w - TAPS {
                let (mut mx, mut my, mut mxx, mut myy, mut mxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
                for j in 0..TAPS {
                    for i in 0..TAPS {
                        let wt = g[j] * g[i];
                        let (p, q) = (a[(y + j) * w + x + i], b[(y + j) * w + x + i]);
                        mx += wt * p;
                        my += wt * q;
                        mxx += wt * p * p;
                        myy += wt * q * q;
                        mxy += wt * p * q;
                    }
                }
                let (vx, vy, vxy) = (mxx - mx * mx, myy - my * my, mxy - mx * my);
                let cs = (2.0 * vxy + C2) / (vx + vy + C2);
                let l = (2.0 * mx * my + C1) / (mx * mx + my * my + C1);
                s_sum += l * cs;
                cs_sum += cs;
                n += 1.0;
            }
        }
        (s_sum / n, cs_sum / n)
    }

    fn luma_of_gray(img: &Image) -> Vec<f64> {
        img.data().iter().map(|&g| 0.299 * g as f64 + 0.587 * g as f64 + 0.114 * g as f64).collect()
    }

    #[test]
    fn taps_are_normalised_and_symmetric() {
        let g = gaussian_taps();
        assert!((g.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        for k in 0..TAPS {
            assert_eq!(g[k], g[TAPS - 1 - k]);
        }
        // scipy.ndimage._gaussian_kernel1d(1.5, 0, 5)[5]
        assert!((g[5] - 0.266_011_724_861_794_36).abs() < 1e-12, "{}", g[5]);
    }

    #[test]
    fn separable_streaming_equals_naive() {
        let (w, h) = (23u32, 17u32);
        let a = gray(w, h, noise((w * h) as usize, 1));
        let b_data: Vec<u8> =
            a.data().iter().zip(noise((w * h) as usize, 2)).map(|(&p, n)| p / 2 + n / 4).collect();
        let b = gray(w, h, b_data);
        let m = ssim_means(Luma::Image(&a), Luma::Image(&b));
        let (s, cs) = naive_ssim(&luma_of_gray(&a), &luma_of_gray(&b), w as usize, h as usize);
        assert!((m.ssim - s).abs() < 1e-12, "{} vs {s}", m.ssim);
        assert!((m.cs - cs).abs() < 1e-12, "{} vs {cs}", m.cs);
    }

    #[test]
    fn identical_is_one() {
        let a = gray(40, 30, noise(1200, 3));
        assert!((ssim(&a, &a).unwrap() - 1.0).abs() < 1e-12);
        let ms = ms_ssim(&a, &a).unwrap();
        assert!((ms.value - 1.0).abs() < 1e-12);
        assert_eq!(ms.scales, 2);
        // Formats don't matter, only the colour.
        let rgba = a.to_rgba8();
        assert!((ssim(&a, &rgba).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn symmetric_and_bounded() {
        let a = gray(64, 48, noise(64 * 48, 4));
        let b = gray(64, 48, noise(64 * 48, 5));
        let (s1, s2) = (ssim(&a, &b).unwrap(), ssim(&b, &a).unwrap());
        assert!((s1 - s2).abs() < 1e-14);
        assert!((-1.0..=1.0).contains(&s1));
        let (m1, m2) = (ms_ssim(&a, &b).unwrap(), ms_ssim(&b, &a).unwrap());
        assert!((m1.value - m2.value).abs() < 1e-14);
        assert!((0.0..=1.0).contains(&m1.value));
    }

    #[test]
    fn negative_is_clamped_to_zero() {
        let a = gray(64, 48, noise(64 * 48, 6));
        let neg = gray(64, 48, a.data().iter().map(|&v| 255 - v).collect());
        assert!(ssim(&a, &neg).unwrap() < -0.5);
        assert_eq!(ms_ssim(&a, &neg).unwrap().value, 0.0);
    }

    #[test]
    fn constant_images() {
        // Flat images: variances 0, so cs = 1 and SSIM is the luminance term alone.
        let a = gray(12, 12, vec![100; 144]);
        let b = gray(12, 12, vec![110; 144]);
        let (ya, yb) = (luma_of_gray(&a)[0], luma_of_gray(&b)[0]);
        let expect = (2.0 * ya * yb + C1) / (ya * ya + yb * yb + C1);
        assert!((ssim(&a, &b).unwrap() - expect).abs() < 1e-12);
    }

    #[test]
    fn scale_counts() {
        assert_eq!(ms_ssim_scales(10, 500), 0);
        assert_eq!(ms_ssim_scales(11, 11), 1);
        assert_eq!(ms_ssim_scales(21, 40), 1);
        assert_eq!(ms_ssim_scales(22, 40), 2);
        assert_eq!(ms_ssim_scales(175, 1000), 4);
        assert_eq!(ms_ssim_scales(176, 176), 5);
        assert_eq!(ms_ssim_scales(5000, 4000), 5);
    }

    #[test]
    fn single_scale_is_clamped_ssim() {
        let a = gray(15, 20, noise(300, 7));
        let b = gray(15, 20, noise(300, 8));
        let ms = ms_ssim(&a, &b).unwrap();
        assert_eq!(ms.scales, 1);
        assert!((ms.value - ssim(&a, &b).unwrap().max(0.0)).abs() < 1e-12);
    }

    #[test]
    fn too_small_or_mismatched_is_an_error() {
        let a = gray(10, 40, vec![0; 400]);
        let e = ssim(&a, &a).unwrap_err();
        assert!(
            matches!(&e, Error::Invalid(m) if m.contains("11×11") && m.contains("10×40")),
            "{e}"
        );
        assert!(ms_ssim(&a, &a).is_err());
        let b = gray(40, 10, vec![0; 400]);
        assert!(matches!(ssim(&a, &b), Err(Error::Invalid(_))));
        let (c, d) = (gray(20, 20, vec![0; 400]), gray(20, 21, vec![0; 420]));
        let e = ms_ssim(&c, &d).unwrap_err();
        assert!(matches!(&e, Error::Invalid(m) if m.contains("different sizes")), "{e}");
    }
}
