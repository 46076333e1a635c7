//! Any bytes through each text codec's decoder (the first byte picks the codec, the rest is
//! the stream), and through the sniffing the CLI's `decompress` uses. A decoder must refuse or
//! give at most the text limit; never panic, hang or allocate past its bounds. The language-
//! model coder decodes at a few kB/s, so here its text is bounded lower (16 KiB) to keep each
//! run short; its parser's checks are the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mpq_core::limits::MAX_TEXT_BYTES;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let _ = mpq_codecs::text::sniff(rest);
    let codecs = mpq_codecs::registry_for(mpq_core::Modality::Text);
    let codec = &codecs[pick as usize % codecs.len()];
    if codec.id() == "lm" {
        if let Ok(text) = mpq_codecs::text::lm::decode_bounded(rest, 16 << 10) {
            assert!(text.len() <= 16 << 10);
        }
        return;
    }
    if let Ok(m) = codec.decode(rest) {
        assert!(m.into_text().unwrap().bytes.len() <= MAX_TEXT_BYTES);
    }
});
