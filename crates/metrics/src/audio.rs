//! Signal metrics for audio: how far a decoded clip is from its original. Every definition is
//! pinned here and checked against an independent implementation (tests/fixtures/audio, made
//! by `tests/fixtures/audio/make_fixtures.py` with pysepm-evo and numpy).
//!
//! All take mono f32 signals of the same rate, already aligned ([`align`] removes a codec's
//! delay first) and of equal length (the shorter length is used).

use mpq_core::{Audio, Error, Params, Result};
use realfft::RealFftPlanner;
use serde::{Deserialize, Serialize};

/// The largest codec delay [`AudioReport::measure`] looks for: 50 ms (Opus has 6.5 ms, an
/// MDCT codec a frame of 20–40 ms).
pub const MAX_DELAY_SECONDS: f64 = 0.05;
/// How much of the reference the delay is estimated on: its loudest 4 s. A codec's delay is
/// the same all through the clip, and the search costs samples × lags (4 s at 48 kHz: 10⁹
/// multiply-adds; the whole 10 minutes the limits allow would be 10¹¹).
pub const DELAY_WINDOW_SECONDS: f64 = 4.0;

/// The lag (in samples, within ±`max_lag`) by which `decoded` trails `reference`: the lag of
/// largest cross-correlation Σ r[i]·d[i + lag], the sum over the reference's loudest `window`
/// samples ([`loudest_window`]; the whole reference when it is shorter). Codecs delay their
/// output (Opus by ≈ 6.5 ms, MDCT codecs by a frame); comparing unaligned signals would
/// measure the delay, not the coding. Brute force over lags (a few hundred to a few thousand).
pub fn delay(reference: &[f32], decoded: &[f32], max_lag: usize, window: usize) -> isize {
    let (i0, i1) = loudest_window(reference, window);
    let (mut best, mut best_lag) = (f64::NEG_INFINITY, 0isize);
    let max_lag = max_lag as isize;
    // Lags from the smallest |lag| out (0, 1, −1, 2, …), so a tie keeps the smaller delay.
    for lag in (0..=2 * max_lag).map(|k| if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) }) {
        let mut s = 0f64;
        for (i, &r) in reference.iter().enumerate().take(i1).skip(i0) {
            let j = i as isize + lag;
            if j >= 0 && (j as usize) < decoded.len() {
                s += r as f64 * decoded[j as usize] as f64;
            }
        }
        if s > best {
            best = s;
            best_lag = lag;
        }
    }
    best_lag
}

/// The `window` consecutive samples of `x` with the most energy, as (start, end), starts on a
/// grid of window/8; all of `x` when it is no longer.
pub fn loudest_window(x: &[f32], window: usize) -> (usize, usize) {
    if x.len() <= window || window == 0 {
        return (0, x.len());
    }
    let mut prefix = Vec::with_capacity(x.len() + 1);
    prefix.push(0f64);
    for &v in x {
        prefix.push(prefix[prefix.len() - 1] + v as f64 * v as f64);
    }
    let hop = (window / 8).max(1);
    let start = (0..=x.len() - window).step_by(hop).max_by(|&a, &b| (prefix[a + window] - prefix[a]).total_cmp(&(prefix[b + window] - prefix[b]))).unwrap_or(0);
    (start, start + window)
}

/// `reference` and `decoded` with `decoded`'s delay removed ([`delay`] within ±`max_lag`, on
/// the reference's loudest `window` samples), cut to the samples both have.
pub fn align<'a>(reference: &'a [f32], decoded: &'a [f32], max_lag: usize, window: usize) -> (&'a [f32], &'a [f32], isize) {
    let lag = delay(reference, decoded, max_lag, window);
    let (r, d) = if lag >= 0 {
        (reference, &decoded[(lag as usize).min(decoded.len())..])
    } else {
        (&reference[((-lag) as usize).min(reference.len())..], decoded)
    };
    let n = r.len().min(d.len());
    (&r[..n], &d[..n], lag)
}

fn check(reference: &[f32], decoded: &[f32], what: &str, min: usize) -> Result<usize> {
    let n = reference.len().min(decoded.len());
    if n < min {
        return Err(Error::Invalid(format!("{what} needs at least {min} samples of both signals; they share {n}")));
    }
    Ok(n)
}

/// SNR in dB: 10·log10(Σ r² / Σ (r − d)²). `f64::INFINITY` when identical (JSON: null).
pub fn snr_db(reference: &[f32], decoded: &[f32]) -> Result<f64> {
    let n = check(reference, decoded, "SNR", 1)?;
    let (mut s, mut e) = (0f64, 0f64);
    for i in 0..n {
        let (r, d) = (reference[i] as f64, decoded[i] as f64);
        s += r * r;
        e += (r - d) * (r - d);
    }
    Ok(if e > 0.0 { 10.0 * (s / e).log10() } else { f64::INFINITY })
}

/// Segmental SNR in dB, as pysepm's `SNRseg` (after Loizou, *Speech Enhancement*, 2013):
/// frames of round(0.03·fs) samples every ⌊0.25·0.03·fs⌋ (75 % overlap), each weighted by the
/// symmetric Hann window 0.5·(1 − cos(2πn/(L+1))), n = 1…L (MATLAB's `hanning`); per frame
/// 10·log10(E_signal / (E_noise + ε) + ε) with ε = f64::EPSILON, clamped to [−10, 35] dB; the
/// last frame dropped; the mean of the rest.
pub fn seg_snr_db(reference: &[f32], decoded: &[f32], sample_rate: u32) -> Result<f64> {
    let fs = sample_rate as f64;
    let len = (0.03 * fs).round() as usize;
    let skip = ((1.0 - 0.75) * 0.03 * fs).floor() as usize;
    let n = check(reference, decoded, "segmental SNR", 2 * len)?;
    let overlap = len - skip;
    let frames = (n - overlap) / skip;
    let window = crate::stoi::hanning(len);
    let eps = f64::EPSILON;
    let mut total = 0f64;
    for f in 0..frames - 1 {
        let (mut s, mut e) = (0f64, 0f64);
        for (k, w) in window.iter().enumerate() {
            let i = f * skip + k;
            let r = w * reference[i] as f64;
            let d = w * decoded[i] as f64;
            s += r * r;
            e += (r - d) * (r - d);
        }
        total += (10.0 * (s / (e + eps) + eps).log10()).clamp(-10.0, 35.0);
    }
    Ok(total / (frames - 1) as f64)
}

/// The STFT frame this module's spectral metrics use at `sample_rate`: 32 ms rounded up to a
/// power of two (512 at 16 kHz), hop a quarter of it.
pub fn stft_frame(sample_rate: u32) -> (usize, usize) {
    let n = ((0.032 * sample_rate as f64).round() as usize).next_power_of_two();
    (n, n / 4)
}

/// Power spectra |X|² of frames of `n` samples every `hop` (periodic Hann window
/// 0.5 − 0.5·cos(2πk/n), no padding: frames that fit), bins 0…n/2.
pub fn power_spectra(x: &[f32], n: usize, hop: usize) -> Vec<Vec<f64>> {
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(n);
    let window: Vec<f64> = (0..n).map(|k| 0.5 - 0.5 * (std::f64::consts::TAU * k as f64 / n as f64).cos()).collect();
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let frames = if x.len() >= n { (x.len() - n) / hop + 1 } else { 0 };
    (0..frames)
        .map(|f| {
            for (k, v) in input.iter_mut().enumerate() {
                *v = x[f * hop + k] as f64 * window[k];
            }
            fft.process(&mut input, &mut spectrum).expect("buffer sizes come from the plan");
            spectrum.iter().map(|c| c.norm_sqr()).collect()
        })
        .collect()
}

/// Log-spectral distance in dB: the mean over frames of
/// sqrt(mean over bins of (10·log10((P_r + ε) / (P_d + ε)))²), with P the power spectra of
/// [`power_spectra`] on [`stft_frame`], ε = 1e-10. (Definitions differ: this is the dB form,
/// on power, with all bins 0…n/2; the natural-log form is this / (10 / ln 10).)
pub fn lsd_db(reference: &[f32], decoded: &[f32], sample_rate: u32) -> Result<f64> {
    let (n, hop) = stft_frame(sample_rate);
    let len = check(reference, decoded, "log-spectral distance", n)?;
    let (pr, pd) = (power_spectra(&reference[..len], n, hop), power_spectra(&decoded[..len], n, hop));
    let eps = 1e-10;
    let per_frame: Vec<f64> = pr
        .iter()
        .zip(&pd)
        .map(|(a, b)| {
            let m = a.iter().zip(b).map(|(x, y)| (10.0 * ((x + eps) / (y + eps)).log10()).powi(2)).sum::<f64>() / a.len() as f64;
            m.sqrt()
        })
        .collect();
    Ok(per_frame.iter().sum::<f64>() / per_frame.len() as f64)
}

/// Bits per sample and kilobits per second of an encoding of `frames` samples per channel
/// (`bytes` includes the container: headers, block headers, padding).
pub fn audio_rate(bytes: usize, frames: usize, channels: u16, sample_rate: u32) -> (f64, f64) {
    let samples = (frames * channels as usize).max(1);
    let seconds = frames.max(1) as f64 / sample_rate as f64;
    (bytes as f64 * 8.0 / samples as f64, bytes as f64 * 8.0 / seconds / 1000.0)
}

/// Everything measured for one (clip, codec, parameters) triple: the page's numbers and
/// `mpqlab eval`'s, from the same code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioReport {
    pub codec: String,
    pub params: Params,
    pub sample_rate: u32,
    pub channels: u16,
    /// Samples per channel of the original.
    pub frames: usize,
    /// Encoded size, container included.
    pub bytes: usize,
    pub bits_per_sample: f64,
    pub kbps: f64,
    /// The decoded clip's delay, removed before comparing (ms; negative: it leads).
    pub delay_ms: f64,
    /// On the mono mix, after alignment; `null` (infinite) when exact.
    pub snr_db: Option<f64>,
    pub seg_snr_db: Option<f64>,
    pub lsd_db: Option<f64>,
    /// STOI (0…1, as pystoi); `null` for clips with under 0.4 s of speech.
    pub stoi: Option<f64>,
    /// RMS difference of the keyword model's log-mel features (nats, [`crate::mel`]), on the
    /// mono mix resampled to 16 kHz; `null` under 32 ms.
    #[serde(default)]
    pub log_mel_distance: Option<f64>,
    /// Every decoded sample equals the original's (no delay, same length).
    pub exact: bool,
    pub encode_ms: f64,
    pub decode_ms: f64,
}

impl AudioReport {
    /// Measures `decoded` against `original` (same rate: codecs decode to their input's rate).
    /// Metrics that need more samples than the clip has are `null`.
    #[allow(clippy::too_many_arguments)]
    pub fn measure(
        codec: &str,
        params: &Params,
        original: &Audio,
        decoded: &Audio,
        bytes: usize,
        encode_ms: f64,
        decode_ms: f64,
    ) -> Result<AudioReport> {
        if original.sample_rate != decoded.sample_rate {
            return Err(Error::Invalid(format!(
                "the decoded clip is at {} Hz, the original at {} Hz",
                decoded.sample_rate, original.sample_rate
            )));
        }
        let rate = original.sample_rate;
        let (a, b) = (original.to_mono(), decoded.to_mono());
        let max_lag = (MAX_DELAY_SECONDS * rate as f64) as usize;
        let window = (DELAY_WINDOW_SECONDS * rate as f64) as usize;
        let (r, d, lag) = align(&a.samples, &b.samples, max_lag, window);
        let finite = |v: f64| v.is_finite().then_some(v);
        let (bits_per_sample, kbps) = audio_rate(bytes, original.frames(), original.channels, rate);
        Ok(AudioReport {
            codec: codec.to_string(),
            params: params.clone(),
            sample_rate: rate,
            channels: original.channels,
            frames: original.frames(),
            bytes,
            bits_per_sample,
            kbps,
            delay_ms: lag as f64 * 1000.0 / rate as f64,
            snr_db: snr_db(r, d).ok().and_then(finite),
            seg_snr_db: seg_snr_db(r, d, rate).ok(),
            lsd_db: lsd_db(r, d, rate).ok(),
            stoi: crate::stoi::stoi(r, d, rate).ok(),
            log_mel_distance: {
                let (r16, d16) = (to_16k(r, rate), to_16k(d, rate));
                crate::mel::log_mel_distance(&r16, &d16).ok()
            },
            exact: original.samples == decoded.samples && original.channels == decoded.channels,
            encode_ms,
            decode_ms,
        })
    }
}

/// `x` at 16 kHz (the keyword model's rate), with [`crate::stoi::resample_octave`]'s filter.
pub fn to_16k(x: &[f32], rate: u32) -> Vec<f32> {
    if rate == crate::mel::LogMel::KWS.sample_rate {
        return x.to_vec();
    }
    let wide: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    crate::stoi::resample_octave(&wide, crate::mel::LogMel::KWS.sample_rate, rate).into_iter().map(|v| v as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize, f: f32, rate: f32) -> Vec<f32> {
        (0..n).map(|i| 0.5 * (std::f32::consts::TAU * f * i as f32 / rate).sin() + 0.1 * (i as f32 * 0.37).sin()).collect()
    }

    #[test]
    fn delay_is_found_and_removed() {
        let x = tone(4000, 313.0, 16000.0);
        let mut delayed = vec![0.0; 37];
        delayed.extend_from_slice(&x);
        assert_eq!(delay(&x, &delayed, 200, usize::MAX), 37);
        let (r, d, lag) = align(&x, &delayed, 200, usize::MAX);
        assert_eq!((lag, r.len()), (37, 4000));
        assert_eq!(snr_db(r, d).unwrap(), f64::INFINITY);
        assert_eq!(delay(&delayed, &x, 200, usize::MAX), -37);
        // On a window of the loudest 1000 samples (silence around a burst) the same delay.
        let mut burst = vec![0.0f32; 3000];
        burst.extend_from_slice(&x[..1500]);
        burst.extend(vec![0.0; 3000]);
        let mut late = vec![0.0; 37];
        late.extend_from_slice(&burst);
        let (start, end) = loudest_window(&burst, 1000);
        assert!(start % 125 == 0 && (2875..=3625).contains(&start) && end == start + 1000, "{start}..{end}");
        assert_eq!(loudest_window(&x, 5000), (0, 4000));
        assert_eq!(delay(&burst, &late, 200, 1000), 37);
    }

    #[test]
    fn snr_of_known_noise() {
        let x = vec![1.0f32; 1000];
        let y: Vec<f32> = x.iter().enumerate().map(|(i, v)| v + if i % 2 == 0 { 0.1 } else { -0.1 }).collect();
        assert!((snr_db(&x, &y).unwrap() - 20.0).abs() < 1e-4);
        assert!(snr_db(&[], &[]).is_err());
    }

    #[test]
    fn identical_signals_have_zero_lsd_and_top_segmental_snr() {
        let x = tone(16000, 440.0, 16000.0);
        assert_eq!(lsd_db(&x, &x, 16000).unwrap(), 0.0);
        assert_eq!(seg_snr_db(&x, &x, 16000).unwrap(), 35.0);
        assert_eq!(stft_frame(16000), (512, 128));
        assert_eq!(stft_frame(8000), (256, 64));
        assert!(seg_snr_db(&x[..500], &x[..500], 16000).is_err());
    }

    #[test]
    fn rate_counts_the_container() {
        let (bps, kbps) = audio_rate(16044, 16000, 1, 16000);
        assert!((bps - 8.022).abs() < 1e-9 && (kbps - 128.352).abs() < 1e-9);
    }
}
