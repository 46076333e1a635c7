//! Reading images row by row as RGB8 or as luma, without converting whole images.
//!
//! Metrics work a row at a time so that a 24-megapixel comparison never holds a converted
//! copy (an f64 luma plane of 24 Mpx would be 192 MB, per image).

use mpq_core::{Image, PixelFormat};

/// BT.601 luma weights (the ones JPEG and most PSNR-Y tools use).
const KR: f64 = 0.299;
const KG: f64 = 0.587;
const KB: f64 = 0.114;

/// Luma of one RGB8 pixel, in f64, not rounded. The order of the sum is part of the
/// contract: the reference fixtures compute `0.299*r + 0.587*g + 0.114*b` the same way, so the
/// two agree bit for bit.
#[inline]
fn luma(r: u8, g: u8, b: u8) -> f64 {
    KR * f64::from(r) + KG * f64::from(g) + KB * f64::from(b)
}

/// Row `y` of an image's raw bytes. Images guarantee `data.len() == w·h·channels`.
#[inline]
fn raw_row(img: &Image, y: usize) -> &[u8] {
    let stride = img.width() as usize * img.format().channels();
    &img.data()[y * stride..(y + 1) * stride]
}

/// Writes row `y` of `img` as RGB8 (gray replicated, alpha dropped, as `to_rgb8` does) into
/// `out`, which holds `3·width` bytes, and returns it.
pub(crate) fn rgb_row<'o>(img: &Image, y: usize, out: &'o mut [u8]) -> &'o [u8] {
    let row = raw_row(img, y);
    match img.format() {
        PixelFormat::Rgb8 => out.copy_from_slice(row),
        PixelFormat::Gray8 => {
            for (o, &g) in out.chunks_exact_mut(3).zip(row) {
                o.copy_from_slice(&[g, g, g]);
            }
        }
        PixelFormat::Rgba8 => {
            for (o, p) in out.chunks_exact_mut(3).zip(row.chunks_exact(4)) {
                o.copy_from_slice(&p[..3]);
            }
        }
    }
    out
}

/// Writes the luma of row `y` of `img` into `out` (`width` values).
pub(crate) fn luma_row(img: &Image, y: usize, out: &mut [f64]) {
    let row = raw_row(img, y);
    match img.format() {
        // Same formula with r = g = b (rather than `g as f64`), so a gray image and its RGB
        // conversion give identical luma.
        PixelFormat::Gray8 => {
            for (o, &g) in out.iter_mut().zip(row) {
                *o = luma(g, g, g);
            }
        }
        PixelFormat::Rgb8 | PixelFormat::Rgba8 => {
            let ch = img.format().channels();
            for (o, p) in out.iter_mut().zip(row.chunks_exact(ch)) {
                *o = luma(p[0], p[1], p[2]);
            }
        }
    }
}

/// A luma plane held in memory (the downsampled scales of MS-SSIM).
pub(crate) struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f64>,
}

/// Where luma rows come from: an image (full resolution, computed on the fly) or a plane.
#[derive(Clone, Copy)]
pub(crate) enum Luma<'a> {
    Image(&'a Image),
    Plane(&'a Plane),
}

impl<'a> Luma<'a> {
    pub fn width(&self) -> usize {
        match self {
            Luma::Image(i) => i.width() as usize,
            Luma::Plane(p) => p.width,
        }
    }
    pub fn height(&self) -> usize {
        match self {
            Luma::Image(i) => i.height() as usize,
            Luma::Plane(p) => p.height,
        }
    }
    /// Row `y`: computed into `buf` (`width` long) for images, borrowed for planes.
    pub fn row<'b>(&'b self, y: usize, buf: &'b mut [f64]) -> &'b [f64] {
        match self {
            Luma::Image(i) => {
                luma_row(i, y, buf);
                buf
            }
            Luma::Plane(p) => &p.data[y * p.width..(y + 1) * p.width],
        }
    }

    /// Halves the plane by averaging 2×2 blocks; an odd last row or column is dropped (as
    /// the reference MS-SSIM implementations that crop before pooling do).
    pub fn downsample(&self) -> Plane {
        let (w, h) = (self.width(), self.height());
        let (dw, dh) = (w / 2, h / 2);
        let mut data = Vec::with_capacity(dw * dh);
        let (mut b0, mut b1) = (vec![0.0; w], vec![0.0; w]);
        for y in 0..dh {
            let r0 = self.row(2 * y, &mut b0);
            let r1 = self.row(2 * y + 1, &mut b1);
            // Summed in the fixture script's order (top-left, bottom-left, top-right,
            // bottom-right); ·0.25 is exact, like its /4.
            data.extend(
                r0.chunks_exact(2)
                    .zip(r1.chunks_exact(2))
                    .map(|(t, b)| (t[0] + b[0] + t[1] + b[1]) * 0.25),
            );
        }
        Plane { width: dw, height: dh, data }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_and_rgb_rows_agree() {
        let g = Image::new(3, 1, PixelFormat::Gray8, vec![0, 128, 255]).unwrap();
        let rgb = g.to_rgb8();
        let rgba = g.to_rgba8();
        let (mut a, mut b, mut c) = ([0.0; 3], [0.0; 3], [0.0; 3]);
        luma_row(&g, 0, &mut a);
        luma_row(&rgb, 0, &mut b);
        luma_row(&rgba, 0, &mut c);
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert!((a[1] - 128.0).abs() < 1e-12 && (a[2] - 255.0).abs() < 1e-12);
        let mut out = [0u8; 9];
        assert_eq!(rgb_row(&rgba, 0, &mut out), rgb.data());
        assert_eq!(rgb_row(&g, 0, &mut out), rgb.data());
    }

    #[test]
    fn luma_weights() {
        assert_eq!(luma(255, 0, 0), 0.299 * 255.0);
        assert_eq!(luma(0, 255, 0), 0.587 * 255.0);
        assert_eq!(luma(0, 0, 255), 0.114 * 255.0);
    }

    #[test]
    fn downsample_drops_odd_edges() {
        // 5×3 gray, values = x + 10·y.
        let data: Vec<u8> = (0..3).flat_map(|y| (0..5).map(move |x| (x + 10 * y) as u8)).collect();
        let img = Image::new(5, 3, PixelFormat::Gray8, data).unwrap();
        let p = Luma::Image(&img).downsample();
        assert_eq!((p.width, p.height), (2, 1));
        let expect = [5.5, 7.5]; // mean of {0,1,10,11} and {2,3,12,13}
        for (v, e) in p.data.iter().zip(expect) {
            assert!((v - e).abs() < 1e-9, "{v} vs {e}");
        }
    }
}
