//! Media as plain data: what codecs take and return, what metrics compare.

use serde::{Deserialize, Serialize};

use crate::{Error, Result, limits};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelFormat {
    Gray8,
    Rgb8,
    Rgba8,
}

impl PixelFormat {
    pub fn channels(self) -> usize {
        match self {
            PixelFormat::Gray8 => 1,
            PixelFormat::Rgb8 => 3,
            PixelFormat::Rgba8 => 4,
        }
    }
}

/// An 8-bit image, rows top to bottom, channels interleaved, no padding.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    width: u32,
    height: u32,
    format: PixelFormat,
    data: Vec<u8>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Image({}×{} {:?})", self.width, self.height, self.format)
    }
}

impl Image {
    /// Wraps pixel data, checking its length and the size limits.
    pub fn new(width: u32, height: u32, format: PixelFormat, data: Vec<u8>) -> Result<Self> {
        limits::check_image_dims(width, height)?;
        let expected = width as usize * height as usize * format.channels();
        if data.len() != expected {
            return Err(Error::Invalid(format!(
                "pixel buffer holds {} bytes, {width}×{height} {format:?} needs {expected}",
                data.len()
            )));
        }
        Ok(Image { width, height, format, data })
    }

    pub fn width(&self) -> u32 {
        self.width
    }
    pub fn height(&self) -> u32 {
        self.height
    }
    pub fn format(&self) -> PixelFormat {
        self.format
    }
    pub fn data(&self) -> &[u8] {
        &self.data
    }
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }
    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Same pixels as RGB8. Gray is replicated; alpha is dropped (the lab compares colour,
    /// and the codecs that keep alpha are lossless for it).
    pub fn to_rgb8(&self) -> Image {
        let data = match self.format {
            PixelFormat::Rgb8 => self.data.clone(),
            PixelFormat::Gray8 => self.data.iter().flat_map(|&g| [g, g, g]).collect(),
            PixelFormat::Rgba8 => self.data.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        };
        Image { width: self.width, height: self.height, format: PixelFormat::Rgb8, data }
    }

    /// Same pixels as RGBA8 (opaque where the source has no alpha).
    pub fn to_rgba8(&self) -> Image {
        let data = match self.format {
            PixelFormat::Rgba8 => self.data.clone(),
            PixelFormat::Gray8 => self.data.iter().flat_map(|&g| [g, g, g, 255]).collect(),
            PixelFormat::Rgb8 => self.data.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        };
        Image { width: self.width, height: self.height, format: PixelFormat::Rgba8, data }
    }

    /// True when every pixel is fully opaque (or the format has no alpha).
    pub fn is_opaque(&self) -> bool {
        self.format != PixelFormat::Rgba8 || self.data.chunks_exact(4).all(|p| p[3] == 255)
    }

    /// The image as the labs compare it: transparency flattened onto white (the lab compares
    /// colour; several codecs have no alpha), an opaque RGBA image as RGB, gray and RGB as they
    /// are. `true` when there was transparency to flatten.
    pub fn flattened_onto_white(self) -> (Image, bool) {
        if self.format != PixelFormat::Rgba8 {
            return (self, false);
        }
        if self.is_opaque() {
            return (self.to_rgb8(), false);
        }
        let data = self
            .data
            .chunks_exact(4)
            .flat_map(|p| {
                let a = p[3] as u32;
                let mix = |c: u8| ((c as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
                [mix(p[0]), mix(p[1]), mix(p[2])]
            })
            .collect();
        (Image { width: self.width, height: self.height, format: PixelFormat::Rgb8, data }, true)
    }
}

/// Audio as interleaved f32 samples in [-1, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub sample_rate: u32,
    pub channels: u16,
    pub samples: Vec<f32>,
}

impl Audio {
    /// Audio from interleaved samples, checked: rate, channels and length within
    /// [`crate::limits::check_audio`], whole frames, and every sample finite (NaN or infinite
    /// samples would poison every metric; decoders of integer formats cannot make them, but a
    /// float WAV can hold them). Samples beyond [-1, 1] are kept (float WAVs may clip later).
    pub fn new(sample_rate: u32, channels: u16, samples: Vec<f32>) -> Result<Audio> {
        crate::limits::check_audio(sample_rate, channels, samples.len() as u64 / channels.max(1) as u64)?;
        if samples.len() % channels as usize != 0 {
            return Err(Error::Invalid(format!("{} samples are not whole frames of {channels} channels", samples.len())));
        }
        if samples.is_empty() {
            return Err(Error::Invalid("the audio has no samples".into()));
        }
        if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
            return Err(Error::Invalid(format!(
                "sample {i} (at {:.3} s) is {}: the audio holds values that are not numbers",
                (i / channels as usize) as f64 / sample_rate as f64,
                samples[i]
            )));
        }
        Ok(Audio { sample_rate, channels, samples })
    }
    /// Samples per channel.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1) as usize
    }
    pub fn seconds(&self) -> f64 {
        self.frames() as f64 / self.sample_rate as f64
    }
    /// The channels averaged (the lab's models and metrics take mono).
    pub fn to_mono(&self) -> Audio {
        let c = self.channels.max(1) as usize;
        let samples = if c == 1 { self.samples.clone() } else { self.samples.chunks(c).map(|f| f.iter().sum::<f32>() / c as f32).collect() };
        Audio { sample_rate: self.sample_rate, channels: 1, samples }
    }
}

/// Text as UTF-8 bytes (kept as bytes: text codecs are byte codecs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub bytes: Vec<u8>,
}

/// Anything a codec can take or give back.
#[derive(Debug, Clone, PartialEq)]
pub enum Media {
    Image(Image),
    Audio(Audio),
    Text(Text),
}

impl Media {
    pub fn modality(&self) -> crate::Modality {
        match self {
            Media::Image(_) => crate::Modality::Image,
            Media::Audio(_) => crate::Modality::Audio,
            Media::Text(_) => crate::Modality::Text,
        }
    }
    pub fn as_image(&self) -> Option<&Image> {
        match self {
            Media::Image(i) => Some(i),
            _ => None,
        }
    }
    pub fn as_audio(&self) -> Option<&Audio> {
        match self {
            Media::Audio(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_text(&self) -> Option<&Text> {
        match self {
            Media::Text(t) => Some(t),
            _ => None,
        }
    }
    pub fn into_text(self) -> Result<Text> {
        match self {
            Media::Text(t) => Ok(t),
            other => Err(Error::Invalid(format!("expected text, got {:?}", other.modality()))),
        }
    }
    pub fn into_image(self) -> Result<Image> {
        match self {
            Media::Image(i) => Ok(i),
            other => Err(Error::Invalid(format!("expected an image, got {:?}", other.modality()))),
        }
    }
    pub fn into_audio(self) -> Result<Audio> {
        match self {
            Media::Audio(a) => Ok(a),
            other => Err(Error::Invalid(format!("expected audio, got {:?}", other.modality()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn checks_buffer_length() {
        assert!(Image::new(2, 2, PixelFormat::Rgb8, vec![0; 12]).is_ok());
        assert!(Image::new(2, 2, PixelFormat::Rgb8, vec![0; 11]).is_err());
        assert!(Image::new(0, 2, PixelFormat::Gray8, vec![]).is_err());
    }
    #[test]
    fn audio_is_checked() {
        assert!(Audio::new(16_000, 1, vec![0.0; 160]).is_ok());
        assert!(Audio::new(16_000, 2, vec![0.0; 161]).is_err());
        assert!(Audio::new(16_000, 1, vec![]).is_err());
        let nan = Audio::new(16_000, 1, vec![0.0, f32::NAN]).unwrap_err().to_string();
        assert!(nan.contains("sample 1") && nan.contains("NaN"), "{nan}");
        let a = Audio::new(8_000, 2, vec![1.0, 0.0, 0.5, 0.5]).unwrap();
        assert_eq!((a.frames(), a.to_mono().samples), (2, vec![0.5, 0.5]));
    }
    #[test]
    fn conversions() {
        let g = Image::new(2, 1, PixelFormat::Gray8, vec![10, 20]).unwrap();
        assert_eq!(g.to_rgb8().data(), &[10, 10, 10, 20, 20, 20]);
        assert_eq!(g.to_rgba8().data(), &[10, 10, 10, 255, 20, 20, 20, 255]);
        let a = Image::new(1, 1, PixelFormat::Rgba8, vec![1, 2, 3, 4]).unwrap();
        assert_eq!(a.to_rgb8().data(), &[1, 2, 3]);
        assert!(!a.is_opaque());
    }
}
