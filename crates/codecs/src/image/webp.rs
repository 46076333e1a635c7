//! WebP lossless (VP8L), encoded and decoded with `image-webp`. Its encoder has one knob,
//! the predictor transform; lossy WebP comes from the browser's own encoder in the page.

use image_webp::{ColorType, EncoderParams, WebPDecoder, WebPEncoder};
use mpq_core::{
    Codec, Error, Image, Media, Modality, ParamKind, ParamSpec, ParamValue, PixelFormat, Result,
    codec::ResolvedParams, limits,
};

pub struct WebpLossless;

impl Codec for WebpLossless {
    fn id(&self) -> &'static str {
        "webp-lossless"
    }
    fn name(&self) -> &'static str {
        "WebP lossless"
    }
    fn modality(&self) -> Modality {
        Modality::Image
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "webp"
    }
    fn mime(&self) -> &'static str {
        "image/webp"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec {
            name: "predictor".into(),
            label: "Predictor transform".into(),
            kind: ParamKind::Bool,
            default: ParamValue::Bool(true),
            unit: None,
            help: "Predict each pixel from its neighbours before coding: usually smaller.".into(),
        }]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let img = super::expect_image(self.id(), input)?;
        let predictor = matches!(params.as_params().get("predictor"), Some(ParamValue::Bool(true)));
        encode_webp_lossless(img, predictor).map_err(|e| Error::encode(self.id(), e))
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        decode_webp(bytes).map(Media::Image)
    }
}

/// Encodes `img` as lossless WebP (VP8L); `predictor` turns on the predictor transform.
/// Shared with the codecs that wrap WebP lossless (`webp-ll-down`).
pub fn encode_webp_lossless(img: &Image, predictor: bool) -> Result<Vec<u8>, image_webp::EncodingError> {
    let color = match img.format() {
        PixelFormat::Gray8 => ColorType::L8,
        PixelFormat::Rgb8 => ColorType::Rgb8,
        PixelFormat::Rgba8 => ColorType::Rgba8,
    };
    let mut enc_params = EncoderParams::default();
    enc_params.use_predictor_transform = predictor;
    let mut out = Vec::new();
    let mut enc = WebPEncoder::new(&mut out);
    enc.set_params(enc_params);
    enc.encode(img.data(), img.width(), img.height(), color)?;
    Ok(out)
}

/// Decodes a still WebP (lossy or lossless) to RGB8 or RGBA8.
pub fn decode_webp(bytes: &[u8]) -> Result<Image> {
    let bad = |e: &dyn std::fmt::Display| Error::decode("WebP", e);
    let mut dec = WebPDecoder::new(std::io::Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let (w, h) = dec.dimensions();
    limits::check_image_dims(w, h)?;
    let size = dec.output_buffer_size().ok_or_else(|| bad(&"image too large"))?;
    let mut buf = vec![0; size];
    dec.read_image(&mut buf).map_err(|e| bad(&e))?;
    let format = if dec.has_alpha() { PixelFormat::Rgba8 } else { PixelFormat::Rgb8 };
    Image::new(w, h, format, buf).map_err(|e| bad(&e))
}
