//! Any bytes through the sniffing loader the page and the CLI read files with (PNG, JPEG, WebP,
//! QOI; JPEG strict, then lenient; AVIF: its check): an error, or an image within the size limits
//! (with a warning when it was damaged), never a panic, a hang or a huge allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A user's AVIF is never decoded by rav1d in this process: the CLI decodes it in a child
    // process (rav1d 1.1 aborts on some corrupt AV1 data, memorysafety/rav1d#1497; the abort
    // becomes an error there) and the page lets the browser decode it. What runs in-process is
    // the container and header check, fuzzed here (and in `avif_check`).
    if mpq_codecs::image::sniff(data) == Some(mpq_codecs::image::FileFormat::Avif) {
        let _ = mpq_codecs::image::avif::check_avif(data);
        return;
    }
    if let Ok((img, _warning)) = mpq_codecs::image::load_checked(data) {
        assert!(img.pixel_count() as u64 <= mpq_core::limits::MAX_IMAGE_PIXELS);
        assert_eq!(img.data().len(), img.pixel_count() * img.format().channels());
    }
});
