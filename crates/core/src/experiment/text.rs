//! The text lab's experiment: the input and two sides (every text codec's table is always
//! shown, so it is not a setting).
//!
//! Link keys of version 1 (each omitted when at its default):
//!
//! | key | value | default |
//! |---|---|---|
//! | `in` | `gallery:ID` · `paste:BASE64URL` (the pasted text itself, deflated: texts of up to [`MAX_PASTE_BYTES`]) · `file:SHA256:SIZE:NAME` (a dropped file, or a longer paste) | `gallery:doyle-scandal-in-bohemia` |
//! | `l`, `r` | left / right side: `CODEC[:NAME=VALUE,…]` (only the settings given) | `ppmd`, `lm` |
//! | `task` | the classifier panel's task: `lang` · `dna` | `lang` |
//! | `clf` | its method: a text codec (`gzip`, `zstd:level=19`) for NCD, `lm[:CHECKPOINT]`, `ngram[:ORDER]` | `gzip` |
//! | `q` | the text it classifies, as `in=paste:` carries one (deflated base64url, ≤ [`MAX_PASTE_BYTES`]) | none |
//! | `drop` | the lossy panel's strategy: `predictable` · `random` · `regular` | `predictable` |
//! | `keep` | its kept fraction, 0.05 … 1 in steps of 0.05 | `0.7` |
//! | `kt` | the lossy panel's target: `NB`, the `lm` coder's bytes for the kept text; the kept fraction (in steps of 0.01) is searched and `keep` is not used | none |
//!
//! (`task` … `keep` came after the first text links; a link without them opens the panels at
//! these defaults, which is what such a link showed.)

use serde::{Deserialize, Serialize};

use super::image::{FileRef, Input, Side};
use super::{LinkError, Pairs, shorten};
use crate::codec::Params;
use crate::target::Target;

/// The longest pasted text a link carries itself (longer ones are named by hash, as files).
pub const MAX_PASTE_BYTES: usize = 4096;

/// What the text lab reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TextInput {
    /// A bundled gallery text, by id.
    Gallery { id: String },
    /// A short pasted text, carried by the link.
    Paste { text: String },
    /// A dropped file (or a long paste), named by its hash.
    File(FileRef),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextExperiment {
    pub input: TextInput,
    /// Left, then right.
    pub sides: [Side; 2],
    #[serde(default)]
    pub classify: ClassifyPanel,
    #[serde(default)]
    pub lossy: LossyPanel,
}

/// The classifier panel: a task's bundled set, a method, and the text to classify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifyPanel {
    pub task: String,
    /// A method spec (`mpq_models::text_classify::Method::parse` reads it).
    pub method: String,
    /// Empty: nothing to classify yet.
    pub query: String,
}

impl Default for ClassifyPanel {
    fn default() -> Self {
        ClassifyPanel { task: "lang".into(), method: "gzip".into(), query: String::new() }
    }
}

/// The lossy panel: which words go first, and the fraction of the text kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossyPanel {
    /// `predictable`, `random` or `regular` (`mpq_metrics::lossy_text::Strategy`).
    pub strategy: String,
    /// In twentieths (14 = 0.7), so that a link's value is exact.
    pub keep_twentieths: u8,
    /// "Aim for a size": the `lm` coder's bytes for the kept text (only [`Target::Bytes`]);
    /// while set, the kept fraction is searched (`mpq_models::lossy_text::aim_view`).
    #[serde(default)]
    pub target: Option<Target>,
}

impl Default for LossyPanel {
    fn default() -> Self {
        LossyPanel { strategy: "predictable".into(), keep_twentieths: 14, target: None }
    }
}

impl LossyPanel {
    pub fn fraction(&self) -> f64 {
        self.keep_twentieths as f64 / 20.0
    }
}

/// The classifier panel's tasks and the lossy panel's strategies (checked on reading a link).
pub const TASKS: [&str; 2] = ["lang", "dna"];
pub const STRATEGIES: [&str; 3] = ["predictable", "random", "regular"];

impl Default for TextExperiment {
    /// Version 1's defaults (see the module docs): changing one changes what old links mean.
    fn default() -> Self {
        TextExperiment {
            input: TextInput::Gallery { id: "doyle-scandal-in-bohemia".into() },
            sides: [Side::new("ppmd", Params::new()), Side::new("lm", Params::new())],
            classify: ClassifyPanel::default(),
            lossy: LossyPanel::default(),
        }
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// A short text as a link carries it: deflated, base64url.
fn pack(text: &str) -> String {
    use base64::Engine as _;
    b64().encode(miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 10))
}

/// [`pack`] undone, bounded by [`MAX_PASTE_BYTES`]; errors name `key`.
fn unpack(key: &str, packed: &str) -> Result<String, LinkError> {
    use base64::Engine as _;
    let bad = |reason: String| LinkError::bad(key, reason);
    let packed = b64().decode(packed.trim_end_matches('=')).map_err(|_| bad("a pasted text is base64url".into()))?;
    let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_PASTE_BYTES).map_err(|e| match e.status {
        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => bad(format!("a pasted text in a link is at most {MAX_PASTE_BYTES} bytes")),
        _ => bad("the pasted text is damaged (not deflate data)".into()),
    })?;
    String::from_utf8(bytes).map_err(|_| bad("the pasted text is not UTF-8".into()))
}

impl TextInput {
    pub fn to_link_value(&self) -> String {
        match self {
            TextInput::Gallery { id } => format!("gallery:{id}"),
            TextInput::Paste { text } => format!("paste:{}", pack(text)),
            TextInput::File(f) => Input::File(f.clone()).to_link_value(),
        }
    }

    fn read(s: &str) -> Result<TextInput, LinkError> {
        let bad = |reason: String| LinkError::bad("in", reason);
        if let Some(packed) = s.strip_prefix("paste:") {
            return Ok(TextInput::Paste { text: unpack("in", packed)? });
        }
        match Input::read(s)? {
            Input::Gallery { id } => Ok(TextInput::Gallery { id }),
            Input::File(f) => Ok(TextInput::File(f)),
            Input::Item { .. } => Err(bad(format!("the text lab has no test items ('{}'); it reads gallery:…, paste:… or file:…", shorten(s)))),
        }
    }
}

impl TextExperiment {
    pub(super) fn normalize(&mut self) {
        super::image::sides::normalize(&mut self.sides);
    }

    pub(super) fn write(&self, out: &mut Pairs) {
        let d = TextExperiment::default();
        if self.input != d.input {
            out.push("in", self.input.to_link_value());
        }
        super::image::sides::write(&self.sides, &d.sides, out);
        if self.classify.task != d.classify.task {
            out.push("task", self.classify.task.clone());
        }
        if self.classify.method != d.classify.method {
            out.push("clf", self.classify.method.clone());
        }
        if !self.classify.query.is_empty() {
            out.push("q", pack(&self.classify.query));
        }
        if self.lossy.strategy != d.lossy.strategy {
            out.push("drop", self.lossy.strategy.clone());
        }
        if self.lossy.keep_twentieths != d.lossy.keep_twentieths {
            out.push("keep", format!("{}", self.lossy.fraction()));
        }
        if let Some(t) = &self.lossy.target {
            out.push("kt", t.to_link_value());
        }
    }

    /// Version 1's keys over version 1's defaults.
    pub(super) fn read_v1(p: &mut Pairs) -> Result<TextExperiment, LinkError> {
        let mut e = TextExperiment::default();
        if let Some(v) = p.take("in") {
            e.input = TextInput::read(&v)?;
        }
        super::image::sides::read(p, &mut e.sides, false)?;
        if let Some(v) = p.take("task") {
            if !TASKS.contains(&v.as_str()) {
                return Err(LinkError::bad("task", format!("'{}' is not a task (lang, dna)", shorten(&v))));
            }
            e.classify.task = v;
        }
        if let Some(v) = p.take("clf") {
            // The method itself is checked where the codecs are known; here only its shape.
            let ok = !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:=,".contains(&b));
            if !ok {
                return Err(LinkError::bad("clf", format!("'{}' is not a method (gzip, zstd:level=19, lm, ngram:3)", shorten(&v))));
            }
            e.classify.method = v;
        }
        if let Some(v) = p.take("q") {
            e.classify.query = unpack("q", &v)?;
        }
        if let Some(v) = p.take("drop") {
            if !STRATEGIES.contains(&v.as_str()) {
                return Err(LinkError::bad("drop", format!("'{}' is not a strategy (predictable, random, regular)", shorten(&v))));
            }
            e.lossy.strategy = v;
        }
        if let Some(v) = p.take("keep") {
            let twentieths = v.parse::<f64>().ok().map(|f| f * 20.0).filter(|t| (1.0..=20.0).contains(t) && (t - t.round()).abs() < 1e-6);
            let Some(t) = twentieths else {
                return Err(LinkError::bad("keep", format!("'{}' is not a kept fraction (0.05 … 1 in steps of 0.05)", shorten(&v))));
            };
            e.lossy.keep_twentieths = t.round() as u8;
        }
        if let Some(v) = p.take("kt") {
            match Target::read(&v).map_err(|r| LinkError::bad("kt", r))? {
                t @ Target::Bytes(_) => e.lossy.target = Some(t),
                _ => return Err(LinkError::bad("kt", "the lossy panel aims for bytes of the lm coder (write 300B)")),
            }
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Experiment;
    use super::*;
    use crate::codec::ParamValue;

    #[test]
    fn text_links_round_trip() {
        let mut e = TextExperiment::default();
        assert_eq!(Experiment::Text(e.clone()).to_fragment(), "#/text");
        e.input = TextInput::Paste { text: "Ünïcödé paste, with & and = and # in it.\n".repeat(20) };
        e.sides[0] = Side::new("xz", Params::from([("level".into(), ParamValue::Int(9))]));
        let f = Experiment::Text(e.clone()).to_fragment();
        assert!(f.len() < 400, "{f}");
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Text(e.clone()));
        e.input = TextInput::File(FileRef { sha256: "ab".repeat(32), size: 150_000, name: "my book.txt".into() });
        let f = Experiment::Text(e.clone()).to_fragment();
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Text(e));
        let g = "#/text?v=1&in=gallery:austen-persuasion&r=lm:model=gru256-e1";
        let Experiment::Text(t) = Experiment::parse(g).unwrap() else { panic!() };
        assert_eq!(t.input, TextInput::Gallery { id: "austen-persuasion".into() });
        assert_eq!(t.sides[1].params["model"], ParamValue::Choice("gru256-e1".into()));
    }

    #[test]
    fn the_panels_travel_in_links() {
        let mut e = TextExperiment::default();
        e.classify = ClassifyPanel { task: "dna".into(), method: "zstd:level=19".into(), query: "ACGT tüt\n".into() };
        e.lossy = LossyPanel { strategy: "random".into(), keep_twentieths: 9, target: None };
        let f = Experiment::Text(e.clone()).to_fragment();
        assert!(f.contains("keep=0.45"), "{f}");
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Text(e.clone()));
        e.lossy.target = Some(Target::Bytes(300.0));
        let f = Experiment::Text(e.clone()).to_fragment();
        assert!(f.ends_with("&kt=300B"), "{f}");
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Text(e));
        // A link from before the panels opens them at their defaults.
        let Experiment::Text(t) = Experiment::parse("#/text?v=1&l=xz").unwrap() else { panic!() };
        assert_eq!((t.classify, t.lossy), (ClassifyPanel::default(), LossyPanel::default()));
        for (link, want) in [
            ("#/text?v=1&task=dns", "not a task"),
            ("#/text?v=1&clf=gz<ip", "not a method"),
            ("#/text?v=1&drop=most", "not a strategy"),
            ("#/text?v=1&keep=0.33", "steps of 0.05"),
            ("#/text?v=1&keep=0", "steps of 0.05"),
            ("#/text?v=1&keep=NaN", "steps of 0.05"),
            ("#/text?v=1&kt=0.5bpp", "aims for bytes"),
            ("#/text?v=1&kt=-3B", "outside"),
            ("#/text?v=1&q=!!", "base64url"),
        ] {
            let err = Experiment::parse(link).expect_err(link).to_string();
            assert!(err.contains(want), "{link}: {err}");
        }
    }

    #[test]
    fn bad_text_links_name_their_key() {
        use base64::Engine as _;
        let bomb = b64().encode(miniz_oxide::deflate::compress_to_vec(&vec![b'a'; MAX_PASTE_BYTES + 1], 10));
        let not_utf8 = b64().encode(miniz_oxide::deflate::compress_to_vec(&[0xff, 0xfe], 10));
        for (link, want) in [
            (format!("#/text?v=1&in=paste:{bomb}"), "at most 4096 bytes"),
            (format!("#/text?v=1&in=paste:{not_utf8}"), "not UTF-8"),
            ("#/text?v=1&in=paste:!!".into(), "base64url"),
            ("#/text?v=1&in=paste:AAAA".into(), "damaged"),
            ("#/text?v=1&in=item:fashion-mnist:3".into(), "no test items"),
            ("#/text?v=1&sweep=x".into(), "unknown setting 'sweep'"),
            // Lossless codecs have no size to aim at.
            ("#/text?v=1&lt=2000B".into(), "unknown setting 'lt'"),
        ] {
            let err = Experiment::parse(&link).expect_err(&link).to_string();
            assert!(err.contains(want), "{link}: {err}");
        }
    }
}
