//! Image codecs, one module per format.

pub mod avif;
pub mod jpeg;
pub mod png;
pub mod qoi;
pub mod webp;
pub mod webp_down;

use mpq_core::{Error, Image, Result, limits};

/// File formats we can read as lab input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Png,
    Jpeg,
    Webp,
    Qoi,
    Avif,
}

/// Recognises an image file by its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<FileFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileFormat::Jpeg)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(FileFormat::Webp)
    } else if bytes.starts_with(b"qoif") {
        Some(FileFormat::Qoi)
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" && (&bytes[8..12] == b"avif" || &bytes[8..12] == b"avis") {
        Some(FileFormat::Avif)
    } else {
        None
    }
}

/// Decodes any supported image file (PNG, JPEG, WebP, QOI, AVIF) with our own decoders, so
/// the page and the CLI see exactly the same pixels.
pub fn load(bytes: &[u8]) -> Result<Image> {
    limits::check_file_size(bytes.len())?;
    let media = match sniff(bytes) {
        Some(FileFormat::Png) => png::decode_png(bytes)?,
        Some(FileFormat::Jpeg) => jpeg::decode_jpeg(bytes)?,
        Some(FileFormat::Webp) => webp::decode_webp(bytes)?,
        Some(FileFormat::Qoi) => qoi::decode_qoi(bytes)?,
        Some(FileFormat::Avif) => avif::decode_avif(bytes)?,
        None => {
            return Err(Error::UnknownFormat(
                " (supported: PNG, JPEG, WebP, QOI, AVIF)".to_string(),
            ));
        }
    };
    Ok(media)
}

/// Decodes like [`load`] and says what was lost when the file is damaged or cut short but a
/// decoder could still show it (JPEG's fill in missing data; the other formats' decoders
/// refuse such files). The page and the CLI show the message beside the picture.
pub fn load_checked(bytes: &[u8]) -> Result<(Image, Option<String>)> {
    limits::check_file_size(bytes.len())?;
    match sniff(bytes) {
        Some(FileFormat::Jpeg) => jpeg::decode_jpeg_checked(bytes),
        _ => load(bytes).map(|img| (img, None)),
    }
}

/// The image inside `media`, or a clear error for other modalities.
pub(crate) fn expect_image<'a>(codec: &str, media: &'a mpq_core::Media) -> Result<&'a Image> {
    media
        .as_image()
        .ok_or_else(|| Error::unsupported(codec, "it encodes images only"))
}
