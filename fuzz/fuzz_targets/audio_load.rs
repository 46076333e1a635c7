//! Any bytes through the audio loader the page and the CLI read clips with (WAV: PCM and float
//! through hound, μ-law, A-law and IMA ADPCM through ours; the container checked first): an
//! error, or audio within the limits with every sample finite, never a panic or a huge
//! allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = mpq_codecs::audio::load(data) {
        assert!(a.seconds() <= mpq_core::limits::MAX_AUDIO_SECONDS);
        assert!(a.samples.len() as u64 <= mpq_core::limits::MAX_AUDIO_SAMPLES);
        assert_eq!(a.samples.len() % a.channels as usize, 0);
        assert!(a.samples.iter().all(|s| s.is_finite()));
    }
});
