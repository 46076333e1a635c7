//! Any bytes through the AVIF check the page runs before it lets the browser decode a user's
//! AVIF file (container, AV1 headers, size, bit depth).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mpq_codecs::image::avif::check_avif(data);
});
