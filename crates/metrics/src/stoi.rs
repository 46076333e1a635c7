//! STOI, the short-time objective intelligibility of Taal, Hendriks, Heusdens & Jensen (IEEE
//! TASLP 2011): how well the envelopes of a degraded signal's one-third-octave bands follow
//! the clean signal's over 384 ms windows. 0…1 (higher: more intelligible to people); the
//! human-intelligibility measure the audio lab sets beside the machine's.
//!
//! The algorithm as pystoi 0.4 implements it (its output is checked against pystoi in
//! tests/fixtures/audio): both signals resampled to 10 kHz with Octave's `resample` filter
//! (a Kaiser-windowed sinc, 60 dB rejection, polyphase as scipy's `resample_poly`); frames of
//! 256 samples (Hann, hop 128) whose clean energy is more than 40 dB below the loudest frame
//! removed from both, the rest overlap-added back; an STFT of the same frames (FFT 512); 15
//! one-third-octave bands from 150 Hz; for every band and every 30-frame segment the degraded
//! envelope scaled to the clean one's energy, clipped at 15 dB above it (β = −15 dB), and
//! correlated with it; the mean over bands and segments.
//!
//! Written here because no Rust crate computes STOI.

use mpq_core::{Error, Result};
use realfft::RealFftPlanner;

const FS: u32 = 10_000;
const N_FRAME: usize = 256;
const HOP: usize = N_FRAME / 2;
const NFFT: usize = 512;
const BANDS: usize = 15;
const MIN_FREQ: f64 = 150.0;
/// Frames per segment (384 ms).
const SEGMENT: usize = 30;
const BETA_DB: f64 = -15.0;
const DYN_RANGE_DB: f64 = 40.0;
const EPS: f64 = f64::EPSILON;

/// STOI of `degraded` against `clean` (same rate, aligned; the shorter length is used).
/// Errors when less than 30 frames (≈ 0.4 s) of speech remain after silent frames go.
pub fn stoi(clean: &[f32], degraded: &[f32], sample_rate: u32) -> Result<f64> {
    let n = clean.len().min(degraded.len());
    let (mut x, mut y): (Vec<f64>, Vec<f64>) = (clean[..n].iter().map(|&v| v as f64).collect(), degraded[..n].iter().map(|&v| v as f64).collect());
    if sample_rate != FS {
        x = resample_octave(&x, FS, sample_rate);
        y = resample_octave(&y, FS, sample_rate);
    }
    let (x, y) = remove_silent_frames(&x, &y);
    let too_short = || Error::Invalid(format!("STOI needs at least {SEGMENT} frames (≈ 0.4 s) of speech after silent frames are removed"));
    let (xs, ys) = (band_envelopes(&x), band_envelopes(&y));
    let frames = xs.first().map_or(0, |b| b.len());
    if frames < SEGMENT {
        return Err(too_short());
    }
    let clip = 1.0 + 10f64.powf(-BETA_DB / 20.0);
    let segments = frames - SEGMENT + 1;
    let mut total = 0f64;
    for m in SEGMENT..=frames {
        for (xb, yb) in xs.iter().zip(&ys) {
            let (xw, yw) = (&xb[m - SEGMENT..m], &yb[m - SEGMENT..m]);
            let alpha = norm(xw) / (norm(yw) + EPS);
            let yp: Vec<f64> = yw.iter().zip(xw).map(|(y, x)| (alpha * y).min(x * clip)).collect();
            let (my, mx) = (mean(&yp), mean(xw));
            let yc: Vec<f64> = yp.iter().map(|v| v - my).collect();
            let xc: Vec<f64> = xw.iter().map(|v| v - mx).collect();
            let (ny, nx) = (norm(&yc) + EPS, norm(&xc) + EPS);
            total += yc.iter().zip(&xc).map(|(a, b)| (a / ny) * (b / nx)).sum::<f64>();
        }
    }
    Ok(total / (segments * BANDS) as f64)
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}
fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// MATLAB/Octave's `hanning(L)`: 0.5 − 0.5·cos(2π(k+1)/(L+1)), k = 0…L−1 (no zero ends).
/// Also segmental SNR's window (pysepm uses the same).
pub(crate) fn hanning(len: usize) -> Vec<f64> {
    (0..len).map(|k| 0.5 - 0.5 * (std::f64::consts::TAU * (k + 1) as f64 / (len + 1) as f64).cos()).collect()
}

/// Frame starts 0, hop, 2·hop, … while start < len − frame (as pystoi: the last frame that
/// would end exactly at the end is not taken).
fn frame_starts(len: usize) -> impl Iterator<Item = usize> {
    (0..len.saturating_sub(N_FRAME)).step_by(HOP)
}

/// Drops the frames whose clean energy is more than 40 dB under the loudest, from both
/// signals, and overlap-adds the windowed frames that remain.
fn remove_silent_frames(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let w = hanning(N_FRAME);
    let starts: Vec<usize> = frame_starts(x.len()).collect();
    let energy: Vec<f64> = starts.iter().map(|&s| 20.0 * (norm(&(0..N_FRAME).map(|k| w[k] * x[s + k]).collect::<Vec<_>>()) + EPS).log10()).collect();
    let max = energy.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let kept: Vec<usize> = starts.iter().zip(&energy).filter(|(_, e)| max - DYN_RANGE_DB - **e < 0.0).map(|(s, _)| *s).collect();
    let len = if kept.is_empty() { 0 } else { (kept.len() - 1) * HOP + N_FRAME };
    let (mut xo, mut yo) = (vec![0f64; len], vec![0f64; len]);
    for (f, &s) in kept.iter().enumerate() {
        for k in 0..N_FRAME {
            xo[f * HOP + k] += w[k] * x[s + k];
            yo[f * HOP + k] += w[k] * y[s + k];
        }
    }
    (xo, yo)
}

/// The one-third-octave band matrix at 10 kHz / FFT 512: for band i the FFT bins from the one
/// nearest 150·2^((2i−1)/6) Hz up to (not including) the one nearest 150·2^((2i+1)/6) Hz.
fn band_bins() -> [(usize, usize); BANDS] {
    let bin_hz = FS as f64 / NFFT as f64;
    let nearest = |f: f64| (0..=NFFT / 2).min_by(|&a, &b| ((a as f64 * bin_hz - f).powi(2)).total_cmp(&(b as f64 * bin_hz - f).powi(2))).unwrap_or(0);
    std::array::from_fn(|i| {
        let k = i as f64;
        (nearest(MIN_FREQ * 2f64.powf((2.0 * k - 1.0) / 6.0)), nearest(MIN_FREQ * 2f64.powf((2.0 * k + 1.0) / 6.0)))
    })
}

/// Per band, per frame: sqrt(Σ |X_k|² over the band's bins) of the Hann-windowed frames
/// (FFT 512, zero-padded).
fn band_envelopes(x: &[f64]) -> Vec<Vec<f64>> {
    let w = hanning(N_FRAME);
    let bands = band_bins();
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(NFFT);
    let (mut input, mut spec) = (fft.make_input_vec(), fft.make_output_vec());
    let mut out = vec![Vec::new(); BANDS];
    for s in frame_starts(x.len()) {
        input.fill(0.0);
        for k in 0..N_FRAME {
            input[k] = w[k] * x[s + k];
        }
        fft.process(&mut input, &mut spec).expect("buffer sizes come from the plan");
        for (b, &(lo, hi)) in bands.iter().enumerate() {
            out[b].push(spec[lo..hi].iter().map(|c| c.norm_sqr()).sum::<f64>().sqrt());
        }
    }
    out
}

/// Zeroth-order modified Bessel function of the first kind (power series), for the Kaiser
/// window.
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, mut k) = (1f64, 1f64, 1f64);
    loop {
        term *= (x / (2.0 * k)).powi(2);
        sum += term;
        if term < 1e-17 * sum {
            return sum;
        }
        k += 1.0;
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `x` resampled by `p/q` as Octave's `resample(x, p, q)` filters it (pystoi's
/// `resample_oct`): an ideal low-pass at 1/(2·max(p, q)) of the upsampled rate, Kaiser window
/// for 60 dB rejection with a roll-off a tenth of the cut-off, normalised to unit sum, then
/// applied polyphase as scipy's `resample_poly` does (zero padding, output centred on the
/// filter, ⌈n·p/q⌉ samples).
pub fn resample_octave(x: &[f64], p: u32, q: u32) -> Vec<f64> {
    let g = gcd(p as u64, q as u64);
    let (up, down) = ((p as u64 / g) as usize, (q as u64 / g) as usize);
    if up == 1 && down == 1 {
        return x.to_vec();
    }
    let stop = 1.0 / (2.0 * up.max(down) as f64);
    let roll_off = stop / 10.0;
    let rejection_db = 60.0;
    let half = ((rejection_db - 8.0) / (28.714 * roll_off)).ceil() as usize;
    let beta = 0.1102 * (rejection_db - 8.7);
    let taps = 2 * half + 1;
    let mut h: Vec<f64> = (0..taps)
        .map(|i| {
            let t = i as f64 - half as f64;
            let arg = 2.0 * stop * t;
            let sinc = if arg == 0.0 { 1.0 } else { (std::f64::consts::PI * arg).sin() / (std::f64::consts::PI * arg) };
            let r = 2.0 * i as f64 / (taps - 1) as f64 - 1.0;
            let kaiser = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta);
            kaiser * 2.0 * up as f64 * stop * sinc
        })
        .collect();
    let sum: f64 = h.iter().sum();
    for v in &mut h {
        *v = *v / sum * up as f64;
    }
    // scipy's padding: zeros before the filter so that output sample `pre_remove` is centred.
    let n_in = x.len();
    let n_out = (n_in * up).div_ceil(down);
    let pre_pad = down - half % down;
    let pre_remove = (half + pre_pad) / down;
    let mut hp = vec![0f64; pre_pad];
    hp.extend_from_slice(&h);
    let output_len = |len_h: usize| ((n_in - 1) * up + len_h - 1) / down + 1;
    while output_len(hp.len()) < n_out + pre_remove {
        hp.push(0.0);
    }
    (pre_remove..pre_remove + n_out)
        .map(|k| {
            // y[k] = Σ_j hp[j] · xu[k·down − j], xu the input with up − 1 zeros between samples.
            let n0 = k * down;
            let first = (n0 + 1).saturating_sub(hp.len()).div_ceil(up);
            let last = (n0 / up).min(n_in - 1);
            (first..=last).map(|i| hp[n0 - i * up] * x[i]).sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_the_third_octave_centres() {
        let b = band_bins();
        // 150 Hz·2^(−1/6) ≈ 133.6 Hz → bin 7 (136.7 Hz); the top band ends near 4.3 kHz.
        assert_eq!(b[0].0, 7);
        assert!(b.windows(2).all(|w| w[0].1 == w[1].0), "bands touch: {b:?}");
        assert_eq!(b[14].1, 219);
    }

    #[test]
    fn resampling_keeps_a_low_tone() {
        let x: Vec<f64> = (0..16000).map(|i| (std::f64::consts::TAU * 300.0 * i as f64 / 16000.0).sin()).collect();
        let y = resample_octave(&x, 10_000, 16_000);
        assert_eq!(y.len(), 10_000);
        for (i, v) in y.iter().enumerate().skip(500).take(9000) {
            let want = (std::f64::consts::TAU * 300.0 * i as f64 / 10000.0).sin();
            assert!((v - want).abs() < 5e-3, "{i}: {v} vs {want}");
        }
    }

    #[test]
    fn identical_speech_is_fully_intelligible_and_short_clips_say_why() {
        let x: Vec<f32> = (0..20000).map(|i| ((i as f32 * 0.031).sin() * (i as f32 * 0.0007).sin()) * 0.5).collect();
        assert!((stoi(&x, &x, 10_000).unwrap() - 1.0).abs() < 1e-9);
        assert!(stoi(&x[..2000], &x[..2000], 10_000).unwrap_err().to_string().contains("30 frames"));
    }
}
