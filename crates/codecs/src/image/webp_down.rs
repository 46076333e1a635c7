//! "Lossless after downsampling", as in the Machine Perceptual Quality study: the image is
//! shrunk to `scale` percent of its sides, stored losslessly as WebP, and on decoding enlarged
//! back to its original size. All the loss is resolution, none is quantisation, which separates
//! what a model needs in detail from what it needs in precision.
//!
//! Bitstream (self-contained, so a decoder needs nothing else):
//!
//! | bytes | what |
//! |---|---|
//! | 0–1 | original width, u16 little-endian |
//! | 2–3 | original height, u16 little-endian |
//! | 4 | pixel format as its channel count: 1 gray, 3 RGB, 4 RGBA |
//! | 5– | the downsampled image as a lossless WebP file |
//!
//! The format byte is there because WebP has no gray format: a gray image comes back from the
//! WebP decoder as RGB, and without the byte it could not be told from an RGB image that
//! happens to be gray.
//!
//! Resampling is written here (area average down, bilinear up, below) rather than taken from
//! the `image` crate, which is in the lock file only through other crates: pulling all of
//! `image` into the codecs (and the page's wasm) for two small filters is not worth it.
//! Arithmetic is plain IEEE f64/f32 without fused operations, so native and wasm builds give
//! the same pixels and bytes.

use mpq_core::{
    Codec, Error, Image, Media, Modality, ParamSpec, PixelFormat, Result, codec::ResolvedParams,
    limits,
};

use super::webp::{decode_webp, encode_webp_lossless};

pub struct WebpLosslessDown;

const FORMAT_NAME: &str = "downsampled WebP";
const HEADER_LEN: usize = 5;
const MIN_SCALE: i64 = 10;
const MAX_SCALE: i64 = 100;

impl Codec for WebpLosslessDown {
    fn id(&self) -> &'static str {
        "webp-ll-down"
    }
    fn name(&self) -> &'static str {
        "WebP lossless, downsampled"
    }
    fn modality(&self) -> Modality {
        Modality::Image
    }
    fn lossless(&self) -> bool {
        false
    }
    /// Not a plain WebP file (it has the header above), so not `.webp`.
    fn extension(&self) -> &'static str {
        "webpd"
    }
    fn mime(&self) -> &'static str {
        "application/octet-stream"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::int(
                "scale",
                "Scale",
                MIN_SCALE,
                MAX_SCALE,
                50,
                "Width and height kept before lossless coding, in percent; 100 is lossless.",
            )
            .with_unit("%"),
        ]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let img = super::expect_image(self.id(), input)?;
        let (w, h) = (img.width(), img.height());
        let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
            return Err(Error::unsupported(self.id(), format!("{w}×{h} has a side over 65535")));
        };
        let scale = params.int("scale");
        let (sw, sh) = (scaled_side(w, scale), scaled_side(h, scale));
        let small;
        let to_code = if (sw, sh) == (w, h) {
            img
        } else {
            small = resample(img, sw, sh)?;
            &small
        };
        let webp = encode_webp_lossless(to_code, true).map_err(|e| Error::encode(self.id(), e))?;
        let mut out = Vec::with_capacity(HEADER_LEN + webp.len());
        out.extend_from_slice(&w16.to_le_bytes());
        out.extend_from_slice(&h16.to_le_bytes());
        out.push(img.format().channels() as u8);
        out.extend_from_slice(&webp);
        Ok(out)
    }
    fn rate_param(&self) -> Option<&'static str> {
        Some("scale")
    }

    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        decode_webp_down(bytes).map(Media::Image)
    }
}

/// A side after scaling by `scale` percent, rounded, at least 1 pixel.
fn scaled_side(side: u32, scale: i64) -> u32 {
    let scaled = (side as u64 * scale.clamp(MIN_SCALE, MAX_SCALE) as u64 + 50) / 100;
    scaled.max(1) as u32
}

pub fn decode_webp_down(bytes: &[u8]) -> Result<Image> {
    let bad = |reason: String| Error::decode(FORMAT_NAME, reason);
    let Some((header, webp)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(bad(format!("{} bytes is shorter than its {HEADER_LEN}-byte header", bytes.len())));
    };
    let w = u16::from_le_bytes([header[0], header[1]]) as u32;
    let h = u16::from_le_bytes([header[2], header[3]]) as u32;
    let format = match header[4] {
        1 => PixelFormat::Gray8,
        3 => PixelFormat::Rgb8,
        4 => PixelFormat::Rgba8,
        other => return Err(bad(format!("unknown pixel format {other}"))),
    };
    limits::check_image_dims(w, h)?;
    let small = decode_webp(webp)?;
    let (sw, sh) = (small.width(), small.height());
    if !(MIN_SCALE..=MAX_SCALE).any(|s| (scaled_side(w, s), scaled_side(h, s)) == (sw, sh)) {
        return Err(bad(format!("a {sw}×{sh} image is no scale of {w}×{h} this codec writes")));
    }
    // Gray was coded as WebP's L8, which decodes as RGB with equal channels.
    let expected_inner = if format == PixelFormat::Rgba8 { PixelFormat::Rgba8 } else { PixelFormat::Rgb8 };
    if small.format() != expected_inner {
        return Err(bad(format!("header says {format:?}, the WebP holds {:?}", small.format())));
    }
    let small = if format == PixelFormat::Gray8 {
        if small.data().chunks_exact(3).any(|p| p[0] != p[1] || p[1] != p[2]) {
            return Err(bad("header says gray, the WebP holds colour".into()));
        }
        let gray = small.data().chunks_exact(3).map(|p| p[0]).collect();
        Image::new(sw, sh, PixelFormat::Gray8, gray)?
    } else {
        small
    };
    if (sw, sh) == (w, h) { Ok(small) } else { resample(&small, w, h) }
}

/// `img` shrunk (area average, keeping its aspect ratio) so that neither side exceeds
/// `max_side`; returned unchanged when it already fits. The page uses it to bound the cost
/// of running a model's convolutions on a whole photo.
pub fn fit_within(img: &Image, max_side: u32) -> Result<Image> {
    let (w, h) = (img.width(), img.height());
    let longest = w.max(h);
    if longest <= max_side || max_side == 0 {
        return Ok(img.clone());
    }
    let scale = |side: u32| ((side as u64 * max_side as u64 + longest as u64 / 2) / longest as u64).max(1) as u32;
    resample(img, scale(w), scale(h))
}

/// Resizes `img` to `dw`×`dh`, per axis: area average where the axis shrinks (each output
/// pixel is the mean of the input area it covers, fractional pixels weighted by coverage, so
/// no input pixel is skipped and fine detail averages out instead of aliasing), bilinear where
/// it grows (pixel centres aligned, edges clamped). Channels, alpha included, are filtered
/// independently.
fn resample(img: &Image, dw: u32, dh: u32) -> Result<Image> {
    let (w, h, c) = (img.width() as usize, img.height() as usize, img.format().channels());
    let (dw, dh) = (dw as usize, dh as usize);
    let xs = axis_weights(w, dw);
    let ys = axis_weights(h, dh);
    let src = img.data();
    let mut out = Vec::with_capacity(dw * dh * c);
    // One output row at a time: first blend the input rows it draws on into `row` (full
    // width), then filter `row` horizontally. Memory stays at one row, not a whole image.
    let mut row = vec![0f32; w * c];
    for taps in &ys {
        row.fill(0.0);
        for &(y, wt) in taps {
            let line = &src[y * w * c..(y + 1) * w * c];
            for (acc, &v) in row.iter_mut().zip(line) {
                *acc += wt * v as f32;
            }
        }
        for taps in &xs {
            for ch in 0..c {
                let v: f32 = taps.iter().map(|&(x, wt)| wt * row[x * c + ch]).sum();
                out.push(v.round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    Image::new(dw as u32, dh as u32, img.format(), out)
}

/// For each of `m` output positions, the input positions (of `n`) it reads and their weights,
/// which sum to 1.
fn axis_weights(n: usize, m: usize) -> Vec<Vec<(usize, f32)>> {
    if m <= n {
        // Area average: output i covers input [i·r, (i+1)·r).
        let r = n as f64 / m as f64;
        (0..m)
            .map(|i| {
                let (start, end) = (i as f64 * r, ((i + 1) as f64 * r).min(n as f64));
                let first = start.floor() as usize;
                let last = (end.ceil() as usize).min(n);
                (first..last)
                    .map(|j| {
                        let overlap = end.min(j as f64 + 1.0) - start.max(j as f64);
                        (j, (overlap / r) as f32)
                    })
                    .filter(|&(_, wt)| wt > 0.0)
                    .collect()
            })
            .collect()
    } else {
        // Bilinear: output centre i + ½ maps to input coordinate (i + ½)·n/m − ½.
        let r = n as f64 / m as f64;
        (0..m)
            .map(|i| {
                let s = ((i as f64 + 0.5) * r - 0.5).clamp(0.0, (n - 1) as f64);
                let i0 = s.floor() as usize;
                let i1 = (i0 + 1).min(n - 1);
                let f = (s - i0 as f64) as f32;
                vec![(i0, 1.0 - f), (i1, f)]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpq_core::Params;
    use mpq_core::codec::parse_param_pairs;
    use proptest::prelude::*;

    fn image(w: u32, h: u32, format: PixelFormat, mut f: impl FnMut(u32, u32, usize) -> u8) -> Image {
        let c = format.channels();
        let mut data = Vec::with_capacity((w * h) as usize * c);
        for y in 0..h {
            for x in 0..w {
                for ch in 0..c {
                    data.push(f(x, y, ch));
                }
            }
        }
        Image::new(w, h, format, data).unwrap()
    }

    /// Smooth shading plus fine texture, so both resolution and detail matter.
    fn photo_like(w: u32, h: u32, format: PixelFormat) -> Image {
        image(w, h, format, |x, y, ch| {
            let (fx, fy) = (x as f64, y as f64);
            let v = 128.0
                + 60.0 * (fx / 13.0 + ch as f64).sin() * (fy / 17.0).cos()
                + 25.0 * (fx * 0.9 + fy * 0.7).sin();
            v.clamp(0.0, 255.0) as u8
        })
    }

    fn noise(w: u32, h: u32, format: PixelFormat) -> Image {
        let mut state = 0x9E3779B97F4A7C15u64;
        image(w, h, format, |_, _, _| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
    }

    fn scale(s: i64) -> Params {
        parse_param_pairs([format!("scale={s}").as_str()]).unwrap()
    }

    fn roundtrip(img: &Image, s: i64) -> (Vec<u8>, Image) {
        let bytes = WebpLosslessDown.encode(&Media::Image(img.clone()), &scale(s)).unwrap();
        (bytes.clone(), WebpLosslessDown.decode(&bytes).unwrap().into_image().unwrap())
    }

    fn psnr(a: &Image, b: &Image) -> f64 {
        let se: f64 =
            a.data().iter().zip(b.data()).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum();
        10.0 * (255.0f64.powi(2) * a.data().len() as f64 / se).log10()
    }

    #[test]
    fn round_trip_keeps_size_and_format() {
        for format in [PixelFormat::Gray8, PixelFormat::Rgb8, PixelFormat::Rgba8] {
            for (w, h) in [(33, 17), (1, 1), (1, 40), (64, 3)] {
                for s in [10, 37, 50, 100] {
                    let img = photo_like(w, h, format);
                    let (bytes, back) = roundtrip(&img, s);
                    assert_eq!(
                        (back.width(), back.height(), back.format()),
                        (w, h, format),
                        "{w}×{h} {format:?} at {s}%"
                    );
                    assert_eq!(&bytes[..5], &[w as u8, 0, h as u8, 0, format.channels() as u8]);
                }
            }
        }
    }

    #[test]
    fn scale_100_is_bit_exact() {
        for format in [PixelFormat::Gray8, PixelFormat::Rgb8, PixelFormat::Rgba8] {
            let img = noise(29, 31, format);
            assert_eq!(roundtrip(&img, 100).1, img, "{format:?}");
        }
    }

    #[test]
    fn default_scale_is_half() {
        let img = photo_like(40, 30, PixelFormat::Rgb8);
        let bytes = WebpLosslessDown.encode(&Media::Image(img), &Params::new()).unwrap();
        let inner = decode_webp(&bytes[5..]).unwrap();
        assert_eq!((inner.width(), inner.height()), (20, 15));
    }

    #[test]
    fn smaller_scale_costs_fewer_bytes_and_more_error() {
        let img = photo_like(128, 96, PixelFormat::Rgb8);
        let mut last: Option<(usize, f64)> = None;
        for s in [90, 70, 50, 30, 10] {
            let (bytes, back) = roundtrip(&img, s);
            let p = psnr(&img, &back);
            if let Some((last_bytes, last_psnr)) = last {
                assert!(bytes.len() < last_bytes, "{s}%: {} bytes, not under {last_bytes}", bytes.len());
                // Roughly: resampling phase can make one step no worse, never much better.
                assert!(p < last_psnr + 0.5, "{s}%: {p:.2} dB after {last_psnr:.2} dB");
            }
            last = Some((bytes.len(), p));
        }
        let (_, p90) = roundtrip(&img, 90);
        let (_, p10) = roundtrip(&img, 10);
        assert!(psnr(&img, &p90) > psnr(&img, &p10) + 5.0);
        assert!(psnr(&img, &p90) > 25.0, "{}", psnr(&img, &p90));
    }

    #[test]
    fn encoder_is_deterministic() {
        let img = photo_like(50, 40, PixelFormat::Rgba8);
        assert_eq!(roundtrip(&img, 33).0, roundtrip(&img, 33).0);
    }

    #[test]
    fn bad_input_is_an_error() {
        let img = photo_like(40, 30, PixelFormat::Rgb8);
        let (good, _) = roundtrip(&img, 50);
        let dec = |b: &[u8]| WebpLosslessDown.decode(b);
        for cut in 0..12 {
            assert!(dec(&good[..cut]).is_err(), "{cut}-byte prefix");
        }
        // image-webp forgives some missing tail bytes (a RIFF pad byte, the last bits of the
        // stream); what must hold is that no prefix panics.
        for cut in 12..good.len() {
            let _ = dec(&good[..cut]);
        }
        let with_header = |h: [u8; 5]| [&h[..], &good[5..]].concat();
        assert!(dec(&with_header([40, 0, 30, 0, 2])).is_err(), "format byte");
        assert!(dec(&with_header([40, 0, 30, 0, 1])).is_err(), "RGB data labelled gray is RGB");
        assert!(dec(&with_header([40, 0, 30, 0, 4])).is_err(), "no alpha in the WebP");
        assert!(dec(&with_header([0, 0, 30, 0, 3])).is_err(), "zero width");
        assert!(matches!(dec(&with_header([0xFF, 0xFF, 30, 0, 3])), Err(Error::TooLarge(_))));
        // 20×15 is no scale of 400×30 (10 % would already be 40 wide) nor of 25×15 (20 wide
        // needs 78–81 %, 15 high needs at least 97 %); it is 97 % of 21×15.
        assert!(dec(&with_header([144, 1, 30, 0, 3])).is_err());
        assert!(dec(&with_header([25, 0, 15, 0, 3])).is_err());
        assert!(dec(&with_header([21, 0, 15, 0, 3])).is_ok());
        assert!(dec(&with_header([40, 0, 30, 0, 3])).is_ok());
        // A plain WebP file is not this format.
        assert!(dec(&good[5..]).is_err());
        let text = Media::Text(mpq_core::Text { bytes: b"hi".to_vec() });
        assert!(WebpLosslessDown.encode(&text, &Params::new()).is_err());
    }

    fn arb_image() -> impl Strategy<Value = Image> {
        let format = prop_oneof![Just(PixelFormat::Gray8), Just(PixelFormat::Rgb8), Just(PixelFormat::Rgba8)];
        (1u32..40, 1u32..40, format).prop_flat_map(|(w, h, f)| {
            proptest::collection::vec(any::<u8>(), (w * h) as usize * f.channels())
                .prop_map(move |data| Image::new(w, h, f, data).unwrap())
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_image_and_scale_round_trips_to_its_shape(img in arb_image(), s in MIN_SCALE..=MAX_SCALE) {
            let (_, back) = roundtrip(&img, s);
            prop_assert_eq!((back.width(), back.height(), back.format()), (img.width(), img.height(), img.format()));
            if s == 100 {
                prop_assert_eq!(back, img);
            }
        }

        /// Valid header, damaged WebP: the path random garbage rarely reaches.
        #[test]
        fn damaged_streams_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            let img = photo_like(37, 23, PixelFormat::Rgba8);
            let (mut bytes, _) = roundtrip(&img, 60);
            for (at, x) in flips {
                let i = HEADER_LEN + at % (bytes.len() - HEADER_LEN);
                bytes[i] ^= x;
            }
            let _ = WebpLosslessDown.decode(&bytes);
        }
    }

    #[test]
    fn fit_within_bounds_the_longest_side_and_keeps_small_images() {
        let img = photo_like(600, 400, PixelFormat::Rgb8);
        let small = fit_within(&img, 256).unwrap();
        assert_eq!((small.width(), small.height()), (256, 171));
        assert_eq!(fit_within(&small, 256).unwrap(), small);
        let tall = fit_within(&photo_like(3, 900, PixelFormat::Gray8), 100).unwrap();
        assert_eq!((tall.width(), tall.height()), (1, 100));
    }

    #[test]
    fn resampling_filters_match_hand_computed_values() {
        let row = |values: &[u8]| Image::new(values.len() as u32, 1, PixelFormat::Gray8, values.to_vec()).unwrap();
        // Area average 3 → 2: each output covers 1.5 inputs.
        assert_eq!(resample(&row(&[0, 30, 60]), 2, 1).unwrap().data(), [10, 50]);
        // 4 → 2 is the mean of pairs, rounded half away from zero.
        assert_eq!(resample(&row(&[0, 3, 100, 200]), 2, 1).unwrap().data(), [2, 150]);
        // Bilinear 2 → 4 with centres aligned and clamped edges.
        assert_eq!(resample(&row(&[0, 100]), 4, 1).unwrap().data(), [0, 25, 75, 100]);
        // Vertically the same filters.
        let col = Image::new(1, 3, PixelFormat::Gray8, vec![0, 30, 60]).unwrap();
        assert_eq!(resample(&col, 1, 2).unwrap().data(), [10, 50]);
        // A constant image stays constant at any ratio, in every channel.
        let flat = image(17, 11, PixelFormat::Rgba8, |_, _, ch| [7, 130, 255, 0][ch]);
        for (w, h) in [(5, 3), (17, 11), (40, 29), (1, 1)] {
            let out = resample(&flat, w, h).unwrap();
            assert!(out.data().chunks_exact(4).all(|p| p == [7, 130, 255, 0]), "{w}×{h}");
        }
        // Weights sum to one for every ratio.
        for (n, m) in [(7, 3), (3, 7), (100, 10), (1, 5), (5, 1), (8192, 819)] {
            for taps in axis_weights(n, m) {
                let sum: f32 = taps.iter().map(|t| t.1).sum();
                assert!((sum - 1.0).abs() < 1e-5 && taps.iter().all(|t| t.0 < n), "{n}→{m}: {taps:?}");
            }
        }
    }
}
