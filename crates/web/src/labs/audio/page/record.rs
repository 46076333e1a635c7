//! Recording from the microphone: the browser's `getUserMedia` stream, read as raw samples
//! through a Web Audio script processor for a fixed time, written as a 16-bit WAV file (with
//! hound). The lab then treats the recording as a file the user gave (its SHA-256 goes in
//! the link), so the recording and a dropped file take the same path to the worker.
//!
//! Why not `MediaRecorder`: it writes WebM/Opus or MP4, containers our decoders (and the CLI)
//! do not read; the raw samples need no decoder at all.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AudioContext, AudioProcessingEvent, MediaStream, MediaStreamConstraints};

use crate::js;

/// `seconds` of mono audio from the default microphone, as a WAV file's bytes.
pub async fn record_wav(seconds: f64) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let devices = window.navigator().media_devices().map_err(|_| "this browser gives no access to a microphone".to_string())?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    let promise = devices.get_user_media_with_constraints(&constraints).map_err(|e| js::error_text(&e))?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(|e| format!("the microphone could not be opened ({})", js::error_text(&e)))?
        .unchecked_into();
    let result = capture(&stream, seconds).await;
    for track in stream.get_tracks().iter() {
        if let Ok(t) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            t.stop();
        }
    }
    let (samples, rate) = result?;
    if samples.is_empty() {
        return Err("the microphone gave no samples".into());
    }
    wav_bytes(&samples, rate)
}

async fn capture(stream: &MediaStream, seconds: f64) -> Result<(Vec<f32>, u32), String> {
    let ctx = AudioContext::new().map_err(|e| js::error_text(&e))?;
    let _ = ctx.resume();
    let rate = ctx.sample_rate() as u32;
    let source = ctx.create_media_stream_source(stream).map_err(|e| js::error_text(&e))?;
    let processor = ctx
        .create_script_processor_with_buffer_size_and_number_of_input_channels_and_number_of_output_channels(4096, 1, 1)
        .map_err(|e| js::error_text(&e))?;
    let wanted = (seconds * rate as f64) as usize;
    let samples: Rc<RefCell<Vec<f32>>> = Rc::new(RefCell::new(Vec::with_capacity(wanted)));
    let sink = samples.clone();
    let on_audio = Closure::<dyn FnMut(AudioProcessingEvent)>::new(move |e: AudioProcessingEvent| {
        if let Ok(buf) = e.input_buffer() {
            if let Ok(data) = buf.get_channel_data(0) {
                let mut s = sink.borrow_mut();
                let room = wanted.saturating_sub(s.len());
                s.extend(data.iter().take(room));
            }
        }
    });
    processor.set_onaudioprocess(Some(on_audio.as_ref().unchecked_ref()));
    source.connect_with_audio_node(&processor).map_err(|e| js::error_text(&e))?;
    // Chromium runs a script processor only while it is connected to the output.
    processor.connect_with_audio_node(&ctx.destination()).map_err(|e| js::error_text(&e))?;
    let deadline = js::now_ms() + seconds * 1000.0 + 3000.0;
    while samples.borrow().len() < wanted && js::now_ms() < deadline {
        sleep_ms(100).await;
    }
    processor.set_onaudioprocess(None);
    let _ = source.disconnect();
    let _ = processor.disconnect();
    let _ = ctx.close();
    drop(on_audio);
    let out = samples.borrow().clone();
    Ok((out, rate))
}

async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

fn wav_bytes(samples: &[f32], rate: u32) -> Result<Vec<u8>, String> {
    let spec = hound::WavSpec { channels: 1, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut out = std::io::Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let mut w = hound::WavWriter::new(&mut out, spec).map_err(|e| e.to_string())?;
    for &s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).map_err(|e| e.to_string())?;
    }
    w.finalize().map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}
