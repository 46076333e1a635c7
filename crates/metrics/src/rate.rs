//! What an encoding costs.

use mpq_core::Image;
use serde::Serialize;

/// Size of an encoded image relative to its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateStats {
    /// Encoded size in bytes.
    pub bytes: usize,
    /// `8·bytes / (w·h)`.
    pub bits_per_pixel: f64,
    /// Raw RGB8 size (`w·h·3`) over encoded size; `f64::INFINITY` for 0 bytes (serialised as
    /// `null`).
    ///
    /// The baseline is always 3 bytes per pixel, whatever the image's own format, so that
    /// ratios of a gray, RGB or RGBA source are on one scale (the lab compares colour images;
    /// an RGBA baseline would flatter codecs by 4/3 for an alpha channel they mostly drop).
    pub compression_ratio: f64,
}

/// Rate statistics of `encoded_bytes` bytes encoding `image`.
pub fn rate(encoded_bytes: usize, image: &Image) -> RateStats {
    // Images have at least one pixel, so neither division is by zero.
    let pixels = image.pixel_count() as f64;
    let raw = 3.0 * pixels;
    let compression_ratio =
        if encoded_bytes == 0 { f64::INFINITY } else { raw / encoded_bytes as f64 };
    RateStats {
        bytes: encoded_bytes,
        bits_per_pixel: 8.0 * encoded_bytes as f64 / pixels,
        compression_ratio,
    }
}

/// Median of timing samples (sorted in place), the statistic both timing tables report, so the
/// page's and the CLI's numbers are comparable; NaN for no samples.
pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => xs[n / 2],
        _ => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpq_core::PixelFormat;

    #[test]
    fn basic_rate() {
        let img = Image::new(100, 50, PixelFormat::Rgba8, vec![0; 100 * 50 * 4]).unwrap();
        let r = rate(1500, &img);
        assert_eq!(r.bytes, 1500);
        assert_eq!(r.bits_per_pixel, 2.4);
        assert_eq!(r.compression_ratio, 10.0); // 15000 / 1500: RGB8 baseline even for RGBA
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"bytes":1500,"bits_per_pixel":2.4,"compression_ratio":10.0}"#
        );
    }

    #[test]
    fn zero_bytes() {
        let img = Image::new(1, 1, PixelFormat::Gray8, vec![0]).unwrap();
        let r = rate(0, &img);
        assert_eq!(r.bits_per_pixel, 0.0);
        assert_eq!(r.compression_ratio, f64::INFINITY);
    }

    #[test]
    fn median_of_samples() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }
}
