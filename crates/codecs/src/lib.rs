//! mpqlab codecs: one module per format, each a thin wrapper over a well-kept crate, all
//! behind [`mpq_core::Codec`]. [`registry`] lists them; [`image::load`] sniffs and decodes
//! any supported image file.

pub mod audio;
pub mod image;
pub mod range_coder;
pub mod text;

use mpq_core::{Codec, Error, Result};

/// Every codec this build knows, in the order the UI lists them.
pub fn registry() -> Vec<Box<dyn Codec>> {
    vec![
        Box::new(image::jpeg::Jpeg),
        Box::new(image::avif::Avif),
        Box::new(image::webp::WebpLossless),
        Box::new(image::webp_down::WebpLosslessDown),
        Box::new(image::png::Png),
        Box::new(image::qoi::Qoi),
        Box::new(audio::g711::MuLaw),
        Box::new(audio::g711::ALaw),
        Box::new(audio::adpcm::ImaAdpcm),
        Box::new(audio::flac::Flac),
        Box::new(audio::opus::Opus),
        Box::new(audio::bandlimit::BandLimit),
        Box::new(audio::mdct::Mdct),
        Box::new(text::gzip::Gzip),
        Box::new(text::zlib::Zlib),
        Box::new(text::zstd::Zstd),
        Box::new(text::brotli::Brotli),
        Box::new(text::xz::Xz),
        Box::new(text::bzip2::Bzip2),
        Box::new(text::lz4::Lz4),
        Box::new(text::ppmd::Ppmd),
        Box::new(text::lm::Lm),
        Box::new(text::logs::Logs),
    ]
}

/// The codecs of one modality (the image lab's, the audio lab's), in registry order.
pub fn registry_for(modality: mpq_core::Modality) -> Vec<Box<dyn Codec>> {
    registry().into_iter().filter(|c| c.modality() == modality).collect()
}

/// Looks a codec up by its id.
pub fn codec(id: &str) -> Result<Box<dyn Codec>> {
    registry()
        .into_iter()
        .find(|c| c.id() == id)
        .ok_or_else(|| Error::UnknownCodec(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ids_are_unique_and_schemas_have_valid_defaults() {
        let reg = registry();
        let mut ids: Vec<_> = reg.iter().map(|c| c.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), reg.len());
        for c in &reg {
            for p in c.params() {
                assert_eq!(p.validate(&p.default).unwrap(), p.default, "{}.{}", c.id(), p.name);
            }
        }
        assert!(matches!(codec("nope"), Err(Error::UnknownCodec(_))));
    }
}
