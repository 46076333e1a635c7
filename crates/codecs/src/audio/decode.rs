//! The compressed formats we read but do not write ourselves (FLAC, MP3, Ogg Vorbis), through
//! symphonia. The stream's rate, channels and (where the container says) length are checked
//! before decoding, and the decoded length as it grows.

use mpq_core::{Audio, Error, Result, limits};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::TrackType;
use symphonia::core::formats::probe::Hint;
use symphonia::core::io::MediaSourceStream;

fn reason(e: &SymError) -> String {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => "the file is cut short".into(),
        other => other.to_string(),
    }
}

/// Decodes a whole FLAC / MP3 / Ogg Vorbis file; `what` names the format in errors.
pub fn decode(bytes: &[u8], what: &str) -> Result<Audio> {
    let bad = |e: String| Error::decode(what, e);
    let mss = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes.to_vec())), Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(&Hint::new(), mss, Default::default(), Default::default())
        .map_err(|e| bad(reason(&e)))?;
    let track = format.default_track(TrackType::Audio).ok_or_else(|| bad("it has no audio track".into()))?;
    let params = track.codec_params.as_ref().and_then(|p| p.audio()).ok_or_else(|| bad("its audio track has no codec parameters".into()))?;
    let rate = params.sample_rate.ok_or_else(|| bad("it does not say its sample rate".into()))?;
    let channels = params.channels.as_ref().map_or(0, |c| c.count()) as u16;
    limits::check_audio(rate, channels, track.num_frames.unwrap_or(0))?;
    // FLAC's header says exactly how many samples follow (MP3's and Vorbis's lengths are
    // estimates or absent): fewer decoded means the file was cut.
    let announced = track.num_frames.filter(|_| what == "FLAC");
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs().make_audio_decoder(params, &Default::default()).map_err(|e| bad(reason(&e)))?;
    let mut samples: Vec<f32> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => return Err(bad(reason(&e))),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = decoder.decode(&packet).map_err(|e| bad(reason(&e)))?;
        let start = samples.len();
        let n = buf.samples_interleaved();
        if (start + n) as u64 > limits::MAX_AUDIO_SAMPLES {
            return Err(Error::TooLarge(format!("more than {} samples of audio", limits::MAX_AUDIO_SAMPLES)));
        }
        samples.resize(start + n, 0.0);
        buf.copy_to_slice_interleaved(&mut samples[start..]);
    }
    if samples.is_empty() {
        return Err(bad("it holds no audio".into()));
    }
    let channels = channels.max(1);
    let frames = (samples.len() / channels as usize) as u64;
    if let Some(n) = announced.filter(|&n| n > 0 && frames < n) {
        return Err(bad(format!("the file is cut short: it holds {frames} of the {n} samples its header announces")));
    }
    limits::check_audio(rate, channels, frames)?;
    Audio::new(rate, channels, samples)
}
