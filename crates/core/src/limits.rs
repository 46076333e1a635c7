//! Bounds on input sizes. Every decoder and loader checks these *before* allocating, so a
//! crafted header cannot make us reserve gigabytes or hang a browser tab.

use crate::{Error, Result};

/// Largest side of an image we accept, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// Largest image area we accept: 24 megapixels (a modern phone photo), ~72 MB as RGB8.
pub const MAX_IMAGE_PIXELS: u64 = 24_000_000;
/// Largest input file we read at all.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

pub fn check_image_dims(width: u32, height: u32) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::Invalid(format!("image has no pixels ({width}×{height})")));
    }
    if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(Error::TooLarge(format!(
            "{width}×{height} pixels; the largest side allowed is {MAX_IMAGE_SIDE}"
        )));
    }
    let px = width as u64 * height as u64;
    if px > MAX_IMAGE_PIXELS {
        return Err(Error::TooLarge(format!(
            "{:.1} megapixels; at most {:.0} are allowed",
            px as f64 / 1e6,
            MAX_IMAGE_PIXELS as f64 / 1e6
        )));
    }
    Ok(())
}

/// Longest audio we accept: 10 minutes (a lecture excerpt; the lab's clips are seconds long).
pub const MAX_AUDIO_SECONDS: f64 = 600.0;
/// Most channels we accept (7.1 surround).
pub const MAX_AUDIO_CHANNELS: u16 = 8;
/// Sample rates we accept, in Hz (telephone narrowband up to studio rates).
pub const AUDIO_RATES: std::ops::RangeInclusive<u32> = 4000..=192_000;
/// Most decoded samples (all channels) we hold: 10 minutes of stereo at 48 kHz, 230 MB as f32.
pub const MAX_AUDIO_SAMPLES: u64 = 2 * 48_000 * 600;

/// Checks an audio stream's header *before* its samples are decoded: a header claiming hours
/// of audio (or an absurd rate) is refused without reserving memory for it. `frames` is the
/// per-channel sample count the header claims.
pub fn check_audio(sample_rate: u32, channels: u16, frames: u64) -> Result<()> {
    if channels == 0 {
        return Err(Error::Invalid("the audio has no channels".into()));
    }
    if channels > MAX_AUDIO_CHANNELS {
        return Err(Error::TooLarge(format!("{channels} audio channels; at most {MAX_AUDIO_CHANNELS} are allowed")));
    }
    if !AUDIO_RATES.contains(&sample_rate) {
        return Err(Error::Invalid(format!(
            "a sample rate of {sample_rate} Hz; {}–{} Hz are allowed",
            AUDIO_RATES.start(),
            AUDIO_RATES.end()
        )));
    }
    let seconds = frames as f64 / sample_rate as f64;
    if seconds > MAX_AUDIO_SECONDS {
        return Err(Error::TooLarge(format!(
            "{} of audio; at most {} minutes are allowed",
            duration_text(seconds),
            MAX_AUDIO_SECONDS / 60.0
        )));
    }
    if frames.saturating_mul(channels as u64) > MAX_AUDIO_SAMPLES {
        return Err(Error::TooLarge(format!(
            "{} samples of audio; at most {MAX_AUDIO_SAMPLES} are allowed",
            frames.saturating_mul(channels as u64)
        )));
    }
    Ok(())
}

/// "10 h 0 min", "3 min 5 s", "2.5 s".
pub fn duration_text(seconds: f64) -> String {
    if seconds >= 3600.0 {
        format!("{} h {} min", (seconds / 3600.0) as u64, ((seconds % 3600.0) / 60.0) as u64)
    } else if seconds >= 60.0 {
        format!("{} min {} s", (seconds / 60.0) as u64, (seconds % 60.0) as u64)
    } else {
        format!("{seconds:.1} s")
    }
}

/// Longest text we hold, decoded: 16 MiB (a few hundred books; the classic compressors run
/// through it in seconds, the language-model coder has its own, lower bound). Every text
/// decoder stops at this many bytes, so a small stream that claims or expands to more — a
/// decompression bomb — is refused before the memory is taken.
pub const MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;

/// The refusal every text decoder gives when its output would pass [`MAX_TEXT_BYTES`].
pub fn text_too_large(format: &str) -> Error {
    Error::TooLarge(format!(
        "the {format} stream expands past {} MiB of text, the most this lab holds",
        MAX_TEXT_BYTES / (1024 * 1024)
    ))
}

/// Checks a text's length before it is encoded or held.
pub fn check_text_len(len: usize) -> Result<()> {
    if len > MAX_TEXT_BYTES {
        return Err(Error::TooLarge(format!(
            "the text is {:.1} MiB; at most {} MiB are allowed",
            len as f64 / (1024.0 * 1024.0),
            MAX_TEXT_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

pub fn check_file_size(len: usize) -> Result<()> {
    if len > MAX_FILE_BYTES {
        return Err(Error::TooLarge(format!(
            "file is {:.1} MB; at most {} MB are allowed",
            len as f64 / 1e6,
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    if len == 0 {
        return Err(Error::Invalid("file is empty".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn bounds() {
        assert!(check_image_dims(512, 512).is_ok());
        assert!(check_image_dims(0, 5).is_err());
        assert!(matches!(check_image_dims(9000, 10), Err(Error::TooLarge(_))));
        assert!(matches!(check_image_dims(8000, 8000), Err(Error::TooLarge(_))));
        assert!(check_file_size(0).is_err());
        assert!(check_file_size(MAX_FILE_BYTES + 1).is_err());
        assert!(check_audio(16_000, 1, 16_000).is_ok());
        let ten_hours = check_audio(16_000, 1, 16_000 * 36_000).unwrap_err();
        assert_eq!(ten_hours.to_string(), "input too large: 10 h 0 min of audio; at most 10 minutes are allowed");
        assert!(matches!(check_audio(48_000, 9, 10), Err(Error::TooLarge(_))));
        assert!(check_audio(16_000, 0, 10).is_err());
        assert!(check_audio(1_000_000, 1, 10).is_err());
        assert!(check_audio(192_000, 8, 192_000 * 599).is_err(), "8 channels × 10 minutes at 192 kHz exceed the sample budget");
    }
}
