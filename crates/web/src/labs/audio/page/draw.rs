//! Pictures of a clip on canvases: the waveform (min/max per pixel column), the spectrogram
//! (dB below the original's loudest cell) and the model's log-mel input, and the difference
//! of a side's log-mel from the original's (blue: the side has less energy, red: more).

use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use super::super::Spectrogram;

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten().map(|c| c.unchecked_into())
}

fn put(canvas: &HtmlCanvasElement, w: u32, h: u32, rgba: &[u8]) {
    canvas.set_width(w);
    canvas.set_height(h);
    let Some(ctx) = context(canvas) else { return };
    if let Ok(data) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(rgba), w, h) {
        let _ = ctx.put_image_data(&data, 0.0, 0.0);
    }
}

/// A dark-to-bright ramp (black, purple, orange, pale yellow) for `t` in 0…1.
fn heat(t: f64) -> [u8; 3] {
    const STOPS: [[f64; 3]; 5] = [[0.0, 0.0, 4.0], [80.0, 18.0, 123.0], [182.0, 54.0, 121.0], [251.0, 136.0, 97.0], [252.0, 253.0, 191.0]];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let k = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - k as f64;
    std::array::from_fn(|c| (STOPS[k][c] + (STOPS[k + 1][c] - STOPS[k][c]) * f).round() as u8)
}

/// Blue (negative) – white – red (positive) for `t` in −1…1.
fn diverging(t: f64) -> [u8; 3] {
    let t = t.clamp(-1.0, 1.0);
    let a = (255.0 * (1.0 - t.abs())).round() as u8;
    if t < 0.0 { [a, a, 255] } else { [255, a, a] }
}

/// The mono mix's min and max per pixel column, filled between.
pub fn waveform(canvas: &HtmlCanvasElement, samples: &[f32], channels: u16) {
    let (w, h) = (canvas.width().max(1) as usize, canvas.height().max(2) as f64);
    let Some(ctx) = context(canvas) else { return };
    ctx.clear_rect(0.0, 0.0, w as f64, h);
    let ch = channels.max(1) as usize;
    let frames = samples.len() / ch;
    if frames == 0 {
        return;
    }
    ctx.set_fill_style_str("#8aa4c8");
    for x in 0..w {
        let (a, b) = (x * frames / w, ((x + 1) * frames / w).max(x * frames / w + 1).min(frames));
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for f in a..b {
            let v = samples[f * ch..(f + 1) * ch].iter().sum::<f32>() / ch as f32;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        let y = |v: f32| (1.0 - (v.clamp(-1.0, 1.0) as f64 + 1.0) / 2.0) * (h - 1.0);
        ctx.fill_rect(x as f64, y(hi), 1.0, (y(lo) - y(hi)).max(1.0));
    }
    ctx.set_fill_style_str("#5b6b82");
    ctx.fill_rect(0.0, h / 2.0, w as f64, 0.5);
}

/// dB below the reference, 0 … `range` dB shown bright to dark, lowest band at the bottom.
pub fn spectrogram(canvas: &HtmlCanvasElement, s: &Spectrogram, range_db: f64) {
    let (cols, rows) = (s.cols as usize, s.rows as usize);
    if cols == 0 || rows == 0 || s.db_below.len() != cols * rows {
        put(canvas, 1, 1, &[0, 0, 0, 255]);
        return;
    }
    let mut rgba = Vec::with_capacity(cols * rows * 4);
    for y in 0..rows {
        let r = rows - 1 - y;
        for c in 0..cols {
            let [r8, g8, b8] = heat(1.0 - s.db_below[r * cols + c] as f64 / range_db);
            rgba.extend([r8, g8, b8, 255]);
        }
    }
    put(canvas, cols as u32, rows as u32, &rgba);
}

/// The model's log-mel input (frames × 40, frame-major): time left to right, low bands at
/// the bottom, natural-log power from `lo` (dark) to `hi` (bright).
pub fn log_mel(canvas: &HtmlCanvasElement, mel: &[f32], bands: usize, lo: f32, hi: f32) {
    let frames = if bands == 0 { 0 } else { mel.len() / bands };
    if frames == 0 {
        put(canvas, 1, 1, &[0, 0, 0, 255]);
        return;
    }
    let mut rgba = Vec::with_capacity(frames * bands * 4);
    for y in 0..bands {
        let b = bands - 1 - y;
        for f in 0..frames {
            let [r, g, bl] = heat(((mel[f * bands + b] - lo) / (hi - lo).max(1e-6)) as f64);
            rgba.extend([r, g, bl, 255]);
        }
    }
    put(canvas, frames as u32, bands as u32, &rgba);
}

/// `side − original` of two log-mel inputs, ±`range` nats mapped to blue…red.
pub fn log_mel_difference(canvas: &HtmlCanvasElement, side: &[f32], original: &[f32], bands: usize, range: f32) {
    let frames = if bands == 0 || side.len() != original.len() { 0 } else { side.len() / bands };
    if frames == 0 {
        put(canvas, 1, 1, &[255, 255, 255, 255]);
        return;
    }
    let mut rgba = Vec::with_capacity(frames * bands * 4);
    for y in 0..bands {
        let b = bands - 1 - y;
        for f in 0..frames {
            let i = f * bands + b;
            let [r, g, bl] = diverging(((side[i] - original[i]) / range) as f64);
            rgba.extend([r, g, bl, 255]);
        }
    }
    put(canvas, frames as u32, bands as u32, &rgba);
}
