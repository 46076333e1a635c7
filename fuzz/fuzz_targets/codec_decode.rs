//! Any bytes through each codec's own decoder (the first byte picks the codec), so formats
//! are reached even when the input does not sniff as them.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let codecs = mpq_codecs::registry();
    let codec = &codecs[pick as usize % codecs.len()];
    // AVIF's decoder (rav1d) runs in-process only on our own encoder's output; users' files
    // are decoded in a child process or by the browser (see image_load). Its check runs here.
    if codec.id() == "avif" {
        let _ = mpq_codecs::image::avif::check_avif(rest);
        return;
    }
    // The language-model coder reads a few kB a second: the text_decode target fuzzes it with
    // a lower bound on its text.
    if codec.id() == "lm" {
        let _ = mpq_codecs::text::lm::decode_bounded(rest, 16 << 10);
        return;
    }
    let _ = codec.decode(rest);
});
