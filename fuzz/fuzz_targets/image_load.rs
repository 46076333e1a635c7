//! Any bytes through the sniffing loader (PNG, JPEG, WebP, QOI, AVIF): an error or an image
//! within the size limits, never a panic, a hang or a huge allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = mpq_codecs::image::load(data) {
        assert!(img.pixel_count() as u64 <= mpq_core::limits::MAX_IMAGE_PIXELS);
    }
});
