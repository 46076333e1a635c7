//! The audio lab's experiment: input, two sides, the sweep. The keyword model (`kws-cnn`) is
//! the lab's only listener, so it is not a setting.
//!
//! Link keys of version 1 (each omitted when at its default):
//!
//! | key | value | default |
//! |---|---|---|
//! | `in` | `gallery:ID` · `item:kws-synth:INDEX` (a window of the keyword test subset) · `file:SHA256:SIZE:NAME` | `gallery:kws-yes` |
//! | `l`, `r` | left / right side: `CODEC[:NAME=VALUE,…]` (only the settings given) | `opus:bitrate=12000`, `mdct:bitrate=12000` |
//! | `lt`, `rt` | left / right side's target size: `20000B` · `12kbps` (sets the codec's size parameter) | none |
//! | `sweep` | ticked sweep specs, `;`-separated: `CODEC`, `CODEC:NAME=VALUE,…` (one point) or a range (`opus:bitrate=6000..32000:6`) | [`DEFAULT_SWEEP`] |
//! | `items` | test windows per sweep point | `144` |
//! | `run` | `sweep`: the sweep was run (opening the link runs it again) | not run |
//!
//! A recording made in the page is a file like any other (`file:…:recording.wav`): the link
//! names it, and whoever opens the link is asked for it.

use serde::{Deserialize, Serialize};

use super::image::{Input, Side, param_from_text};
use super::{LinkError, Pairs, parse_int, shorten};
use crate::codec::{ParamValue, Params};
use crate::sweep::CodecSweep;

/// The default audio sweep (version 1), also `mpqlab sweep --model kws-cnn`'s: Opus and our
/// MDCT codec from 6 to 32 kbit/s, and the telephone codecs (one point each).
pub const DEFAULT_SWEEP: [&str; 4] = [
    "opus:bitrate=6000,8000,12000,16000,24000,32000",
    "mdct:bitrate=6000,8000,12000,16000,24000,32000",
    "ima-adpcm",
    "mulaw",
];

/// Most test windows a sweep point may use (the committed subset has 144).
pub const MAX_SWEEP_ITEMS: u32 = 1000;
/// Most codecs one sweep may list.
pub const MAX_SWEEP_CODECS: usize = 16;
/// The keyword test subset's id in `item:` inputs.
pub const KWS_DATASET: &str = "kws-synth";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioExperiment {
    pub input: Input,
    /// Left, then right.
    pub sides: [Side; 2],
    pub sweep: AudioSweepSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioSweepSettings {
    /// The ticked codecs with their settings or ranges, in the panel's order.
    pub specs: Vec<String>,
    pub items: u32,
    /// The sweep was run: opening the link runs it again.
    pub run: bool,
}

impl Default for AudioExperiment {
    /// Version 1's defaults (see the module docs): changing one changes what old links mean.
    fn default() -> Self {
        let bitrate = |b| Params::from([("bitrate".to_string(), ParamValue::Int(b))]);
        AudioExperiment {
            input: Input::Gallery { id: "kws-yes".into() },
            sides: [Side::new("opus", bitrate(12000)), Side::new("mdct", bitrate(12000))],
            sweep: AudioSweepSettings { specs: DEFAULT_SWEEP.iter().map(|s| s.to_string()).collect(), items: 144, run: false },
        }
    }
}

/// What one audio sweep spec is, by its shape (the codec's schema checks the values later).
#[derive(Debug, Clone, PartialEq)]
pub enum AudioSweepSpec {
    /// `mulaw`: the codec with its defaults, one point.
    Defaults(String),
    /// `bandlimit:rate=8000`: fixed settings, one point.
    Fixed(String, Params),
    /// `opus:bitrate=6000..32000:6`: one parameter over a range.
    Range(CodecSweep),
}

impl AudioSweepSpec {
    /// Reads one spec. A spec whose settings all have one value and no range is `Fixed`
    /// (band-limiting's rate is a choice, which a range cannot sweep).
    pub fn parse(s: &str) -> crate::Result<AudioSweepSpec> {
        let s = s.trim();
        let bad = |why: String| crate::Error::Invalid(format!("sweep '{}': {why}", shorten(s)));
        let Some((codec, rest)) = s.split_once(':') else {
            if s.is_empty() || s.len() > 40 || !crate::sweep::is_name(s) {
                return Err(bad("not a codec id".into()));
            }
            return Ok(AudioSweepSpec::Defaults(s.to_string()));
        };
        let single = !rest.is_empty()
            && !rest.contains("..")
            && rest.split(',').all(|kv| kv.split_once('=').is_some_and(|(k, v)| !k.is_empty() && !v.is_empty() && !v.contains(':')));
        if single {
            if codec.is_empty() || codec.len() > 40 || !crate::sweep::is_name(codec) {
                return Err(bad("not a codec id".into()));
            }
            let params = crate::codec::parse_param_pairs(rest.split(','))?;
            // One value per setting; `opus:bitrate=6000,8000` is a list of values, a range.
            let names: Vec<&str> = rest.split(',').map(|kv| kv.split('=').next().unwrap_or("")).collect();
            if names.iter().all(|n| !n.is_empty()) && names.len() == params.len() {
                let params = params.into_iter().map(|(k, v)| (k, param_from_text(&v.to_string()))).collect();
                return Ok(AudioSweepSpec::Fixed(codec.to_string(), params));
            }
        }
        Ok(AudioSweepSpec::Range(CodecSweep::parse(s)?))
    }

    pub fn codec(&self) -> &str {
        match self {
            AudioSweepSpec::Defaults(c) | AudioSweepSpec::Fixed(c, _) => c,
            AudioSweepSpec::Range(s) => &s.codec,
        }
    }
}

impl AudioExperiment {
    pub(super) fn normalize(&mut self) {
        super::image::sides::normalize(&mut self.sides);
        for s in &mut self.sweep.specs {
            *s = s.trim().to_string();
        }
    }

    pub(super) fn write(&self, out: &mut Pairs) {
        let d = AudioExperiment::default();
        if self.input != d.input {
            out.push("in", self.input.to_link_value());
        }
        super::image::sides::write(&self.sides, &d.sides, out);
        if self.sweep.specs != d.sweep.specs {
            out.push("sweep", self.sweep.specs.join(";"));
        }
        if self.sweep.items != d.sweep.items {
            out.push("items", self.sweep.items.to_string());
        }
        if self.sweep.run {
            out.push("run", "sweep");
        }
    }

    /// Version 1's keys over version 1's defaults.
    pub(super) fn read_v1(p: &mut Pairs) -> Result<AudioExperiment, LinkError> {
        let mut e = AudioExperiment::default();
        if let Some(v) = p.take("in") {
            e.input = Input::read(&v)?;
            if let Input::Item { dataset, .. } = &e.input {
                if dataset != KWS_DATASET {
                    return Err(LinkError::bad("in", format!("the audio lab's test items are {KWS_DATASET}, not '{}'", shorten(dataset))));
                }
            }
        }
        super::image::sides::read(p, &mut e.sides, true)?;
        if let Some(v) = p.take("sweep") {
            let specs: Vec<String> = v.split(';').filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_string()).collect();
            if specs.len() > MAX_SWEEP_CODECS {
                return Err(LinkError::bad("sweep", format!("at most {MAX_SWEEP_CODECS} codecs")));
            }
            for s in &specs {
                AudioSweepSpec::parse(s).map_err(|e| LinkError::bad("sweep", e.to_string()))?;
            }
            e.sweep.specs = specs;
        }
        if let Some(v) = p.take("items") {
            e.sweep.items = parse_int("items", &v, 1, MAX_SWEEP_ITEMS)?;
        }
        if let Some(v) = p.take("run") {
            match v.as_str() {
                "sweep" => e.sweep.run = true,
                other => return Err(LinkError::bad("run", format!("'{}' is not sweep", shorten(other)))),
            }
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Experiment;
    use super::super::image::FileRef;
    use super::*;

    #[test]
    fn audio_links_round_trip() {
        let mut e = AudioExperiment::default();
        assert_eq!(Experiment::Audio(e.clone()).to_fragment(), "#/audio");
        e.input = Input::Item { dataset: KWS_DATASET.into(), index: 17 };
        e.sides[1] = Side::new("mulaw", Params::new());
        e.sweep.specs = vec!["opus:bitrate=6000..32000:4".into(), "bandlimit:rate=8000".into()];
        e.sweep.items = 24;
        e.sweep.run = true;
        let f = Experiment::Audio(e.clone()).to_fragment();
        assert_eq!(f, "#/audio?v=1&in=item:kws-synth:17&r=mulaw&sweep=opus:bitrate=6000..32000:4;bandlimit:rate=8000&items=24&run=sweep");
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Audio(e.clone()));
        e.input = Input::File(FileRef { sha256: "0f".repeat(32), size: 88_244, name: "recording 1.wav".into() });
        let f = Experiment::Audio(e.clone()).to_fragment();
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Audio(e.clone()));
        e.sides[0].target = Some(crate::target::Target::Kbps(12.0));
        let f = Experiment::Audio(e.clone()).to_fragment();
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Audio(e));
        let mut e = AudioExperiment::default();
        e.sides[1].target = Some(crate::target::Target::Kbps(6.5));
        assert_eq!(Experiment::Audio(e).to_fragment(), "#/audio?v=1&rt=6.5kbps");
    }

    #[test]
    fn sweep_specs_by_shape() {
        assert_eq!(AudioSweepSpec::parse("mulaw").unwrap(), AudioSweepSpec::Defaults("mulaw".into()));
        let fixed = AudioSweepSpec::parse("bandlimit:rate=8000").unwrap();
        assert_eq!(fixed, AudioSweepSpec::Fixed("bandlimit".into(), Params::from([("rate".into(), ParamValue::Int(8000))])));
        assert!(matches!(AudioSweepSpec::parse("opus:bitrate=6000,8000").unwrap(), AudioSweepSpec::Range(_)));
        assert!(matches!(AudioSweepSpec::parse("mdct:bitrate=6000..32000:6").unwrap(), AudioSweepSpec::Range(_)));
        for d in DEFAULT_SWEEP {
            AudioSweepSpec::parse(d).unwrap();
        }
    }

    #[test]
    fn bad_audio_links_name_their_key() {
        for (link, want) in [
            ("#/audio?v=1&in=item:fashion-mnist:3", "kws-synth"),
            ("#/audio?v=1&sweep=opus:bitrate=1..abc:8", "abc"),
            ("#/audio?v=1&sweep=../x", "not a codec id"),
            ("#/audio?v=1&items=0", "outside"),
            ("#/audio?v=1&run=yes", "not sweep"),
            ("#/audio?v=1&m=kws-cnn", "unknown setting 'm'"),
        ] {
            let err = Experiment::parse(link).expect_err(link).to_string();
            assert!(err.contains(want), "{link}: {err}");
        }
    }
}
