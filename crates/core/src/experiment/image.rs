//! The image lab's experiment: input, two sides, the judging model, the view, the sweep.
//!
//! Link keys of version 1 (each omitted when at its default):
//!
//! | key | value | default |
//! |---|---|---|
//! | `in` | `gallery:ID` · `item:DATASET:INDEX` · `file:SHA256:SIZE:NAME` | `gallery:astronaut` |
//! | `l`, `r` | left / right side: `CODEC[:NAME=VALUE,…]` (only the settings given) | `jpeg:quality=20`, `avif` |
//! | `lt`, `rt` | left / right side's target size: `20000B` · `0.5bpp` (sets the codec's size parameter) | none |
//! | `m` | model id | `fashion-cnn` |
//! | `on` | where the model runs: `cpu` · `webgpu` | `cpu` |
//! | `split` | split position, % of the view's width (0.1 steps) | `50` |
//! | `zoom` | `SCALE@X,Y`: zoom and the image point at the view's centre; absent = fit | fit |
//! | `sweep` | ticked sweep specs, `;`-separated (`jpeg:quality=1..95:8;…`) | the five defaults |
//! | `items` | test items per sweep point | `1000` |
//! | `run` | `sweep`: the sweep was run (opening the link runs it again) | not run |

use serde::{Deserialize, Serialize};

use super::{LinkError, Pairs, fmt_num, parse_id, parse_int, parse_num, round_to, shorten};
use crate::codec::{ParamValue, Params};
use crate::sweep::CodecSweep;
use crate::target::Target;

/// Most test items a sweep point may use (the committed test subsets have 1000).
pub const MAX_SWEEP_ITEMS: u32 = 1000;
/// Most codecs one sweep may list.
pub const MAX_SWEEP_CODECS: usize = 16;
/// Longest file name a link may carry.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// The default sweep (version 1): our three codecs as `mpqlab sweep` runs them, then the
/// browser's own encoders.
pub const DEFAULT_SWEEP: [&str; 5] = [
    "jpeg:quality=1..95:8",
    "avif:quality=1..90:8,speed=10",
    "webp-ll-down:scale=10..100:8",
    "browser-jpeg:quality=1..95:8",
    "browser-webp:quality=1..95:8",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageExperiment {
    pub input: Input,
    /// Left, then right.
    pub sides: [Side; 2],
    /// The model that judges both sides (`fashion-cnn`, …).
    pub model: String,
    pub backend: Backend,
    pub view: View,
    pub sweep: SweepSettings,
}

/// What the lab compresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Input {
    /// A bundled gallery photo, by id (`coffee`).
    Gallery { id: String },
    /// A test item of a bundled data set (`fashion-mnist`, index 4).
    Item { dataset: String, index: u32 },
    /// The user's own file: never its bytes, only what identifies it.
    File(FileRef),
}

/// A user's file as a link names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// SHA-256 of the file's bytes, 64 lowercase hex digits.
    pub sha256: String,
    pub size: u64,
    pub name: String,
}

/// One side: a codec and the settings given for it (the others are the codec's defaults), and
/// optionally a target size, which then sets the codec's size parameter ([`crate::target`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    pub codec: String,
    pub params: Params,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Cpu,
    WebGpu,
}

impl Backend {
    pub fn id(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::WebGpu => "webgpu",
        }
    }
    pub fn parse(s: &str) -> Option<Backend> {
        match s {
            "cpu" => Some(Backend::Cpu),
            "webgpu" => Some(Backend::WebGpu),
            _ => None,
        }
    }
}

/// The comparison view. Kept in image coordinates so that a link shows the same place on a
/// screen of another size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// Split between the sides, 0 (all right side) to 1 (all left), in steps of 0.001.
    pub split: f64,
    /// `None`: fit the image to the view.
    pub zoom: Option<Zoom>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Zoom {
    /// Screen pixels per image pixel (3 significant digits).
    pub scale: f64,
    /// The image point at the view's centre (0.1 pixel steps).
    pub cx: f64,
    pub cy: f64,
}

/// Zoom bounds (the viewer's own).
pub const MIN_SCALE: f64 = 0.05;
pub const MAX_SCALE: f64 = 64.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSettings {
    /// The ticked codecs with their ranges, in the panel's order.
    pub specs: Vec<String>,
    pub items: u32,
    /// The sweep was run: opening the link runs it again.
    pub run: bool,
}

impl Default for ImageExperiment {
    /// Version 1's defaults (see the module docs): changing one changes what old links mean.
    fn default() -> Self {
        ImageExperiment {
            input: Input::Gallery { id: "astronaut".into() },
            sides: [
                Side::new("jpeg", Params::from([("quality".to_string(), ParamValue::Int(20))])),
                Side::new("avif", Params::new()),
            ],
            model: "fashion-cnn".into(),
            backend: Backend::Cpu,
            view: View { split: 0.5, zoom: None },
            sweep: SweepSettings { specs: DEFAULT_SWEEP.iter().map(|s| s.to_string()).collect(), items: 1000, run: false },
        }
    }
}

impl Input {
    /// `gallery:coffee`, `item:fashion-mnist:4`, `file:…:123:photo.png`.
    pub fn to_link_value(&self) -> String {
        match self {
            Input::Gallery { id } => format!("gallery:{id}"),
            Input::Item { dataset, index } => format!("item:{dataset}:{index}"),
            Input::File(f) => format!("file:{}:{}:{}", f.sha256, f.size, f.name),
        }
    }

    pub(super) fn read(s: &str) -> Result<Input, LinkError> {
        let bad = |reason: String| LinkError::bad("in", reason);
        let (kind, rest) = s.split_once(':').ok_or_else(|| bad(format!("'{}' is not gallery:…, item:… or file:…", shorten(s))))?;
        match kind {
            "gallery" => Ok(Input::Gallery { id: parse_id("in", rest, "gallery photo")? }),
            "item" => {
                let (dataset, index) =
                    rest.split_once(':').ok_or_else(|| bad("a test item is item:DATASET:INDEX".into()))?;
                Ok(Input::Item { dataset: parse_id("in", dataset, "data set")?, index: parse_int("in", index, 0, 1_000_000)? })
            }
            "file" => {
                let mut parts = rest.splitn(3, ':');
                let (Some(hash), Some(size), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
                    return Err(bad("a file is file:SHA256:SIZE:NAME".into()));
                };
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                    return Err(bad("a file's SHA-256 is 64 lowercase hex digits".into()));
                }
                let size: u64 = size.parse().map_err(|_| bad(format!("'{}' is not a file size", shorten(size))))?;
                if size == 0 || size > crate::limits::MAX_FILE_BYTES as u64 {
                    return Err(bad(format!("a file of {size} bytes cannot be opened here")));
                }
                if name.is_empty() || name.chars().count() > MAX_FILE_NAME_CHARS {
                    return Err(bad(format!("a file name has 1 to {MAX_FILE_NAME_CHARS} characters")));
                }
                Ok(Input::File(FileRef { sha256: hash.to_string(), size, name: name.to_string() }))
            }
            other => Err(bad(format!("'{}' is not gallery, item or file", shorten(other)))),
        }
    }
}

/// The two sides every lab has, as a link keeps them: the keys, and their shared steps.
pub(super) mod sides {
    use super::{Pairs, Side, param_from_text};
    use crate::experiment::LinkError;
    use crate::target::Target;

    /// Left, then right.
    const KEYS: [&str; 2] = ["l", "r"];
    /// Their target sizes.
    const TARGET_KEYS: [&str; 2] = ["lt", "rt"];

    /// Parameter values typed as a link reads them, targets rounded as a link keeps them.
    pub fn normalize(sides: &mut [Side; 2]) {
        for side in sides {
            for v in side.params.values_mut() {
                *v = param_from_text(&v.to_string());
            }
            side.target = side.target.map(|t| Target::read(&t.to_link_value()).unwrap_or(t));
        }
    }

    /// `l=…`, `r=…` for the sides that differ from the lab's defaults, `lt=…`, `rt=…` for their
    /// targets.
    pub fn write(sides: &[Side; 2], defaults: &[Side; 2], out: &mut Pairs) {
        for (k, (side, default)) in KEYS.iter().zip(sides.iter().zip(defaults)) {
            if (&side.codec, &side.params) != (&default.codec, &default.params) {
                out.push(k, side.to_link_value());
            }
        }
        for (k, side) in TARGET_KEYS.iter().zip(sides) {
            if let Some(t) = side.target {
                out.push(k, t.to_link_value());
            }
        }
    }

    /// Reads `l` and `r` over the defaults already in `sides`; with `targets`, `lt` and `rt`
    /// too (a lab of lossless codecs has no size to aim at, and its links refuse them).
    pub fn read(p: &mut Pairs, sides: &mut [Side; 2], targets: bool) -> Result<(), LinkError> {
        for (k, side) in KEYS.iter().zip(sides.iter_mut()) {
            if let Some(v) = p.take(k) {
                *side = Side::read(k, &v)?;
            }
        }
        if targets {
            for (k, side) in TARGET_KEYS.iter().zip(sides.iter_mut()) {
                if let Some(v) = p.take(k) {
                    let t = Target::read(&v).map_err(|r| LinkError::bad(k, r))?;
                    if matches!(t, Target::BitsPerWeight(_)) {
                        return Err(LinkError::bad(k, "bits per weight are the model lab's unit"));
                    }
                    side.target = Some(t);
                }
            }
        }
        Ok(())
    }
}

impl Side {
    /// A side without a target size.
    pub fn new(codec: &str, params: Params) -> Side {
        Side { codec: codec.to_string(), params, target: None }
    }

    /// `jpeg:quality=10,subsampling=4:2:0` (just `avif` when nothing is set).
    pub fn to_link_value(&self) -> String {
        let mut out = self.codec.clone();
        if !self.params.is_empty() {
            out.push(':');
            out.push_str(&self.params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","));
        }
        out
    }

    pub(super) fn read(key: &str, s: &str) -> Result<Side, LinkError> {
        let (codec, rest) = match s.split_once(':') {
            Some((c, r)) => (c, Some(r)),
            None => (s, None),
        };
        let codec = parse_id(key, codec, "codec")?;
        let mut params = Params::new();
        for pair in rest.into_iter().flat_map(|r| r.split(',')).filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| LinkError::bad(key, format!("'{}' is not name=value", shorten(pair))))?;
            let name = parse_id(key, name, "parameter")?;
            if value.is_empty() || value.chars().count() > 64 {
                return Err(LinkError::bad(key, format!("the value of {name} has 1 to 64 characters")));
            }
            if params.insert(name.clone(), param_from_text(value)).is_some() {
                return Err(LinkError::bad(key, format!("{name} is given twice")));
            }
            if params.len() > 16 {
                return Err(LinkError::bad(key, "at most 16 settings per side"));
            }
        }
        Ok(Side { codec, params, target: None })
    }
}

/// A parameter value as a link reads it: `true`/`false`, a whole number, a number, or text.
/// The page stores values through this too, so that its state equals the link's.
pub fn param_from_text(s: &str) -> ParamValue {
    match s {
        "true" => return ParamValue::Bool(true),
        "false" => return ParamValue::Bool(false),
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return ParamValue::Int(i);
    }
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && !s.contains(['e', 'E', 'i', 'n', 'N']) => ParamValue::Float(x),
        _ => ParamValue::Choice(s.to_string()),
    }
}

impl View {
    /// Rounded to what a link keeps (the page stores its view like this).
    pub fn normalized(mut self) -> View {
        self.normalize();
        self
    }

    fn normalize(&mut self) {
        self.split = round_to(self.split.clamp(0.0, 1.0), 3);
        if let Some(z) = &mut self.zoom {
            let digits = 2 - z.scale.abs().log10().floor() as i32;
            z.scale = round_to(z.scale.clamp(MIN_SCALE, MAX_SCALE), digits).clamp(MIN_SCALE, MAX_SCALE);
            z.cx = round_to(z.cx, 1);
            z.cy = round_to(z.cy, 1);
        }
    }
}

impl ImageExperiment {
    pub(super) fn normalize(&mut self) {
        self.view.normalize();
        sides::normalize(&mut self.sides);
    }

    pub(super) fn write(&self, out: &mut Pairs) {
        let d = ImageExperiment::default();
        if self.input != d.input {
            out.push("in", self.input.to_link_value());
        }
        sides::write(&self.sides, &d.sides, out);
        if self.model != d.model {
            out.push("m", &self.model);
        }
        if self.backend != d.backend {
            out.push("on", self.backend.id());
        }
        if self.view.split != d.view.split {
            out.push("split", fmt_num(self.view.split * 100.0, 1));
        }
        if let Some(z) = self.view.zoom {
            out.push("zoom", format!("{}@{},{}", fmt_num(z.scale, 4), fmt_num(z.cx, 1), fmt_num(z.cy, 1)));
        }
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
    pub(super) fn read_v1(p: &mut Pairs) -> Result<ImageExperiment, LinkError> {
        let mut e = ImageExperiment::default();
        if let Some(v) = p.take("in") {
            e.input = Input::read(&v)?;
        }
        sides::read(p, &mut e.sides, true)?;
        if let Some(v) = p.take("m") {
            e.model = parse_id("m", &v, "model")?;
        }
        if let Some(v) = p.take("on") {
            e.backend = Backend::parse(&v).ok_or_else(|| LinkError::bad("on", format!("'{}' is not cpu or webgpu", shorten(&v))))?;
        }
        if let Some(v) = p.take("split") {
            e.view.split = parse_num("split", &v, 0.0, 100.0)? / 100.0;
        }
        if let Some(v) = p.take("zoom") {
            let bad = || LinkError::bad("zoom", format!("'{}' is not SCALE@X,Y", shorten(&v)));
            let (scale, at) = v.split_once('@').ok_or_else(bad)?;
            let (x, y) = at.split_once(',').ok_or_else(bad)?;
            let side = crate::limits::MAX_IMAGE_SIDE as f64;
            e.view.zoom = Some(Zoom {
                scale: parse_num("zoom", scale, MIN_SCALE, MAX_SCALE)?,
                cx: parse_num("zoom", x, -side, 2.0 * side)?,
                cy: parse_num("zoom", y, -side, 2.0 * side)?,
            });
        }
        if let Some(v) = p.take("sweep") {
            let specs: Vec<String> = v.split(';').filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_string()).collect();
            if specs.len() > MAX_SWEEP_CODECS {
                return Err(LinkError::bad("sweep", format!("at most {MAX_SWEEP_CODECS} codecs")));
            }
            for s in &specs {
                CodecSweep::parse(s).map_err(|e| LinkError::bad("sweep", e.to_string()))?;
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
    use super::*;
    use proptest::prelude::*;

    fn typical() -> ImageExperiment {
        let mut e = ImageExperiment::default();
        e.input = Input::Gallery { id: "coffee".into() };
        e.sides[0].params.insert("quality".into(), ParamValue::Int(10));
        e.sides[1].params.insert("quality".into(), ParamValue::Int(40));
        e.view = View { split: 0.347, zoom: Some(Zoom { scale: 2.5, cx: 300.5, cy: 180.0 }) };
        e
    }

    #[test]
    fn a_typical_link_is_short_and_readable() {
        let f = Experiment::Image(typical()).to_fragment();
        assert_eq!(f, "#/image?v=1&in=gallery:coffee&l=jpeg:quality=10&r=avif:quality=40&split=34.7&zoom=2.5@300.5,180");
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Image(typical()));
    }

    #[test]
    fn target_sizes_travel_in_links() {
        let mut e = typical();
        e.sides[0].target = Some(Target::BitsPerPixel(0.5));
        e.sides[1].target = Some(Target::Bytes(20_000.0));
        let f = Experiment::Image(e.clone()).to_fragment();
        assert!(f.contains("&r=avif:quality=40&lt=0.5bpp&rt=20000B&"), "{f}");
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Image(e));
        // A default side with a target writes the target alone.
        let mut e = ImageExperiment::default();
        e.sides[1].target = Some(Target::BitsPerPixel(0.123456));
        let e = Experiment::Image(e).normalized();
        assert_eq!(e.to_fragment(), "#/image?v=1&rt=0.1235bpp");
        assert_eq!(Experiment::parse(&e.to_fragment()).unwrap(), e);
    }

    #[test]
    fn file_inputs_keep_odd_names_as_text() {
        let mut e = ImageExperiment::default();
        e.input = Input::File(FileRef {
            sha256: "ab".repeat(32),
            size: 36_000,
            name: "<img src=x onerror=alert(1)> & co: ünïcode.png".into(),
        });
        let f = Experiment::Image(e.clone()).to_fragment();
        assert!(!f.contains(['<', '>', ' ']), "{f}");
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Image(e));
    }

    #[test]
    fn long_links_are_compressed_and_read_back() {
        let mut e = typical();
        e.sweep.specs = (1..=8).map(|k| format!("jpeg:quality={k}..95:8")).collect();
        e.sweep.run = true;
        let f = Experiment::Image(e.clone()).to_fragment();
        assert!(f.starts_with("#/image?v=1&z="), "{f}");
        assert_eq!(Experiment::parse(&f).unwrap(), Experiment::Image(e));
    }

    #[test]
    fn bad_values_name_their_key() {
        for (link, want) in [
            ("#/image?v=1&in=file:abc:10:x.png", "SHA-256"),
            ("#/image?v=1&in=gallery:../../etc", "not a gallery photo id"),
            ("#/image?v=1&in=item:fashion-mnist:x", "not a whole number"),
            ("#/image?v=1&l=jpeg:quality", "not name=value"),
            ("#/image?v=1&split=120", "outside"),
            ("#/image?v=1&zoom=2", "SCALE@X,Y"),
            ("#/image?v=1&zoom=NaN@1,1", "outside"),
            ("#/image?v=1&items=0", "outside"),
            ("#/image?v=1&sweep=jpeg:quality=1..abc:8", "abc"),
            ("#/image?v=1&on=tpu", "not cpu or webgpu"),
            ("#/image?v=1&run=yes", "not sweep"),
            ("#/image?v=1&lt=0.5", "not a size"),
            ("#/image?v=1&rt=-2bpp", "outside"),
            ("#/image?v=1&rt=xbpp", "not a number"),
            ("#/image?v=1&rt=0bpp", "outside"),
            ("#/image?v=1&lt=1.5B", "whole number"),
            ("#/image?v=1&lt=4bpw", "model lab"),
        ] {
            let err = Experiment::parse(link).expect_err(link).to_string();
            assert!(err.contains(want), "{link}: {err}");
        }
    }

    fn arb_value() -> impl Strategy<Value = ParamValue> {
        prop_oneof![
            (-1000i64..1000).prop_map(ParamValue::Int),
            (-100.0f64..100.0).prop_map(|x| ParamValue::Float((x * 8.0).round() / 8.0)),
            any::<bool>().prop_map(ParamValue::Bool),
            "[a-z0-9:]{1,8}".prop_map(ParamValue::Choice),
        ]
    }

    fn arb_experiment() -> impl Strategy<Value = ImageExperiment> {
        let input = prop_oneof![
            "[a-z]{1,10}".prop_map(|id| Input::Gallery { id }),
            ("[a-z-]{1,12}", 0u32..1000).prop_map(|(dataset, index)| Input::Item { dataset, index }),
            ("[0-9a-f]{64}", 1u64..1_000_000, "\\PC{1,30}")
                .prop_map(|(sha256, size, name)| Input::File(FileRef { sha256, size, name })),
        ];
        let side = || {
            ("[a-z][a-z0-9-]{0,10}", prop::collection::btree_map("[a-z]{1,6}", arb_value(), 0..4))
                .prop_map(|(codec, params)| Side { codec, params, target: None })
                .prop_flat_map(|side| {
                    let target = prop_oneof![
                        Just(None),
                        (1u32..1_000_000).prop_map(|b| Some(Target::Bytes(b as f64))),
                        (0.001f64..50.0).prop_map(|b| Some(Target::BitsPerPixel(b))),
                    ];
                    (Just(side), target).prop_map(|(mut side, target)| {
                        side.target = target;
                        side
                    })
                })
        };
        let zoom = prop::option::of((0.05f64..64.0, -500.0f64..3000.0, -500.0f64..3000.0).prop_map(|(scale, cx, cy)| Zoom { scale, cx, cy }));
        (input, side(), side(), "[a-z-]{1,12}", any::<bool>(), 0.0f64..=1.0, zoom, 1u32..=1000, any::<bool>())
            .prop_map(|(input, l, r, model, gpu, split, zoom, items, run)| {
                let mut e = ImageExperiment::default();
                e.input = input;
                e.sides = [l, r];
                e.model = model;
                e.backend = if gpu { Backend::WebGpu } else { Backend::Cpu };
                e.view = View { split, zoom };
                e.sweep.items = items;
                e.sweep.run = run;
                e
            })
    }

    proptest! {
        #[test]
        fn every_experiment_survives_its_link(e in arb_experiment()) {
            let e = Experiment::Image(e).normalized();
            let f = e.to_fragment();
            prop_assert!(f.chars().count() <= super::super::MAX_LINK_CHARS);
            prop_assert_eq!(Experiment::parse(&f).unwrap(), e.clone());
            // Normalizing twice changes nothing (the page stores normalized state).
            prop_assert_eq!(e.clone().normalized(), e);
        }

        #[test]
        fn the_parser_never_panics(s in "\\PC{0,300}") {
            let _ = Experiment::parse(&s);
            let _ = Experiment::parse(&format!("#/image?v=1&{s}"));
        }
    }
}
