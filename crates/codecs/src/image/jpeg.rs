//! JPEG: encoded with `jpeg-encoder` (baseline, optimised Huffman tables), decoded with
//! `zune-jpeg`. Our output is plain JFIF that `djpeg` reads (tested).

use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};
use mpq_core::{
    Codec, Error, Image, Media, Modality, ParamSpec, PixelFormat, Result, codec::ResolvedParams,
    limits,
};
use zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};

pub struct Jpeg;

impl Codec for Jpeg {
    fn id(&self) -> &'static str {
        "jpeg"
    }
    fn name(&self) -> &'static str {
        "JPEG"
    }
    fn modality(&self) -> Modality {
        Modality::Image
    }
    fn lossless(&self) -> bool {
        false
    }
    fn extension(&self) -> &'static str {
        "jpg"
    }
    fn mime(&self) -> &'static str {
        "image/jpeg"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::int("quality", "Quality", 1, 100, 75, "Scales the quantisation tables: lower throws away more detail."),
            ParamSpec::choice(
                "subsampling",
                "Chroma subsampling",
                &["4:4:4", "4:2:2", "4:2:0"],
                "4:2:0",
                "How much colour resolution is kept: 4:2:0 halves it both ways.",
            ),
            ParamSpec::choice(
                "chroma",
                "Chroma downsampling",
                &["nearest", "average"],
                "nearest",
                "How a subsampled colour sample is made from its pixels: the top-left one (jpeg-encoder's default, and ours before this setting) or their mean (libjpeg's).",
            ),
        ]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let img = super::expect_image(self.id(), input)?;
        let quality = params.int("quality") as u8;
        let sampling = match params.choice("subsampling") {
            "4:4:4" => SamplingFactor::R_4_4_4,
            "4:2:2" => SamplingFactor::R_4_2_2,
            _ => SamplingFactor::R_4_2_0,
        };
        // JPEG has no alpha: RGBA is encoded as its RGB (the lab compares colour only).
        let rgb;
        let (data, color) = match img.format() {
            PixelFormat::Gray8 => (img.data(), ColorType::Luma),
            PixelFormat::Rgb8 => (img.data(), ColorType::Rgb),
            PixelFormat::Rgba8 => {
                rgb = img.to_rgb8();
                (rgb.data(), ColorType::Rgb)
            }
        };
        let mut out = Vec::new();
        let mut enc = Encoder::new(&mut out, quality);
        enc.set_sampling_factor(sampling);
        enc.set_chroma_subsampling_method(match params.choice("chroma") {
            "average" => ChromaSubsamplingMethod::Average,
            _ => ChromaSubsamplingMethod::Nearest,
        });
        enc.set_optimized_huffman_tables(true);
        enc.encode(data, img.width() as u16, img.height() as u16, color)
            .map_err(|e| Error::encode(self.id(), e))?;
        Ok(out)
    }
    fn rate_param(&self) -> Option<&'static str> {
        Some("quality")
    }

    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        decode_jpeg(bytes).map(Media::Image)
    }
}

/// Decodes a baseline or progressive JPEG to RGB8 (Gray8 for grayscale files).
pub fn decode_jpeg(bytes: &[u8]) -> Result<Image> {
    decode_with(bytes, false)
}

/// Decodes like [`decode_jpeg`] and says what the decoder had to make up. JPEG decoders fill in
/// a stream that is cut short or damaged (with gray, or the last good data) instead of failing,
/// so a file cut to its first 3 KB opens as a whole picture; a second, strict decode tells.
pub fn decode_jpeg_checked(bytes: &[u8]) -> Result<(Image, Option<String>)> {
    // Strict first: a sound file is decoded once (half the peak memory of the other order).
    let reason = match decode_with(bytes, true) {
        Ok(img) => return Ok((img, None)),
        Err(Error::Decode { reason, .. }) => reason,
        Err(e) => return Err(e),
    };
    let img = decode_with(bytes, false)?;
    let damage = if reason.contains("Exhausted data") {
        format!(
            "the file is cut short ({} bytes): its compressed data ends before the picture does, and the decoder filled in the rest",
            bytes.len()
        )
    } else {
        format!("the file is damaged ({}); the decoder guessed past the damage", reason.trim_matches('"'))
    };
    Ok((img, Some(damage)))
}

fn decode_with(bytes: &[u8], strict: bool) -> Result<Image> {
    let bad = |e: &dyn std::fmt::Display| Error::decode("JPEG", e);
    // zune's own size limit is lifted to JPEG's largest (65535): our check below refuses a
    // header that claims too much, with our message, before any pixel is allocated.
    let options = DecoderOptions::default()
        .set_strict_mode(strict)
        .set_max_width(u16::MAX as usize)
        .set_max_height(u16::MAX as usize);
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    dec.decode_headers().map_err(|e| bad(&format!("{e:?}")))?;
    let info = dec.info().ok_or_else(|| bad(&"no frame header"))?;
    let (w, h) = (info.width as u32, info.height as u32);
    limits::check_image_dims(w, h)?;
    let gray = info.components == 1;
    let options = options.jpeg_set_out_colorspace(if gray { ColorSpace::Luma } else { ColorSpace::RGB });
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let pixels = dec.decode().map_err(|e| bad(&format!("{e:?}")))?;
    let format = if gray { PixelFormat::Gray8 } else { PixelFormat::Rgb8 };
    Image::new(w, h, format, pixels).map_err(|e| bad(&e))
}
