//! PNG: lossless, encoded and decoded with the `png` crate. The level is deflate's 0–9.

use mpq_core::{
    Codec, Error, Image, Media, Modality, ParamSpec, PixelFormat, Result, codec::ResolvedParams,
    limits,
};
use png::{BitDepth, ColorType, DeflateCompression, Transformations};

pub struct Png;

impl Codec for Png {
    fn id(&self) -> &'static str {
        "png"
    }
    fn name(&self) -> &'static str {
        "PNG"
    }
    fn modality(&self) -> Modality {
        Modality::Image
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "png"
    }
    fn mime(&self) -> &'static str {
        "image/png"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::int(
            "level",
            "Compression level",
            0,
            9,
            6,
            "Deflate effort: 0 stores, 9 searches hardest. Pixels are always kept exactly.",
        )]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let img = super::expect_image(self.id(), input)?;
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, img.width(), img.height());
            enc.set_color(match img.format() {
                PixelFormat::Gray8 => ColorType::Grayscale,
                PixelFormat::Rgb8 => ColorType::Rgb,
                PixelFormat::Rgba8 => ColorType::Rgba,
            });
            enc.set_depth(BitDepth::Eight);
            let level = params.int("level") as u8;
            enc.set_deflate_compression(if level == 0 {
                DeflateCompression::NoCompression
            } else {
                DeflateCompression::Level(level)
            });
            enc.set_filter(png::Filter::Adaptive);
            let mut writer = enc.write_header().map_err(|e| Error::encode(self.id(), e))?;
            writer.write_image_data(img.data()).map_err(|e| Error::encode(self.id(), e))?;
            writer.finish().map_err(|e| Error::encode(self.id(), e))?;
        }
        Ok(out)
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        decode_png(bytes).map(Media::Image)
    }
}

/// Decodes any PNG to Gray8, RGB8 or RGBA8 (palettes expanded, 16-bit reduced to 8,
/// gray+alpha widened to RGBA).
pub fn decode_png(bytes: &[u8]) -> Result<Image> {
    let bad = |e: &dyn std::fmt::Display| Error::decode("PNG", e);
    let mut dec = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits { bytes: limits::MAX_IMAGE_PIXELS as usize * 8 },
    );
    dec.set_transformations(Transformations::normalize_to_color8());
    let header = dec.read_header_info().map_err(|e| bad(&e))?;
    limits::check_image_dims(header.width, header.height)?;
    let mut reader = dec.read_info().map_err(|e| bad(&e))?;
    let size = reader.output_buffer_size().ok_or_else(|| bad(&"image too large"))?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(|e| bad(&e))?;
    buf.truncate(info.buffer_size());
    let (w, h) = (info.width, info.height);
    let (format, data) = match info.color_type {
        ColorType::Grayscale => (PixelFormat::Gray8, buf),
        ColorType::Rgb => (PixelFormat::Rgb8, buf),
        ColorType::Rgba => (PixelFormat::Rgba8, buf),
        ColorType::GrayscaleAlpha => {
            (PixelFormat::Rgba8, buf.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect())
        }
        ColorType::Indexed => return Err(bad(&"palette was not expanded")),
    };
    Image::new(w, h, format, data).map_err(|e| bad(&e))
}
