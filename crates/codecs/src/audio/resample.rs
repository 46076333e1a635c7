//! Sample-rate conversion with rubato's synchronous FFT resampler (Blackman–Harris window):
//! for band-limiting, and for decoders whose output rate differs from the clip's.

use mpq_core::{Audio, Error, Result};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// `a` at `rate` Hz (a copy when it already is). The output has ⌈len · rate / a.rate⌉ frames,
/// aligned with the input (rubato trims its own delay).
pub fn resample(a: &Audio, rate: u32) -> Result<Audio> {
    if rate == a.sample_rate {
        return Ok(a.clone());
    }
    let err = |e: &dyn std::fmt::Display| Error::Invalid(format!("cannot resample {} Hz → {rate} Hz: {e}", a.sample_rate));
    let ch = a.channels as usize;
    let mut fft = Fft::<f32>::new(a.sample_rate as usize, rate as usize, 1024, ch, FixedSync::Input).map_err(|e| err(&e))?;
    let input = InterleavedSlice::new(&a.samples[..], ch, a.frames()).map_err(|e| err(&e))?;
    let out = fft.process_all(&input, a.frames(), None).map_err(|e| err(&e))?;
    Audio::new(rate, a.channels, out.take_data())
}
