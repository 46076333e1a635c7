//! A/B playback with the Web Audio API: one buffer per clip (left, right, original), one
//! looping source playing; switching clips starts the other buffer at the same position in
//! the same audio-clock tick, so the comparison is instant and nothing jumps.

use web_sys::{AudioBuffer, AudioBufferSourceNode, AudioContext};

/// Which clip: 0 left, 1 right, 2 the original.
pub const ORIGINAL: usize = 2;

#[derive(Default)]
pub struct Player {
    ctx: Option<AudioContext>,
    buffers: [Option<AudioBuffer>; 3],
    source: Option<AudioBufferSourceNode>,
    pub which: usize,
    /// The audio clock when the current source started, and the clip position it started at.
    started_at: f64,
    offset: f64,
    /// The position (s) while paused.
    paused_at: f64,
}

impl Player {
    pub fn new() -> Player {
        Player { which: ORIGINAL, ..Default::default() }
    }

    fn context(&mut self) -> Result<AudioContext, String> {
        if let Some(c) = &self.ctx {
            return Ok(c.clone());
        }
        let c = AudioContext::new().map_err(|e| format!("this browser cannot play audio here: {}", crate::js::error_text(&e)))?;
        self.ctx = Some(c.clone());
        Ok(c)
    }

    /// Sets clip `k`'s samples (interleaved); `None` empties it. A playing clip switches to the
    /// new samples at the same position.
    pub fn set(&mut self, k: usize, samples: Option<(&[f32], u16, u32)>) -> Result<(), String> {
        self.buffers[k] = match samples {
            None => None,
            Some((samples, channels, rate)) => {
                let ctx = self.context()?;
                let ch = channels.max(1) as usize;
                let frames = (samples.len() / ch).max(1);
                let buf = ctx
                    .create_buffer(ch as u32, frames as u32, rate as f32)
                    .map_err(|e| format!("cannot make an audio buffer at {rate} Hz: {}", crate::js::error_text(&e)))?;
                let mut plane = vec![0f32; frames];
                for c in 0..ch {
                    for (f, v) in plane.iter_mut().enumerate() {
                        *v = samples.get(f * ch + c).copied().unwrap_or(0.0);
                    }
                    buf.copy_to_channel(&plane, c as i32).map_err(|e| crate::js::error_text(&e))?;
                }
                Some(buf)
            }
        };
        if k == self.which && self.is_playing() {
            let at = self.position();
            self.start(at)?;
        }
        Ok(())
    }

    pub fn has(&self, k: usize) -> bool {
        self.buffers[k].is_some()
    }

    pub fn is_playing(&self) -> bool {
        self.source.is_some()
    }

    fn duration(&self) -> f64 {
        self.buffers[self.which].as_ref().map_or(0.0, |b| b.duration())
    }

    /// The current position in the clip (s), wrapped to its length (playback loops).
    pub fn position(&self) -> f64 {
        let d = self.duration();
        let raw = match (&self.ctx, &self.source) {
            (Some(ctx), Some(_)) => self.offset + (ctx.current_time() - self.started_at),
            _ => self.paused_at,
        };
        if d > 0.0 { raw.rem_euclid(d) } else { 0.0 }
    }

    fn stop_source(&mut self) {
        if let Some(s) = self.source.take() {
            #[allow(deprecated)]
            let _ = s.stop();
            let _ = s.disconnect();
        }
    }

    fn start(&mut self, at: f64) -> Result<(), String> {
        self.stop_source();
        let Some(buf) = self.buffers[self.which].clone() else { return Ok(()) };
        let ctx = self.context()?;
        let src = ctx.create_buffer_source().map_err(|e| crate::js::error_text(&e))?;
        src.set_buffer(Some(&buf));
        src.set_loop(true);
        src.connect_with_audio_node(&ctx.destination()).map_err(|e| crate::js::error_text(&e))?;
        let at = if buf.duration() > 0.0 { at.rem_euclid(buf.duration()) } else { 0.0 };
        src.start_with_when_and_grain_offset(0.0, at).map_err(|e| crate::js::error_text(&e))?;
        self.started_at = ctx.current_time();
        self.offset = at;
        self.source = Some(src);
        Ok(())
    }

    pub fn play(&mut self) -> Result<(), String> {
        let ctx = self.context()?;
        // Browsers start a context suspended until a gesture: this is called from one.
        let _ = ctx.resume();
        self.start(self.paused_at)
    }

    pub fn pause(&mut self) {
        self.paused_at = self.position();
        self.stop_source();
    }

    /// Listens to clip `k` from the same position (playing on if it was playing).
    pub fn switch(&mut self, k: usize) -> Result<(), String> {
        let at = self.position();
        self.which = k;
        if self.is_playing() {
            self.start(at)
        } else {
            self.paused_at = at;
            Ok(())
        }
    }

    /// Back to the start, stopped (a new clip was loaded).
    pub fn reset(&mut self) {
        self.stop_source();
        self.paused_at = 0.0;
    }
}
