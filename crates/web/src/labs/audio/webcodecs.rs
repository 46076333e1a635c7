//! The browser's own Opus, through WebCodecs (feature-detected; Chromium has it in workers):
//!
//! * **`browser-opus`**, the browser's encoder as a codec of the lab: the clip at 48 kHz into an
//!   `AudioEncoder`, its packets muxed into Ogg by our muxer (`opus::ogg_opus`), decoded by our
//!   Opus decoder, so its numbers are measured exactly like every other side's;
//! * **the decoder check** of our own Opus stream: its packets through the browser's
//!   `AudioDecoder`, compared with our decoder's output at 48 kHz (aligned for delay): the SNR
//!   between the two decoders.
//!
//! web-sys has WebCodecs only behind `web_sys_unstable_apis`; these few calls go through
//! `js_sys::Reflect` instead, so the build needs no unstable flags.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Float32Array, Function, Reflect, Uint8Array};
use mpq_core::{Audio, Error, ParamSpec, Result};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::js;

pub const BROWSER_OPUS: &str = "browser-opus";

/// The browser encoder's settings (WebCodecs' `bitrate`, in bit/s; 20 ms frames).
pub fn params() -> Vec<ParamSpec> {
    vec![ParamSpec::int("bitrate", "Bitrate (bit/s)", 6000, 256_000, 16_000, "b")]
}

fn ctor(name: &str) -> Option<Function> {
    js::get(&js_sys::global(), name).dyn_into::<Function>().ok()
}

fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue> {
    let f: Function = js::get(target, method).dyn_into().map_err(|_| Error::Invalid(format!("WebCodecs: no {method}()")))?;
    f.apply(target, &args.iter().collect::<Array>()).map_err(|e| Error::Invalid(format!("WebCodecs {method}: {}", js::error_text(&e))))
}

fn js_err(what: &str) -> impl Fn(JsValue) -> Error + '_ {
    move |e| Error::Invalid(format!("WebCodecs {what}: {}", js::error_text(&e)))
}

/// Does this browser's WebCodecs encode (`encoder`) or decode Opus at 48 kHz with `channels`?
pub async fn supports(encoder: bool, channels: u16) -> bool {
    let Some(c) = ctor(if encoder { "AudioEncoder" } else { "AudioDecoder" }) else { return false };
    let config = js::obj(&[("codec", "opus".into()), ("sampleRate", 48000.into()), ("numberOfChannels", (channels as u32).into())]);
    let Ok(promise) = call(&c, "isConfigSupported", &[config.into()]) else { return false };
    match JsFuture::from(js_sys::Promise::from(promise)).await {
        Ok(r) => js::get(&r, "supported").as_bool().unwrap_or(false),
        Err(_) => false,
    }
}

/// A WebCodecs coder with its output and error callbacks collecting into shared cells.
struct Coder {
    coder: JsValue,
    outputs: Rc<RefCell<Vec<JsValue>>>,
    error: Rc<RefCell<Option<String>>>,
    _callbacks: (Closure<dyn FnMut(JsValue)>, Closure<dyn FnMut(JsValue)>),
}

impl Coder {
    fn new(class: &str) -> Result<Coder> {
        let c = ctor(class).ok_or_else(|| Error::Invalid(format!("this browser has no WebCodecs {class}")))?;
        let outputs: Rc<RefCell<Vec<JsValue>>> = Rc::default();
        let error: Rc<RefCell<Option<String>>> = Rc::default();
        let (o, e) = (outputs.clone(), error.clone());
        let on_output = Closure::<dyn FnMut(JsValue)>::new(move |x: JsValue| o.borrow_mut().push(x));
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |x: JsValue| *e.borrow_mut() = Some(js::error_text(&x)));
        let init = js::obj(&[("output", on_output.as_ref().clone()), ("error", on_error.as_ref().clone())]);
        let coder = Reflect::construct(&c, &Array::of1(&init)).map_err(js_err(class))?;
        Ok(Coder { coder, outputs, error, _callbacks: (on_output, on_error) })
    }

    async fn flush(&self) -> Result<()> {
        let p = call(&self.coder, "flush", &[])?;
        let flushed = JsFuture::from(js_sys::Promise::from(p)).await;
        if let Some(e) = self.error.borrow().clone() {
            return Err(Error::Invalid(format!("WebCodecs: {e}")));
        }
        flushed.map_err(js_err("flush"))?;
        Ok(())
    }
}

impl Drop for Coder {
    fn drop(&mut self) {
        let _ = call(&self.coder, "close", &[]);
    }
}

/// The browser's Opus encoder on `clip` (any rate: resampled to 48 kHz first), muxed into an
/// Ogg Opus file that names the clip's own rate (so our decoder gives it back at that rate).
pub async fn encode(clip: &Audio, bitrate: i64) -> Result<Vec<u8>> {
    if clip.channels > 2 {
        return Err(Error::unsupported(BROWSER_OPUS, format!("{} channels; mono or stereo", clip.channels)));
    }
    let at48 = mpq_codecs::audio::resample::resample(clip, 48000)?;
    let ch = clip.channels as usize;
    let enc = Coder::new("AudioEncoder")?;
    let config = js::obj(&[
        ("codec", "opus".into()),
        ("sampleRate", 48000.into()),
        ("numberOfChannels", (ch as u32).into()),
        ("bitrate", (bitrate as f64).into()),
        ("opus", js::obj(&[("frameDuration", 20_000.into()), ("format", "opus".into())]).into()),
    ]);
    call(&enc.coder, "configure", &[config.into()])?;
    let audio_data = ctor("AudioData").ok_or_else(|| Error::Invalid("this browser has no WebCodecs AudioData".into()))?;
    // 20 ms blocks, planar, with their timestamps (µs); the last one padded with silence.
    const BLOCK: usize = 960;
    let frames = at48.frames();
    let mut k = 0;
    while k < frames {
        let n = BLOCK.min(frames - k);
        let mut planar = vec![0f32; BLOCK * ch];
        for c in 0..ch {
            for f in 0..n {
                planar[c * BLOCK + f] = at48.samples[(k + f) * ch + c];
            }
        }
        let data = Float32Array::from(planar.as_slice());
        let init = js::obj(&[
            ("format", "f32-planar".into()),
            ("sampleRate", 48000.into()),
            ("numberOfFrames", (BLOCK as u32).into()),
            ("numberOfChannels", (ch as u32).into()),
            ("timestamp", ((k as f64) * 1e6 / 48000.0).into()),
            ("data", data.into()),
        ]);
        let frame = Reflect::construct(&audio_data, &Array::of1(&init)).map_err(js_err("AudioData"))?;
        call(&enc.coder, "encode", &[frame.clone()])?;
        let _ = call(&frame, "close", &[]);
        k += BLOCK;
    }
    enc.flush().await?;
    let mut packets = Vec::new();
    for chunk in enc.outputs.borrow().iter() {
        let len = js::get(chunk, "byteLength").as_f64().unwrap_or(0.0) as u32;
        let buf = Uint8Array::new_with_length(len);
        call(chunk, "copyTo", &[buf.clone().into()])?;
        packets.push(buf.to_vec());
    }
    if packets.is_empty() {
        return Err(Error::encode(BROWSER_OPUS, "the browser's encoder gave no packets"));
    }
    // libopus (which Chromium's encoder is) looks ahead 6.5 ms: 312 samples at 48 kHz.
    const PRE_SKIP: u16 = 312;
    let total = PRE_SKIP as u64 + clip.frames() as u64 * 48000 / clip.sample_rate as u64;
    mpq_codecs::audio::opus::ogg_opus(&packets, clip.channels, clip.sample_rate, PRE_SKIP, 960, total)
}

/// Our Ogg Opus stream through the browser's decoder, at 48 kHz, pre-skip not removed.
pub async fn decode(ogg: &[u8]) -> Result<Audio> {
    let (head, packets) = mpq_codecs::audio::opus::ogg_opus_packets(ogg)?;
    let ch = head[9] as u32;
    let dec = Coder::new("AudioDecoder")?;
    let config = js::obj(&[
        ("codec", "opus".into()),
        ("sampleRate", 48000.into()),
        ("numberOfChannels", ch.into()),
        ("description", Uint8Array::from(head.as_slice()).into()),
    ]);
    call(&dec.coder, "configure", &[config.into()])?;
    let chunk_ctor = ctor("EncodedAudioChunk").ok_or_else(|| Error::Invalid("this browser has no WebCodecs EncodedAudioChunk".into()))?;
    for (i, p) in packets.iter().enumerate() {
        let init = js::obj(&[("type", "key".into()), ("timestamp", ((i as f64) * 20_000.0).into()), ("data", Uint8Array::from(p.as_slice()).into())]);
        let chunk = Reflect::construct(&chunk_ctor, &Array::of1(&init)).map_err(js_err("EncodedAudioChunk"))?;
        call(&dec.coder, "decode", &[chunk])?;
    }
    dec.flush().await?;
    let mut samples = Vec::new();
    for data in dec.outputs.borrow().iter() {
        let n = js::get(data, "numberOfFrames").as_f64().unwrap_or(0.0) as usize;
        let planes: Vec<Vec<f32>> = (0..ch)
            .map(|c| {
                let buf = Float32Array::new_with_length(n as u32);
                let opts = js::obj(&[("planeIndex", c.into()), ("format", "f32-planar".into())]);
                call(data, "copyTo", &[buf.clone().into(), opts.into()]).map(|_| buf.to_vec())
            })
            .collect::<Result<_>>()?;
        for f in 0..n {
            for plane in &planes {
                samples.push(plane[f]);
            }
        }
        let _ = call(data, "close", &[]);
    }
    Audio::new(48000, ch as u16, samples)
}

/// The browser's decoding of `ogg` against ours, both at 48 kHz, after aligning the delay
/// between them (the browser may or may not drop the pre-skip).
pub async fn decoder_agreement(ogg: &[u8]) -> Result<super::DecoderCheck> {
    let ours = mpq_codecs::audio::opus::decode_ogg_at(ogg, Some(48000))?.to_mono();
    let theirs = decode(ogg).await?.to_mono();
    let (r, d, lag) = mpq_metrics::audio::align(&ours.samples, &theirs.samples, 4800, 48000);
    let n = r.len().min(d.len());
    if n < 4800 {
        return Err(Error::Invalid(format!("the decoders overlap in only {n} samples (ours {}, the browser's {})", ours.samples.len(), theirs.samples.len())));
    }
    let max_abs_diff = r[..n].iter().zip(&d[..n]).map(|(a, b)| (a - b).abs() as f64).fold(0.0, f64::max);
    let snr = mpq_metrics::audio::snr_db(&r[..n], &d[..n]).map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(super::DecoderCheck { snr_db: snr.is_finite().then_some(snr), max_abs_diff, frames: n, lag: lag as i64 })
}
