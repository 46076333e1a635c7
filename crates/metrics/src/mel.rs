//! Log-mel features: the keyword model's input ([`LogMel::KWS`]), and the log-mel distance
//! between a clip and its decoded copy measured on exactly those features — what the model
//! hears, beside what the signal metrics see.
//!
//! The definition, pinned (it equals librosa 0.11's
//! `melspectrogram(y, sr=16000, n_fft=512, win_length=480, hop_length=160, window="hann",
//! center=False, power=2.0, n_mels=40, fmin=20, fmax=8000, htk=False, norm="slaney")`,
//! checked to 1e-4 relative in `tests/audio_reference.rs`, fixture by
//! `tests/fixtures/audio/make_fixtures.py`):
//! * frames of `n_fft` = 512 samples every `hop` = 160 (10 ms at 16 kHz), no padding (frames
//!   that fit: a 1 s clip has 97);
//! * a periodic Hann window of `win` = 480 samples (30 ms), 0.5 − 0.5·cos(2πk/480), centred in
//!   the 512 (16 zeros each side);
//! * the power spectrum |X|², bins 0…256;
//! * 40 triangular filters on the Slaney mel scale (linear below 1 kHz at 3 mel per 200 Hz,
//!   logarithmic above with 27 mel per factor 6.4), edges equally spaced in mel from 20 Hz to
//!   8 kHz, each scaled by 2 / (its upper edge − its lower edge) in Hz (Slaney's area norm);
//! * then the natural log: `ln(mel power + 1e-6)`, samples in [−1, 1]. (Not dB: the model
//!   takes nats. 1e-6 is −138 dB of a full-scale sine's bin power: below 16-bit quantisation.)

use realfft::RealFftPlanner;

use mpq_core::{Error, Result};

/// What the log-mel features are computed with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogMel {
    pub sample_rate: u32,
    pub n_fft: usize,
    pub win: usize,
    pub hop: usize,
    pub n_mels: usize,
    pub fmin: f64,
    pub fmax: f64,
}

/// Added to the mel power before the log.
pub const LOG_FLOOR: f32 = 1e-6;

impl LogMel {
    /// The keyword model's input: 16 kHz, 30 ms windows, 10 ms hop, 40 bins, 20 Hz–8 kHz.
    pub const KWS: LogMel = LogMel { sample_rate: 16_000, n_fft: 512, win: 480, hop: 160, n_mels: 40, fmin: 20.0, fmax: 8000.0 };

    /// Frames in a clip of `samples` samples (those that fit).
    pub fn frames(&self, samples: usize) -> usize {
        if samples >= self.n_fft { (samples - self.n_fft) / self.hop + 1 } else { 0 }
    }

    /// The filterbank: per mel band, its first FFT bin and its weights from there.
    pub fn filterbank(&self) -> Vec<(usize, Vec<f32>)> {
        let edges: Vec<f64> = {
            let (lo, hi) = (hz_to_mel(self.fmin), hz_to_mel(self.fmax));
            (0..self.n_mels + 2).map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (self.n_mels + 1) as f64)).collect()
        };
        let bins = self.n_fft / 2 + 1;
        let bin_hz = |k: usize| k as f64 * self.sample_rate as f64 / self.n_fft as f64;
        (0..self.n_mels)
            .map(|m| {
                let (lo, mid, hi) = (edges[m], edges[m + 1], edges[m + 2]);
                let norm = 2.0 / (hi - lo);
                let weights: Vec<(usize, f32)> = (0..bins)
                    .filter_map(|k| {
                        let f = bin_hz(k);
                        let w = ((f - lo) / (mid - lo)).min((hi - f) / (hi - mid)).max(0.0) * norm;
                        (w > 0.0).then_some((k, w as f32))
                    })
                    .collect();
                let first = weights.first().map_or(0, |&(k, _)| k);
                // Contiguous by construction (a triangle): weights from `first` on.
                (first, weights.into_iter().map(|(_, w)| w).collect())
            })
            .collect()
    }

    /// A reusable computer of these features (the FFT plan, window and filterbank made once).
    pub fn extractor(&self) -> MelExtractor {
        MelExtractor::new(*self)
    }
}

/// Slaney's mel scale (librosa's default, `htk=False`).
pub fn hz_to_mel(hz: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let (min_log_hz, min_log_mel, logstep) = (1000.0, 1000.0 / f_sp, (6.4f64).ln() / 27.0);
    if hz >= min_log_hz { min_log_mel + (hz / min_log_hz).ln() / logstep } else { hz / f_sp }
}

/// The inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let (min_log_hz, min_log_mel, logstep) = (1000.0, 1000.0 / f_sp, (6.4f64).ln() / 27.0);
    if mel >= min_log_mel { min_log_hz * (logstep * (mel - min_log_mel)).exp() } else { f_sp * mel }
}

/// Computes [`LogMel`] features; holds the FFT plan and scratch buffers.
pub struct MelExtractor {
    config: LogMel,
    fft: std::sync::Arc<dyn realfft::RealToComplex<f32>>,
    window: Vec<f32>,
    bank: Vec<(usize, Vec<f32>)>,
    input: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    power: Vec<f32>,
}

impl MelExtractor {
    fn new(config: LogMel) -> MelExtractor {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(config.n_fft);
        let pad = (config.n_fft - config.win) / 2;
        let window = (0..config.n_fft)
            .map(|k| {
                if k < pad || k >= pad + config.win {
                    0.0
                } else {
                    (0.5 - 0.5 * (std::f64::consts::TAU * (k - pad) as f64 / config.win as f64).cos()) as f32
                }
            })
            .collect();
        let (input, spectrum) = (fft.make_input_vec(), fft.make_output_vec());
        MelExtractor { config, fft, window, bank: config.filterbank(), input, spectrum, power: vec![0.0; config.n_fft / 2 + 1] }
    }

    pub fn config(&self) -> &LogMel {
        &self.config
    }

    /// Mel power (before the log), frame-major: `frames × n_mels`.
    pub fn mel_power(&mut self, samples: &[f32]) -> Vec<f32> {
        let c = self.config;
        let frames = c.frames(samples.len());
        let mut out = Vec::with_capacity(frames * c.n_mels);
        for f in 0..frames {
            let frame = &samples[f * c.hop..f * c.hop + c.n_fft];
            for ((v, &s), &w) in self.input.iter_mut().zip(frame).zip(&self.window) {
                *v = s * w;
            }
            self.fft.process(&mut self.input, &mut self.spectrum).expect("buffer sizes come from the plan");
            for (p, x) in self.power.iter_mut().zip(&self.spectrum) {
                *p = x.norm_sqr();
            }
            for (first, weights) in &self.bank {
                out.push(weights.iter().zip(&self.power[*first..]).map(|(w, p)| w * p).sum());
            }
        }
        out
    }

    /// The features: `ln(mel power + 1e-6)`, frame-major `frames × n_mels`.
    pub fn log_mel(&mut self, samples: &[f32]) -> Vec<f32> {
        let mut m = self.mel_power(samples);
        for v in &mut m {
            *v = (*v + LOG_FLOOR).ln();
        }
        m
    }
}

/// Log-mel distance: the root-mean-square difference, in nats, between the [`LogMel::KWS`]
/// features of `reference` and `decoded` (mono, 16 kHz, aligned, the shorter length used) over
/// every frame and band. 0 for identical clips; a codec that removes everything above 4 kHz
/// scores ≈ ln(signal / floor) on the upper bands.
pub fn log_mel_distance(reference: &[f32], decoded: &[f32]) -> Result<f64> {
    let c = LogMel::KWS;
    let n = reference.len().min(decoded.len());
    if n < c.n_fft {
        return Err(Error::Invalid(format!("the log-mel distance needs at least {} samples of both signals; they share {n}", c.n_fft)));
    }
    let mut ex = c.extractor();
    let (a, b) = (ex.log_mel(&reference[..n]), ex.log_mel(&decoded[..n]));
    let sum: f64 = a.iter().zip(&b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
    Ok((sum / a.len() as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_scale_round_trips_and_is_slaney() {
        for hz in [0.0, 20.0, 500.0, 999.0, 1000.0, 4000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9, "{hz}");
        }
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(6400.0) - 42.0).abs() < 1e-9);
    }

    #[test]
    fn a_tone_lights_the_band_around_it() {
        let c = LogMel::KWS;
        let tone: Vec<f32> = (0..16000).map(|i| (std::f32::consts::TAU * 1000.0 * i as f32 / 16000.0).sin() * 0.5).collect();
        let m = c.extractor().log_mel(&tone);
        assert_eq!(m.len(), 97 * 40);
        let frame = &m[40 * 50..40 * 51];
        let loudest = (0..40).max_by(|&a, &b| frame[a].total_cmp(&frame[b])).unwrap();
        let centre = |b: usize| mel_to_hz(hz_to_mel(20.0) + (hz_to_mel(8000.0) - hz_to_mel(20.0)) * (b + 1) as f64 / 41.0);
        assert!((centre(loudest) - 1000.0).abs() < 150.0, "band {loudest} centred at {} Hz", centre(loudest));
        assert!(log_mel_distance(&tone, &tone).unwrap() == 0.0);
        assert!(log_mel_distance(&tone[..100], &tone).is_err());
    }
}
