//! The experiment: everything that defines what a lab shows, and its share link.
//!
//! The page renders from an [`Experiment`] and writes it to the URL fragment on every change;
//! opening the link rebuilds the same experiment (and `mpqlab run LINK` reproduces it natively).
//! It never holds media: a user's own file is named by its SHA-256, size and name.
//!
//! # The link format
//!
//! `#/LAB` opens a lab with its defaults; `#/LAB?v=1&key=value&…` is a versioned experiment,
//! readable and hand-editable, that lists only the settings that differ from that version's
//! defaults (see [`image`], [`model`], [`audio`] and [`text`] for each lab's keys). Where it is shorter, the same
//! `key=value` text is deflated and written as `#/LAB?v=1&z=BASE64URL`: one parser reads both.
//!
//! **Compatibility.** Every released version keeps opening: `v=1` links are parsed with
//! version 1's keys *and defaults* forever, and migrate forward to the current structs. A
//! change of keys, meaning or defaults therefore needs a new [`VERSION`] and a migration; the
//! committed links in `tests/links/` (with the experiment each must give) catch a change that
//! forgot one.
//!
//! **Hostile links.** A link is input from a stranger: it is bounded ([`MAX_LINK_CHARS`], and
//! [`MAX_INFLATED_BYTES`] after inflating), every key and value is checked, unknown keys are
//! refused, and every failure is a [`LinkError`] whose message quotes at most a short,
//! shortened piece of the input (callers show it as text, never as HTML).

pub mod audio;
pub mod image;
pub mod model;
pub mod text;

use serde::{Deserialize, Serialize};

pub use audio::AudioExperiment;
pub use image::ImageExperiment;
pub use model::ModelExperiment;
pub use text::TextExperiment;

/// The link version this build writes (and the newest it reads).
pub const VERSION: u32 = 1;
/// Longest link (or fragment) accepted, in characters.
pub const MAX_LINK_CHARS: usize = 8192;
/// Most bytes a compressed (`z=`) link may inflate to.
pub const MAX_INFLATED_BYTES: usize = 8192;

/// What one lab shows. One variant per lab; the lab's id is its fragment's first segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "lab", rename_all = "lowercase")]
pub enum Experiment {
    Image(ImageExperiment),
    Model(ModelExperiment),
    Audio(AudioExperiment),
    Text(TextExperiment),
}

/// Why a link cannot be opened. Messages are for people; each quotes the input shortened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinkError {
    #[error("the link is {len} characters long; links are at most {max}")]
    TooLong { len: usize, max: usize },
    #[error("this is not an mpqlab link (expected #/image?…, #/model?…, #/audio?… or #/text?…)")]
    NotALink,
    #[error("there is no lab called '{0}' (the labs are: {1})")]
    UnknownLab(String, String),
    #[error("the link has no version (v=…)")]
    NoVersion,
    #[error("'{0}' is not a link version")]
    BadVersion(String),
    #[error("this link was made by a newer mpqlab (link version {0}); this page reads versions 1 to {VERSION}")]
    NewerVersion(u32),
    #[error("the link has an unknown setting '{0}'")]
    UnknownKey(String),
    #[error("the setting '{0}' appears twice")]
    Duplicate(String),
    #[error("'{0}' is not key=value")]
    NotAPair(String),
    #[error("the setting {key}: {reason}")]
    BadValue { key: String, reason: String },
    #[error("the compressed part of the link is damaged ({0})")]
    Compressed(String),
}

impl LinkError {
    pub(crate) fn bad(key: &str, reason: impl Into<String>) -> Self {
        LinkError::BadValue { key: key.to_string(), reason: reason.into() }
    }
}

/// The ids of the labs a link can name, in the page's order.
pub const LABS: [&str; 4] = ["image", "model", "audio", "text"];

impl Experiment {
    /// The lab this experiment belongs to (`image`, `model`, `audio`).
    pub fn lab(&self) -> &'static str {
        match self {
            Experiment::Image(_) => "image",
            Experiment::Model(_) => "model",
            Experiment::Audio(_) => "audio",
            Experiment::Text(_) => "text",
        }
    }

    /// A lab with its defaults, or `None` for an unknown lab id.
    pub fn default_for(lab: &str) -> Option<Experiment> {
        match lab {
            "image" => Some(Experiment::Image(ImageExperiment::default())),
            "model" => Some(Experiment::Model(ModelExperiment::default())),
            "audio" => Some(Experiment::Audio(AudioExperiment::default())),
            "text" => Some(Experiment::Text(TextExperiment::default())),
            _ => None,
        }
    }

    /// The same experiment as the page shows it: view rounded to what a link keeps, parameter
    /// values typed as a link reads them. Parsing a fragment always gives a normalized one.
    pub fn normalized(mut self) -> Experiment {
        match &mut self {
            Experiment::Image(e) => e.normalize(),
            Experiment::Model(e) => e.normalize(),
            Experiment::Audio(e) => e.normalize(),
            Experiment::Text(e) => e.normalize(),
        }
        self
    }

    /// The URL fragment, `#/lab?v=1&…` (or `#/lab` when everything is at its default), in
    /// whichever of the readable and the compressed forms is shorter.
    pub fn to_fragment(&self) -> String {
        let mut pairs = Pairs::default();
        match self {
            Experiment::Image(e) => e.write(&mut pairs),
            Experiment::Model(e) => e.write(&mut pairs),
            Experiment::Audio(e) => e.write(&mut pairs),
            Experiment::Text(e) => e.write(&mut pairs),
        }
        let lab = self.lab();
        if pairs.0.is_empty() {
            return format!("#/{lab}");
        }
        let readable = pairs.to_query();
        let mut out = format!("#/{lab}?v={VERSION}&{readable}");
        // Short links gain nothing from deflate; long ones (sweeps, file hashes) may.
        if readable.len() > 120 {
            let packed = compress(readable.as_bytes());
            if packed.len() + 2 < readable.len() {
                out = format!("#/{lab}?v={VERSION}&z={packed}");
            }
        }
        out
    }

    /// Reads a link: a whole URL, a fragment (`#/image?v=1&…`) or the fragment without `#`.
    pub fn parse(link: &str) -> Result<Experiment, LinkError> {
        let len = link.chars().count();
        if len > MAX_LINK_CHARS {
            return Err(LinkError::TooLong { len, max: MAX_LINK_CHARS });
        }
        let fragment = match link.split_once('#') {
            Some((_, f)) => f,
            None => link,
        };
        let route = fragment.strip_prefix('/').ok_or(LinkError::NotALink)?;
        let (lab, query) = match route.split_once('?') {
            Some((lab, q)) => (lab, Some(q)),
            None => (route, None),
        };
        let lab = lab.trim_end_matches('/');
        let Some(default) = Experiment::default_for(lab) else {
            return Err(LinkError::UnknownLab(shorten(&percent_decode_lossy(lab)), LABS.join(", ")));
        };
        let Some(query) = query.filter(|q| !q.is_empty()) else {
            return Ok(default);
        };
        let mut pairs = Pairs::parse(query)?;
        let version = match pairs.take("v") {
            None => return Err(LinkError::NoVersion),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=VERSION).contains(&n) => n,
                Ok(n) if n > VERSION => return Err(LinkError::NewerVersion(n)),
                _ => return Err(LinkError::BadVersion(shorten(&v))),
            },
        };
        if let Some(z) = pairs.take("z") {
            if let Some(other) = pairs.0.first() {
                return Err(LinkError::bad("z", format!("a compressed link has no other settings (found '{}')", shorten(&other.0))));
            }
            let text = decompress(&z)?;
            pairs = Pairs::parse(&text)?;
            if pairs.0.iter().any(|(k, _)| k == "v" || k == "z") {
                return Err(LinkError::Compressed("it names its version again".into()));
            }
        }
        // Version 1 is the only one so far: its readers build the current structs directly.
        // A version 2 would read v1 links here and migrate them.
        debug_assert_eq!(version, 1);
        let exp = match default {
            Experiment::Image(_) => Experiment::Image(ImageExperiment::read_v1(&mut pairs)?),
            Experiment::Model(_) => Experiment::Model(ModelExperiment::read_v1(&mut pairs)?),
            Experiment::Audio(_) => Experiment::Audio(AudioExperiment::read_v1(&mut pairs)?),
            Experiment::Text(_) => Experiment::Text(TextExperiment::read_v1(&mut pairs)?),
        };
        if let Some((key, _)) = pairs.0.first() {
            return Err(LinkError::UnknownKey(shorten(key)));
        }
        Ok(exp.normalized())
    }
}

/// The `key=value` pairs of a link, in order, percent-decoded.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Pairs(pub(crate) Vec<(String, String)>);

impl Pairs {
    fn parse(query: &str) -> Result<Pairs, LinkError> {
        let mut out: Vec<(String, String)> = Vec::new();
        for item in query.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = item.split_once('=').ok_or_else(|| LinkError::NotAPair(shorten(&percent_decode_lossy(item))))?;
            let key = percent_decode(k).map_err(|r| LinkError::bad(&shorten(k), r))?;
            if !crate::sweep::is_name(&key) || key.len() > 16 {
                return Err(LinkError::UnknownKey(shorten(&key)));
            }
            let value = percent_decode(v).map_err(|r| LinkError::bad(&key, r))?;
            if out.iter().any(|(k, _)| *k == key) {
                return Err(LinkError::Duplicate(key));
            }
            out.push((key, value));
        }
        Ok(Pairs(out))
    }

    /// Removes and returns the value of `key`.
    pub(crate) fn take(&mut self, key: &str) -> Option<String> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(i).1)
    }

    pub(crate) fn push(&mut self, key: &str, value: impl Into<String>) {
        self.0.push((key.to_string(), value.into()));
    }

    fn to_query(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect::<Vec<_>>().join("&")
    }
}

/// Escapes what would end or confuse a fragment's value (`%`, `&`, `#`, spaces, quotes and
/// angle brackets, controls, non-ASCII as UTF-8). `:`, `,`, `;`, `=`, `.` and `@` stay readable:
/// values are split into their parts only after decoding, and a free-text part (a file name)
/// is always the last one.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~:,;=@!$'()*/?+".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

pub(crate) fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let (Some(&h), Some(&l)) = (bytes.get(i + 1), bytes.get(i + 2)) else {
                return Err("it ends in a broken %-escape".into());
            };
            let (Some(h), Some(l)) = (hex_digit(h), hex_digit(l)) else {
                return Err("it has a broken %-escape".into());
            };
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).map_err(|_| "it is not UTF-8 text".to_string())?;
    if text.chars().any(char::is_control) {
        return Err("it contains control characters".into());
    }
    Ok(text)
}

fn percent_decode_lossy(s: &str) -> String {
    percent_decode(s).unwrap_or_else(|_| s.to_string())
}

/// At most 40 characters of a piece of a link, for messages.
pub(crate) fn shorten(s: &str) -> String {
    const KEEP: usize = 40;
    let clean: String = s.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect();
    if clean.chars().count() <= KEEP { clean } else { format!("{}…", clean.chars().take(KEEP).collect::<String>()) }
}

fn compress(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let packed = miniz_oxide::deflate::compress_to_vec(bytes, 10);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed)
}

fn decompress(text: &str) -> Result<String, LinkError> {
    use base64::Engine as _;
    let packed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| LinkError::Compressed("not base64url".into()))?;
    let inflated = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_INFLATED_BYTES).map_err(|e| {
        match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                LinkError::Compressed(format!("it inflates to more than {MAX_INFLATED_BYTES} bytes"))
            }
            _ => LinkError::Compressed("not deflate data".into()),
        }
    })?;
    String::from_utf8(inflated).map_err(|_| LinkError::Compressed("not UTF-8 text".into()))
}

/// `x` rounded to `decimals` places, written without trailing zeros (`34.5`, `2`, `-0.3`).
pub(crate) fn fmt_num(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if s == "-0" { "0".into() } else { s }
}

/// `x` rounded to `decimals` places (the precision a link keeps).
pub(crate) fn round_to(x: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    let r = (x * k).round() / k;
    if r == 0.0 { 0.0 } else { r }
}

/// A finite number within `min..=max`, for `key`.
pub(crate) fn parse_num(key: &str, s: &str, min: f64, max: f64) -> Result<f64, LinkError> {
    let x: f64 = s.trim().parse().map_err(|_| LinkError::bad(key, format!("'{}' is not a number", shorten(s))))?;
    if !x.is_finite() || x < min || x > max {
        return Err(LinkError::bad(key, format!("{} is outside {min}..{max}", shorten(s))));
    }
    Ok(x)
}

/// A whole number within `min..=max`, for `key`.
pub(crate) fn parse_int(key: &str, s: &str, min: u32, max: u32) -> Result<u32, LinkError> {
    let n: u32 = s.trim().parse().map_err(|_| LinkError::bad(key, format!("'{}' is not a whole number", shorten(s))))?;
    if n < min || n > max {
        return Err(LinkError::bad(key, format!("{n} is outside {min}..{max}")));
    }
    Ok(n)
}

/// An id (codec, model, data set, gallery photo): letters, digits, `-`, `_`, at most 40.
pub(crate) fn parse_id(key: &str, s: &str, what: &str) -> Result<String, LinkError> {
    if s.len() > 40 || !crate::sweep::is_name(s) {
        return Err(LinkError::bad(key, format!("'{}' is not a {what} id", shorten(s))));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_bare_route() {
        for lab in LABS {
            let e = Experiment::default_for(lab).unwrap();
            assert_eq!(e.to_fragment(), format!("#/{lab}"));
            assert_eq!(Experiment::parse(&format!("#/{lab}")).unwrap(), e);
            assert_eq!(Experiment::parse(&format!("https://example.org/mpqlab/#/{lab}?v=1")).unwrap(), e);
            assert_eq!(Experiment::parse(&format!("/{lab}/")).unwrap(), e);
        }
    }

    #[test]
    fn hostile_links_are_refused_with_a_reason() {
        let cases: &[(&str, &str)] = &[
            ("", "not an mpqlab link"),
            ("#image", "not an mpqlab link"),
            ("#/audio3?v=1", "no lab called 'audio3'"),
            ("#/%3Cimg%20src=x%20onerror=alert(1)%3E", "no lab called '<img src=x onerror=alert(1)>'"),
            ("#/image?l=jpeg", "no version"),
            ("#/image?v=7&l=jpeg", "newer mpqlab (link version 7)"),
            ("#/image?v=x", "'x' is not a link version"),
            ("#/image?v=0", "'0' is not a link version"),
            ("#/image?v=1&bogus=1", "unknown setting 'bogus'"),
            ("#/image?v=1&l=jpeg&l=png", "'l' appears twice"),
            ("#/image?v=1&l", "'l' is not key=value"),
            ("#/image?v=1&l=jp%2", "broken %-escape"),
            ("#/image?v=1&l=jp%FFeg", "not UTF-8"),
            ("#/image?v=1&z=!!!", "damaged (not base64url)"),
            ("#/image?v=1&z=AAAA", "damaged (not deflate data)"),
            ("#/image?v=1&z=AAAA&l=jpeg", "no other settings"),
        ];
        for (link, want) in cases {
            let err = Experiment::parse(link).expect_err(link).to_string();
            assert!(err.contains(want), "{link}: {err}");
        }
        let long = format!("#/image?v=1&l={}", "a".repeat(100_000));
        assert!(matches!(Experiment::parse(&long), Err(LinkError::TooLong { len: 100_014, .. })));
    }

    #[test]
    fn a_deflate_bomb_is_bounded() {
        let huge = vec![b'a'; 1 << 20];
        use base64::Engine as _;
        let z = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(&huge, 10));
        assert!(z.len() < MAX_LINK_CHARS, "{}", z.len());
        let err = Experiment::parse(&format!("#/image?v=1&z={z}")).unwrap_err().to_string();
        assert!(err.contains("more than 8192 bytes"), "{err}");
    }

    #[test]
    fn percent_coding_round_trips() {
        for s in ["plain", "a b&c#d%e", "naïve 📷.png", "<img src=x onerror=alert(1)>", "quality=10,subsampling=4:2:0"] {
            assert_eq!(percent_decode(&percent_encode(s)).unwrap(), s);
            assert!(!percent_encode(s).contains(['&', '#', ' ', '<', '>', '"']));
        }
        assert!(percent_decode("a%0Ab").is_err(), "control characters are refused");
        assert_eq!(fmt_num(34.50, 1), "34.5");
        assert_eq!(fmt_num(2.0, 3), "2");
        assert_eq!(fmt_num(-0.0001, 1), "0");
    }
}
