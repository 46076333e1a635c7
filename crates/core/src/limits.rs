//! Bounds on input sizes. Every decoder and loader checks these *before* allocating, so a
//! crafted header cannot make us reserve gigabytes or hang a browser tab.

use crate::{Error, Result};

/// Largest side of an image we accept, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// Largest image area we accept: 24 megapixels (a modern phone photo), ~72 MB as RGB8.
pub const MAX_IMAGE_PIXELS: u64 = 24_000_000;
/// Largest input file we read at all.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

pub fn check_image_dims(width: u32, height: u32) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::Invalid(format!("image has no pixels ({width}×{height})")));
    }
    if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(Error::TooLarge(format!(
            "{width}×{height} pixels; the largest side allowed is {MAX_IMAGE_SIDE}"
        )));
    }
    let px = width as u64 * height as u64;
    if px > MAX_IMAGE_PIXELS {
        return Err(Error::TooLarge(format!(
            "{:.1} megapixels; at most {:.0} are allowed",
            px as f64 / 1e6,
            MAX_IMAGE_PIXELS as f64 / 1e6
        )));
    }
    Ok(())
}

pub fn check_file_size(len: usize) -> Result<()> {
    if len > MAX_FILE_BYTES {
        return Err(Error::TooLarge(format!(
            "file is {:.1} MB; at most {} MB are allowed",
            len as f64 / 1e6,
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    if len == 0 {
        return Err(Error::Invalid("file is empty".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn bounds() {
        assert!(check_image_dims(512, 512).is_ok());
        assert!(check_image_dims(0, 5).is_err());
        assert!(matches!(check_image_dims(9000, 10), Err(Error::TooLarge(_))));
        assert!(matches!(check_image_dims(8000, 8000), Err(Error::TooLarge(_))));
        assert!(check_file_size(0).is_err());
        assert!(check_file_size(MAX_FILE_BYTES + 1).is_err());
    }
}
