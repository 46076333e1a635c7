//! QOI, the "Quite OK Image" format: lossless, very fast, encoded and decoded with `qoi`.
//! QOI stores RGB or RGBA only, so gray input is widened to RGB (same pixel values).

use mpq_core::{
    Codec, Error, Image, Media, Modality, ParamSpec, PixelFormat, Result, codec::ResolvedParams,
    limits,
};

pub struct Qoi;

impl Codec for Qoi {
    fn id(&self) -> &'static str {
        "qoi"
    }
    fn name(&self) -> &'static str {
        "QOI"
    }
    fn modality(&self) -> Modality {
        Modality::Image
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "qoi"
    }
    fn mime(&self) -> &'static str {
        "image/qoi"
    }
    fn params(&self) -> Vec<ParamSpec> {
        Vec::new()
    }
    fn encode_resolved(&self, input: &Media, _params: &ResolvedParams) -> Result<Vec<u8>> {
        let img = super::expect_image(self.id(), input)?;
        let widened;
        let img = if img.format() == PixelFormat::Gray8 {
            widened = img.to_rgb8();
            &widened
        } else {
            img
        };
        qoi::encode_to_vec(img.data(), img.width(), img.height()).map_err(|e| Error::encode(self.id(), e))
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        decode_qoi(bytes).map(Media::Image)
    }
}

pub fn decode_qoi(bytes: &[u8]) -> Result<Image> {
    let bad = |e: &dyn std::fmt::Display| Error::decode("QOI", e);
    let header = qoi::decode_header(bytes).map_err(|e| bad(&e))?;
    limits::check_image_dims(header.width, header.height)?;
    let (header, data) = qoi::decode_to_vec(bytes).map_err(|e| bad(&e))?;
    let format = match header.channels {
        qoi::Channels::Rgb => PixelFormat::Rgb8,
        qoi::Channels::Rgba => PixelFormat::Rgba8,
    };
    Image::new(header.width, header.height, format, data).map_err(|e| bad(&e))
}
