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
    /// Stored bits per weight of a model's weight matrices (the model lab's unit; scales and
    /// block padding count, as in its table).
    BitsPerWeight(f64),
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
            (Target::BitsPerWeight(_), _) => return Err(Error::Invalid("a target in bits per weight is for a model's weights".into())),
        };
        if !(value.is_finite() && value > 0.0) {
            return Err(Error::Invalid(format!("a target size must be a positive number, not {value}")));
        }
        Ok(bytes)
    }
}

impl Target {
    /// The target in bytes for `weights` weights (the model lab: bytes or bits per weight).
    pub fn bytes_for_weights(&self, weights: usize) -> Result<f64> {
        let (value, bytes) = match *self {
            Target::Bytes(b) => (b, b),
            Target::BitsPerWeight(b) => (b, b * weights as f64 / 8.0),
            _ => return Err(Error::Invalid(format!("a target for weights is in bytes or bits per weight, not {self}"))),
        };
        if !(value.is_finite() && value > 0.0) {
            return Err(Error::Invalid(format!("a target size must be a positive number, not {value}")));
        }
        Ok(bytes)
    }
}

/// The largest target a link or a command may ask for, per unit.
pub const MAX_TARGET_BYTES: f64 = 1e9;
pub const MAX_TARGET_BPP: f64 = 100.0;
pub const MAX_TARGET_KBPS: f64 = 10_000.0;
pub const MAX_TARGET_BPW: f64 = 64.0;

impl Target {
    /// As a link keeps it: `20000B`, `0.5bpp`, `12kbps`, `4.5bpw` (bytes whole, bpp and bits per
    /// weight to 4 decimals, kbit/s to 3).
    pub fn to_link_value(&self) -> String {
        let num = |x: f64, d: usize| {
            let s = format!("{x:.d$}");
            if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
        };
        match *self {
            Target::Bytes(b) => format!("{}B", num(b, 0)),
            Target::BitsPerPixel(b) => format!("{}bpp", num(b, 4)),
            Target::Kbps(k) => format!("{}kbps", num(k, 3)),
            Target::BitsPerWeight(b) => format!("{}bpw", num(b, 4)),
        }
    }

    /// Reads `20000B`, `0.5bpp`, `12kbps`, `4.5bpw` (the reason in words when it is not one).
    pub fn read(s: &str) -> std::result::Result<Target, String> {
        let s = s.trim();
        let (number, unit, make, max): (&str, &str, fn(f64) -> Target, f64) = if let Some(n) = s.strip_suffix("bpp") {
            (n, "bpp", Target::BitsPerPixel, MAX_TARGET_BPP)
        } else if let Some(n) = s.strip_suffix("kbps") {
            (n, "kbps", Target::Kbps, MAX_TARGET_KBPS)
        } else if let Some(n) = s.strip_suffix("bpw") {
            (n, "bpw", Target::BitsPerWeight, MAX_TARGET_BPW)
        } else if let Some(n) = s.strip_suffix('B') {
            (n, "B", Target::Bytes, MAX_TARGET_BYTES)
        } else {
            let shown: String = s.chars().take(24).collect();
            return Err(format!("'{shown}' is not a size: write 20000B, 0.5bpp, 12kbps or 4.5bpw"));
        };
        let x: f64 = number.parse().map_err(|_| format!("'{}' is not a number of {unit}", number.chars().take(24).collect::<String>()))?;
        if !(x.is_finite() && x > 0.0 && x <= max) {
            return Err(format!("a target of {x} {unit} is outside 0..{max}"));
        }
        if unit == "B" && x.fract() != 0.0 {
            return Err(format!("a target in bytes is a whole number, not {x}"));
        }
        Ok(make(x))
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Bytes(b) => write!(f, "{b} bytes"),
            Target::BitsPerPixel(b) => write!(f, "{b} bits per pixel"),
            Target::Kbps(k) => write!(f, "{k} kbit/s"),
            Target::BitsPerWeight(b) => write!(f, "{b} bits per weight"),
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
    let mut search = Aim::new(codec.name(), codec.id(), codec.lossless(), &codec.params(), codec.rate_param(), params, media, target)?;
    while let Some(p) = search.next() {
        let bytes = codec.encode(media, &p)?;
        search.record(bytes);
    }
    Ok(search.finish())
}

/// The search of [`aim`] one encode at a time, for encoders that are not plain calls (the
/// browser's own, which answer asynchronously): ask [`Aim::next`] for the settings to encode,
/// hand the stream to [`Aim::record`], until `next` says `None`; then [`Aim::finish`].
pub struct Aim {
    codec_name: String,
    target: Target,
    target_bytes: f64,
    base: Params,
    /// The size parameter and its values; `None` for a codec with one rate.
    rate: Option<(String, Ladder)>,
    /// Streams encoded so far, by the ladder index they were encoded at.
    tried: Vec<(usize, Vec<u8>)>,
    pending: Option<usize>,
}

enum Decision {
    Need(usize),
    /// The index chosen, and the bisection's last bracket `(lo, hi)` when the target fell
    /// between two adjacent settings.
    Chosen { chosen: usize, bracket: Option<(usize, usize)> },
}

impl Aim {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        codec_name: &str,
        codec_id: &str,
        lossless: bool,
        specs: &[crate::ParamSpec],
        rate_param: Option<&str>,
        params: &Params,
        media: &Media,
        target: Target,
    ) -> Result<Aim> {
        let target_bytes = target.bytes_for(media)?;
        if lossless {
            return Err(Error::unsupported(codec_id, "it is lossless: its size is the content's, there is no setting to aim with"));
        }
        let rate = match rate_param {
            None => None,
            Some(name) => {
                let spec = specs.iter().find(|s| s.name == name).ok_or_else(|| Error::Invalid(format!("{codec_id}: no parameter {name}")))?;
                let ladder = match &spec.kind {
                    ParamKind::Int { min, max, step } => {
                        let step = (*step).max(1);
                        Ladder::Int { min: *min, step, len: ((max - min) / step + 1) as usize }
                    }
                    ParamKind::Choice { options } => Ladder::Choice(options.clone()),
                    _ => return Err(Error::Invalid(format!("{codec_id}: {name} is not a setting to search"))),
                };
                Some((name.to_string(), ladder))
            }
        };
        Ok(Aim { codec_name: codec_name.to_string(), target, target_bytes, base: params.clone(), rate, tried: Vec::new(), pending: None })
    }

    fn size(&self, i: usize) -> Option<usize> {
        self.tried.iter().find(|(k, _)| *k == i).map(|(_, b)| b.len())
    }

    /// The bisection replayed over the sizes known so far: the next index it needs, or its
    /// choice. Keeps the largest setting that fits; when that is more than [`TOLERANCE`] below
    /// the target, the next one up if it is nearer.
    fn decide(&self) -> Decision {
        let Some((_, ladder)) = &self.rate else {
            return if self.tried.is_empty() { Decision::Need(0) } else { Decision::Chosen { chosen: 0, bracket: None } };
        };
        let fits = |n: usize| n as f64 <= self.target_bytes;
        let (mut lo, mut hi) = (0, ladder.len() - 1);
        let Some(at_lo) = self.size(lo) else { return Decision::Need(lo) };
        if !fits(at_lo) {
            return Decision::Chosen { chosen: lo, bracket: None }; // the least it can do is still above
        }
        let Some(at_hi) = self.size(hi) else { return Decision::Need(hi) };
        if fits(at_hi) {
            return Decision::Chosen { chosen: hi, bracket: None }; // the most it can do is still below
        }
        // size(lo) fits, size(hi) does not.
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let Some(at_mid) = self.size(mid) else { return Decision::Need(mid) };
            if fits(at_mid) { lo = mid } else { hi = mid }
        }
        let (below, above) = (self.size(lo).expect("known") as f64, self.size(hi).expect("known") as f64);
        let under_is_near = (self.target_bytes - below) / self.target_bytes <= TOLERANCE;
        let chosen = if under_is_near || self.target_bytes - below <= above - self.target_bytes { lo } else { hi };
        Decision::Chosen { chosen, bracket: Some((lo, hi)) }
    }

    fn params_at(&self, i: usize) -> Params {
        let mut p = self.base.clone();
        if let Some((name, ladder)) = &self.rate {
            p.insert(name.clone(), ladder.value(i));
        }
        p
    }

    /// The settings to encode next, or `None` when the search is over.
    pub fn next(&mut self) -> Option<Params> {
        match self.decide() {
            Decision::Need(i) => {
                self.pending = Some(i);
                Some(self.params_at(i))
            }
            Decision::Chosen { .. } => None,
        }
    }

    /// The stream encoded with the settings [`Aim::next`] gave last.
    pub fn record(&mut self, bytes: Vec<u8>) {
        let i = self.pending.take().expect("record follows next");
        self.tried.push((i, bytes));
    }

    /// The chosen settings, their stream and the report (after `next` said `None`).
    pub fn finish(mut self) -> (Params, Vec<u8>, TargetReport) {
        let Decision::Chosen { chosen, bracket } = self.decide() else { panic!("finish before the search is over") };
        let encodes = self.tried.len();
        let params = self.params_at(chosen);
        let between = bracket.map(|(lo, hi)| (self.size(lo).expect("known"), self.size(hi).expect("known")));
        let pos = self.tried.iter().position(|(k, _)| *k == chosen).expect("the chosen setting was encoded");
        let bytes = self.tried.swap_remove(pos).1;
        let n = bytes.len();
        let relative_error = (n as f64 - self.target_bytes) / self.target_bytes;
        let reached = relative_error.abs() <= TOLERANCE;
        let (param, value, note) = match &self.rate {
            None => (None, None, format!("{} has one rate for this input: {n} bytes", self.codec_name)),
            Some((name, ladder)) => {
                let value = ladder.value(chosen);
                let note = if chosen == 0 && n as f64 > self.target_bytes {
                    format!("{name} = {value}, its lowest, still gives {n} bytes")
                } else if chosen == ladder.len() - 1 && (n as f64) < self.target_bytes {
                    format!("{name} = {value}, its highest, gives only {n} bytes")
                } else if let (Some((lo, hi)), Some((below, above))) = (bracket, between) {
                    format!("{name} moves in steps: {} gives {below} bytes, {} gives {above}", ladder.value(lo), ladder.value(hi))
                } else {
                    format!("{name} = {value} gives {n} bytes")
                };
                (Some(name.clone()), Some(value), note)
            }
        };
        let report = TargetReport {
            target: self.target,
            target_bytes: self.target_bytes,
            param,
            value,
            bytes: n,
            relative_error,
            reached,
            encodes,
            between,
            note: if reached { None } else { Some(note) },
        };
        (params, bytes, report)
    }
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
    fn targets_read_back_what_links_write() {
        for t in [Target::Bytes(20_000.0), Target::BitsPerPixel(0.5), Target::BitsPerPixel(1.2346), Target::Kbps(12.0), Target::Kbps(6.5), Target::BitsPerWeight(4.5)] {
            assert_eq!(Target::read(&t.to_link_value()), Ok(t), "{}", t.to_link_value());
        }
        assert_eq!(Target::BitsPerPixel(0.123456).to_link_value(), "0.1235bpp");
        for bad in ["", "12", "bpp", "-1bpp", "0kbps", "1e99B", "NaNbpp", "2.5B", "101bpp", "65bpw", "0bpw"] {
            assert!(Target::read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_encode_at_a_time_gives_what_aim_gives() {
        let media = image();
        let (p, bytes, r) = aim(&Sized, &Params::new(), &media, Target::Bytes(455.0)).unwrap();
        let mut search = Aim::new("Sized", "sized", false, &Sized.params(), Some("level"), &Params::new(), &media, Target::Bytes(455.0)).unwrap();
        let mut asked = Vec::new();
        while let Some(q) = search.next() {
            asked.push(q["level"].clone());
            search.record(Sized.encode(&media, &q).unwrap());
        }
        assert_eq!(search.finish(), (p, bytes, r.clone()));
        assert_eq!(asked.len(), r.encodes);
        assert_eq!(asked[..2], [ParamValue::Int(1), ParamValue::Int(100)], "both ends first, then halves");
        // A lossless codec is refused before any encode.
        assert!(Aim::new("x", "x", true, &[], None, &Params::new(), &media, Target::Bytes(10.0)).is_err());
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
        assert!(aim(&Sized, &Params::new(), &image(), Target::BitsPerWeight(4.0)).is_err());
        assert_eq!(Target::BitsPerWeight(4.0).bytes_for_weights(1000).unwrap(), 500.0);
        assert_eq!(Target::Bytes(300.0).bytes_for_weights(1000).unwrap(), 300.0);
        assert!(Target::BitsPerPixel(1.0).bytes_for_weights(1000).is_err());
    }
}
