//! "Aim for N bytes": a lossy codec's size-setting parameter found by bisection, so that codecs
//! can be compared at equal sizes instead of at quality numbers that mean something different
//! to each (Squoosh's most asked-for feature, GoogleChromeLabs/squoosh#1422).
//!
//! A codec names its size-setting parameter ([`Codec::rate_param`]); more of it must give more
//! bytes (JPEG's and AVIF's quality, the kept scale, a bit rate, a sample-rate choice listed in
//! increasing order). The search keeps the largest setting whose stream fits the target; when
//! that is more than [`TOLERANCE`] below it, the next setting up is taken if it is nearer. Sizes
//! that are not monotonic in the parameter (rare, a few bytes at a step) only make the result
//! less near; the report always states the bytes reached and the relative error.

use serde::{Deserialize, Serialize};

use crate::codec::{ParamKind, ParamValue, Params};
use crate::{Codec, Error, Media, Result};

/// How near the asked size counts as reached (relative).
pub const TOLERANCE: f64 = 0.02;

/// A target size, in the unit its lab shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The stream's bytes (container included).
    Bytes(f64),
    /// Bits per pixel of an image.
    BitsPerPixel(f64),
    /// Kilobits per second of an audio clip.
    Kbps(f64),
}

impl Target {
    /// The target in bytes for `media`.
    pub fn bytes_for(&self, media: &Media) -> Result<f64> {
        let (value, bytes) = match (*self, media) {
            (Target::Bytes(b), _) => (b, b),
            (Target::BitsPerPixel(bpp), Media::Image(i)) => (bpp, bpp * i.pixel_count() as f64 / 8.0),
            (Target::Kbps(k), Media::Audio(a)) => (k, k * 1000.0 * a.seconds() / 8.0),
            (Target::BitsPerPixel(_), _) => return Err(Error::Invalid("a target in bits per pixel is for images".into())),
            (Target::Kbps(_), _) => return Err(Error::Invalid("a target in kbit/s is for audio".into())),
        };
        if !(value.is_finite() && value > 0.0) {
            return Err(Error::Invalid(format!("a target size must be a positive number, not {value}")));
        }
        Ok(bytes)
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Bytes(b) => write!(f, "{b} bytes"),
            Target::BitsPerPixel(b) => write!(f, "{b} bits per pixel"),
            Target::Kbps(k) => write!(f, "{k} kbit/s"),
        }
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    pub target: Target,
    /// The target in bytes.
    pub target_bytes: f64,
    /// The parameter searched and the value chosen (`None` for a codec with one rate).
    pub param: Option<String>,
    pub value: Option<ParamValue>,
    /// The chosen stream's bytes.
    pub bytes: usize,
    /// (bytes − target) / target.
    pub relative_error: f64,
    /// Within [`TOLERANCE`] of the target.
    pub reached: bool,
    /// Encodes the search ran.
    pub encodes: usize,
    /// When the target falls between two adjacent settings: their sizes (below, above). A
    /// target not reached with both more than the tolerance away is the codec's step, not the
    /// search's miss.
    pub between: Option<(usize, usize)>,
    /// Why it is not within the tolerance, when it is not (in words, for the page and CLI).
    pub note: Option<String>,
}

/// The values of the size-setting parameter, in increasing order of size.
enum Ladder {
    Int { min: i64, step: i64, len: usize },
    Choice(Vec<String>),
}

impl Ladder {
    fn len(&self) -> usize {
        match self {
            Ladder::Int { len, .. } => *len,
            Ladder::Choice(o) => o.len(),
        }
    }
    fn value(&self, i: usize) -> ParamValue {
        match self {
            Ladder::Int { min, step, .. } => ParamValue::Int(min + step * i as i64),
            Ladder::Choice(o) => ParamValue::Choice(o[i].clone()),
        }
    }
}

/// Encodes `media` with `codec` at the setting of its size parameter that comes nearest to
/// `target` (the other parameters from `params`, which is returned with the chosen value in
/// place), with the stream and the report.
pub fn aim(codec: &dyn Codec, params: &Params, media: &Media, target: Target) -> Result<(Params, Vec<u8>, TargetReport)> {
    let target_bytes = target.bytes_for(media)?;
    if codec.lossless() {
        return Err(Error::unsupported(codec.id(), "it is lossless: its size is the content's, there is no setting to aim with"));
    }
    let report = |param: Option<String>, value: Option<ParamValue>, bytes: usize, encodes: usize, between: Option<(usize, usize)>, note: Option<String>| {
        let relative_error = (bytes as f64 - target_bytes) / target_bytes;
        let reached = relative_error.abs() <= TOLERANCE;
        TargetReport { target, target_bytes, param, value, bytes, relative_error, reached, encodes, between, note: if reached { None } else { note } }
    };
    let Some(name) = codec.rate_param() else {
        let bytes = codec.encode(media, params)?;
        let n = bytes.len();
        let note = format!("{} has one rate for this input: {n} bytes", codec.name());
        return Ok((params.clone(), bytes, report(None, None, n, 1, None, Some(note))));
    };
    let spec = codec.params().into_iter().find(|s| s.name == name).ok_or_else(|| Error::Invalid(format!("{}: no parameter {name}", codec.id())))?;
    let ladder = match &spec.kind {
        ParamKind::Int { min, max, step } => {
            let step = (*step).max(1);
            Ladder::Int { min: *min, step, len: ((max - min) / step + 1) as usize }
        }
        ParamKind::Choice { options } => Ladder::Choice(options.clone()),
        _ => return Err(Error::Invalid(format!("{}: {name} is not a setting to search", codec.id()))),
    };
    let mut tried: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut size_at = |i: usize| -> Result<usize> {
        if let Some((_, b)) = tried.iter().find(|(k, _)| *k == i) {
            return Ok(b.len());
        }
        let mut p = params.clone();
        p.insert(name.to_string(), ladder.value(i));
        let b = codec.encode(media, &p)?;
        let n = b.len();
        tried.push((i, b));
        Ok(n)
    };
    let fits = |n: usize| n as f64 <= target_bytes;
    let (mut lo, mut hi) = (0, ladder.len() - 1);
    let mut step = None; // the sizes on either side of the target, when it falls between two settings
    let chosen = if !fits(size_at(lo)?) {
        lo // the least it can do is still above the target
    } else if fits(size_at(hi)?) {
        hi // the most it can do is still below
    } else {
        // size(lo) fits, size(hi) does not.
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fits(size_at(mid)?) { lo = mid } else { hi = mid }
        }
        let (below, above) = (size_at(lo)? as f64, size_at(hi)? as f64);
        step = Some((below as usize, above as usize));
        let under_is_near = (target_bytes - below) / target_bytes <= TOLERANCE;
        if under_is_near || target_bytes - below <= above - target_bytes { lo } else { hi }
    };
    let encodes = tried.len();
    let (_, bytes) = tried.into_iter().find(|(k, _)| *k == chosen).expect("the chosen setting was encoded");
    let value = ladder.value(chosen);
    let mut out = params.clone();
    out.insert(name.to_string(), value.clone());
    let n = bytes.len();
    let note = if chosen == 0 && n as f64 > target_bytes {
        format!("{name} = {value}, its lowest, still gives {n} bytes")
    } else if chosen == ladder.len() - 1 && (n as f64) < target_bytes {
        format!("{name} = {value}, its highest, gives only {n} bytes")
    } else if let Some((below, above)) = step {
        format!("{name} moves in steps: {} gives {below} bytes, {} gives {above}", ladder.value(lo), ladder.value(hi))
    } else {
        format!("{name} = {value} gives {n} bytes")
    };
    Ok((out, bytes, report(Some(name.to_string()), Some(value), n, encodes, step, Some(note))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{ParamSpec, ResolvedParams};
    use crate::{Image, PixelFormat};

    /// A stand-in whose stream is `level * 10` bytes (a real codec's test is in mpq-codecs;
    /// this one pins the search's choices on exact sizes).
    struct Sized;
    impl Codec for Sized {
        fn id(&self) -> &'static str { "sized" }
        fn name(&self) -> &'static str { "Sized" }
        fn modality(&self) -> crate::Modality { crate::Modality::Image }
        fn lossless(&self) -> bool { false }
        fn extension(&self) -> &'static str { "bin" }
        fn mime(&self) -> &'static str { "application/octet-stream" }
        fn params(&self) -> Vec<ParamSpec> { vec![ParamSpec::int("level", "Level", 1, 100, 50, "")] }
        fn rate_param(&self) -> Option<&'static str> { Some("level") }
        fn encode_resolved(&self, _: &Media, p: &ResolvedParams) -> Result<Vec<u8>> { Ok(vec![0; p.int("level") as usize * 10]) }
        fn decode(&self, _: &[u8]) -> Result<Media> { unreachable!() }
    }

    fn image() -> Media {
        Media::Image(Image::new(10, 10, PixelFormat::Gray8, vec![0; 100]).unwrap())
    }

    #[test]
    fn the_search_lands_on_the_setting_that_fits() {
        let (p, bytes, r) = aim(&Sized, &Params::new(), &image(), Target::Bytes(455.0)).unwrap();
        assert_eq!((p["level"].clone(), bytes.len()), (ParamValue::Int(45), 450));
        assert!(r.reached && r.encodes <= 9, "{r:?}");
        // 8 bits per pixel of 100 pixels = 100 bytes = level 10.
        let (_, _, r) = aim(&Sized, &Params::new(), &image(), Target::BitsPerPixel(8.0)).unwrap();
        assert_eq!((r.value, r.bytes, r.relative_error), (Some(ParamValue::Int(10)), 100, 0.0));
    }

    #[test]
    fn out_of_reach_targets_say_so() {
        let (_, _, r) = aim(&Sized, &Params::new(), &image(), Target::Bytes(3.0)).unwrap();
        assert_eq!(r.value, Some(ParamValue::Int(1)));
        assert!(!r.reached && r.note.unwrap().contains("lowest"));
        let (_, _, r) = aim(&Sized, &Params::new(), &image(), Target::Bytes(1e6)).unwrap();
        assert!(!r.reached && r.note.unwrap().contains("highest"));
        assert!(aim(&Sized, &Params::new(), &image(), Target::Bytes(0.0)).is_err());
        assert!(aim(&Sized, &Params::new(), &image(), Target::Kbps(10.0)).is_err());
    }
}
