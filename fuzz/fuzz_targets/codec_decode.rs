//! Any bytes through each codec's own decoder (the first byte picks the codec), so formats
//! are reached even when the input does not sniff as them.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let codecs = mpq_codecs::registry();
    let codec = &codecs[pick as usize % codecs.len()];
    let _ = codec.decode(rest);
});
