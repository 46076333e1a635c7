//! What a user types to describe a rate–perception sweep of one codec, on the command line
//! (`mpqlab sweep -c jpeg:q=1..95:8`) and in the page's inputs and links.
//!
//! Grammar: `codec:name=values[,name=value…]`, where exactly one parameter is swept:
//!
//! * `jpeg:quality=1..95:8`: a range, 8 evenly spaced points from 1 to 95 inclusive;
//! * `jpeg:quality=5,10,20,40`: a list (commas continue the list until the next `name=`);
//! * `avif:quality=10..90:8,speed=10`: further `name=value` pairs are fixed for every point.
//!
//! * `jpeg:bpp=0.25,0.5,1` · `opus:kbps=6..24:4` · `avif:bytes=500,1000`: the codecs aligned at
//!   equal sizes. `bpp`, `kbps` and `bytes` are target sizes ([`crate::target`]), not settings:
//!   each item of the test set is encoded at the setting of the codec's size parameter that
//!   comes nearest (one search per item), so every codec's point sits at the same size.
//!
//! The swept parameter is the one given a range or several values; when every parameter has a
//! single value, the first one is swept (a one-point sweep). Values are plain numbers here;
//! [`CodecSweep::resolved_values`] fits them to a codec's schema.
//!
//! Inputs come from URLs and text boxes, so sizes are bounded ([`MAX_SPEC_CHARS`],
//! [`MAX_SWEEP_POINTS`]) and every failure is an [`Error::Invalid`] that quotes the input.

use serde::{Deserialize, Serialize};

use crate::codec::parse_param_pairs;
use crate::{Error, ParamKind, ParamSpec, ParamValue, Params, Result};

/// Longest sweep description accepted, in characters.
pub const MAX_SPEC_CHARS: usize = 256;
/// Most points one codec's sweep may have: each point encodes a whole test set.
pub const MAX_SWEEP_POINTS: usize = 64;

/// One codec swept over one parameter, the others fixed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodecSweep {
    pub codec: String,
    pub param: String,
    pub values: Vec<f64>,
    /// Values as typed (strings until checked against a schema by [`CodecSweep::params_for`]).
    pub fixed: Params,
}

/// One `name=value[,value…]` group while parsing.
struct Group<'a> {
    name: &'a str,
    values: Vec<&'a str>,
}

impl CodecSweep {
    /// Parses `"jpeg:q=1..95:8"`, `"jpeg:q=5,10,20,40"`, `"avif:q=10..90:8,speed=10"`.
    pub fn parse(s: &str) -> Result<Self> {
        let fail = |reason: String| Error::Invalid(format!("{} — {reason}", shown(s)));
        if s.chars().count() > MAX_SPEC_CHARS {
            return Err(fail(format!("a sweep is at most {MAX_SPEC_CHARS} characters")));
        }
        let s_trim = s.trim();
        let (codec, rest) = s_trim.split_once(':').ok_or_else(|| {
            fail("expected codec:name=values, e.g. jpeg:quality=1..95:8".into())
        })?;
        let codec = codec.trim();
        if !is_name(codec) {
            return Err(fail(format!(
                "'{codec}' is not a codec id (letters, digits, '-' and '_')"
            )));
        }

        // Commas separate both pairs and list items: an item without '=' continues the list
        // of the pair before it.
        let mut groups: Vec<Group> = Vec::new();
        for item in rest.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(fail("empty item between commas".into()));
            }
            match item.split_once('=') {
                Some((name, value)) => {
                    let name = name.trim();
                    if !is_name(name) {
                        return Err(fail(format!(
                            "'{name}' is not a parameter name (letters, digits, '-' and '_')"
                        )));
                    }
                    if groups.iter().any(|g| g.name == name) {
                        return Err(fail(format!("'{name}' is given twice")));
                    }
                    groups.push(Group { name, values: vec![value.trim()] });
                }
                None => match groups.last_mut() {
                    Some(g) => g.values.push(item),
                    None => return Err(fail(format!("'{item}' is not name=value"))),
                },
            }
        }
        let Some(first) = groups.first() else {
            return Err(fail("no parameter to sweep".into()));
        };

        let is_swept = |g: &Group| g.values.len() > 1 || g.values[0].contains("..");
        let swept: Vec<&Group> = groups.iter().filter(|g| is_swept(g)).collect();
        let swept_name = match swept.as_slice() {
            [] => first.name,
            [one] => one.name,
            [a, b, ..] => {
                return Err(fail(format!(
                    "only one parameter can be swept, but '{}' and '{}' both have several values",
                    a.name, b.name
                )));
            }
        };

        let mut values = Vec::new();
        let mut fixed_pairs = Vec::new();
        for g in &groups {
            if g.name == swept_name {
                values = parse_values(g).map_err(fail)?;
            } else {
                fixed_pairs.push(format!("{}={}", g.name, g.values[0]));
            }
        }
        let fixed = parse_param_pairs(fixed_pairs.iter().map(String::as_str))
            .map_err(|e| fail(e.to_string()))?;
        Ok(CodecSweep { codec: codec.to_string(), param: swept_name.to_string(), values, fixed })
    }

    /// The values to run for a codec with `schema`: Int parameters are rounded to their step
    /// and clamped to their range, Float ones clamped; duplicates (after rounding) are dropped,
    /// order kept. The fixed parameters are checked too, so that a typo fails before a long
    /// sweep starts rather than at its first point.
    pub fn resolved_values(&self, schema: &[ParamSpec]) -> Result<Vec<f64>> {
        self.typed_fixed(schema)?;
        if self.aims() {
            let mut out: Vec<f64> = Vec::with_capacity(self.values.len());
            for &v in &self.values {
                let t = self.target_at(v).expect("aims");
                crate::target::Target::read(&t.to_link_value()).map_err(|reason| Error::BadParam { name: self.param.clone(), reason })?;
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            return Ok(out);
        }
        let spec = self.swept_spec(schema)?;
        if let Some(bad) = self.values.iter().find(|v| !v.is_finite()) {
            return Err(Error::BadParam { name: spec.name.clone(), reason: format!("{bad} is not a number") });
        }
        let mut out: Vec<f64> = Vec::with_capacity(self.values.len());
        for &v in &self.values {
            let v = fit_to_kind(&spec.kind, v);
            // `==` rather than bit equality: 0.0 and -0.0 are one setting.
            if !out.contains(&v) {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// The parameters of the point at `value`: the fixed ones, typed by the schema, plus the
    /// swept one as the kind the schema wants (Int values are rounded). Values outside the
    /// schema's range are errors here; [`resolved_values`](Self::resolved_values) gives values
    /// that are not.
    pub fn params_for(&self, schema: &[ParamSpec], value: f64) -> Result<Params> {
        let mut params = self.typed_fixed(schema)?;
        if self.aims() {
            return Ok(params); // the search sets the size parameter, item by item
        }
        let spec = self.swept_spec(schema)?;
        let given = match spec.kind {
            ParamKind::Int { .. } if value.is_finite() => ParamValue::Int(value.round() as i64),
            _ => ParamValue::Float(value),
        };
        params.insert(spec.name.clone(), spec.validate(&given)?);
        Ok(params)
    }

    /// The swept "parameter" is a target size (`bpp`, `kbps`, `bytes`) rather than a setting.
    pub fn aims(&self) -> bool {
        matches!(self.param.as_str(), "bpp" | "kbps" | "bytes")
    }

    /// The target size of the point at `value`, for a sweep that [`aims`](Self::aims).
    pub fn target_at(&self, value: f64) -> Option<crate::target::Target> {
        use crate::target::Target;
        match self.param.as_str() {
            "bpp" => Some(Target::BitsPerPixel(value)),
            "kbps" => Some(Target::Kbps(value)),
            "bytes" => Some(Target::Bytes(value.round())),
            _ => None,
        }
    }

    /// The sweep written back in the grammar [`parse`](Self::parse) reads: the swept parameter
    /// first, as `a..b:n` when its values are exactly that range's and as a list otherwise,
    /// then the fixed pairs in name order. `parse(to_spec_string(x)) == x` for every sweep that
    /// `parse` returns, as long as the written form stays within [`MAX_SPEC_CHARS`] (a list of
    /// values typed as `15e9` is written `1.5e10`, longer than it was typed).
    pub fn to_spec_string(&self) -> String {
        let values = match self.values.as_slice() {
            [a, .., b] if self.values.len() > 2 && linspace(*a, *b, self.values.len()) == self.values => {
                format!("{}..{}:{}", number(*a), number(*b), self.values.len())
            }
            vs => vs.iter().map(|&v| number(v)).collect::<Vec<_>>().join(","),
        };
        let mut out = format!("{}:{}={}", self.codec, self.param, values);
        for (name, value) in &self.fixed {
            out.push_str(&format!(",{name}={value}"));
        }
        out
    }

    fn swept_spec<'a>(&self, schema: &'a [ParamSpec]) -> Result<&'a ParamSpec> {
        let spec = schema.iter().find(|p| p.name == self.param).ok_or_else(|| {
            Error::UnknownParam {
                codec: self.codec.clone(),
                name: self.param.clone(),
                known: known_names(schema),
            }
        })?;
        match spec.kind {
            ParamKind::Int { .. } | ParamKind::Float { .. } => Ok(spec),
            ParamKind::Choice { .. } | ParamKind::Bool => Err(Error::BadParam {
                name: spec.name.clone(),
                reason: "only numeric parameters can be swept; this one is a choice".into(),
            }),
        }
    }

    fn typed_fixed(&self, schema: &[ParamSpec]) -> Result<Params> {
        let mut out = Params::new();
        for (name, value) in &self.fixed {
            let spec = schema.iter().find(|p| &p.name == name).ok_or_else(|| {
                Error::UnknownParam {
                    codec: self.codec.clone(),
                    name: name.clone(),
                    known: known_names(schema),
                }
            })?;
            out.insert(name.clone(), spec.validate(value)?);
        }
        Ok(out)
    }
}

/// Values of the swept group: one range `a..b:n`, or a list of numbers.
fn parse_values(g: &Group) -> std::result::Result<Vec<f64>, String> {
    let name = g.name;
    if let [single] = g.values.as_slice()
        && let Some((from, rest)) = single.split_once("..")
    {
        let (to, count) = rest.split_once(':').ok_or_else(|| {
            format!("range '{single}' needs a point count, e.g. {name}={from}..{rest}:8")
        })?;
        let (a, b) = (num(name, from)?, num(name, to)?);
        let n: usize = count.trim().parse().map_err(|_| {
            format!("'{}' in '{single}' is not a point count", count.trim())
        })?;
        if !(2..=MAX_SWEEP_POINTS).contains(&n) {
            return Err(format!("a range has 2 to {MAX_SWEEP_POINTS} points, not {n}"));
        }
        return Ok(linspace(a, b, n));
    }
    if g.values.len() > MAX_SWEEP_POINTS {
        return Err(format!("at most {MAX_SWEEP_POINTS} values per sweep, got {}", g.values.len()));
    }
    g.values
        .iter()
        .map(|v| {
            if v.contains("..") {
                Err(format!("a range cannot be mixed with a list ('{v}')"))
            } else {
                num(name, v)
            }
        })
        .collect()
}

/// Magnitudes beyond this are surely typos, and would print as hundreds of digits.
const MAX_MAGNITUDE: f64 = 1e12;

fn num(name: &str, s: &str) -> std::result::Result<f64, String> {
    let s = s.trim();
    let x: f64 = s.parse().map_err(|_| format!("'{s}' is not a number (for {name})"))?;
    if !x.is_finite() || x.abs() > MAX_MAGNITUDE {
        return Err(format!("'{s}' is not a usable number (for {name})"));
    }
    Ok(x)
}

/// `n` evenly spaced values from `a` to `b`, both included exactly.
fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![a],
        _ => (0..n)
            .map(|i| if i + 1 == n { b } else { a + (b - a) * i as f64 / (n - 1) as f64 })
            .collect(),
    }
}

/// The shorter of plain and exponent notation; both are Rust's shortest round-trip digits.
fn number(x: f64) -> String {
    let (plain, exp) = (format!("{x}"), format!("{x:e}"));
    if exp.len() < plain.len() { exp } else { plain }
}

fn fit_to_kind(kind: &ParamKind, v: f64) -> f64 {
    match *kind {
        ParamKind::Int { min, max, step } => {
            let step = step.max(1) as f64;
            let (min, max) = (min as f64, max as f64);
            let snapped = min + ((v - min) / step).round() * step;
            // Snapping can land one step past max; clamping keeps it a valid setting.
            clamp(snapped, min, max)
        }
        ParamKind::Float { min, max, .. } => clamp(v, min, max),
        ParamKind::Choice { .. } | ParamKind::Bool => v,
    }
}

/// `f64::clamp` panics on a NaN or inverted bound; a schema is data, so this one does not.
fn clamp(v: f64, min: f64, max: f64) -> f64 {
    v.min(max).max(min)
}

pub(crate) fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn known_names(schema: &[ParamSpec]) -> String {
    if schema.is_empty() {
        "none".into()
    } else {
        schema.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// The input as quoted in messages, shortened so that a huge paste does not flood the screen.
pub(crate) fn shown(s: &str) -> String {
    const KEEP: usize = 60;
    if s.chars().count() <= KEEP {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(KEEP).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn jpeg_schema() -> Vec<ParamSpec> {
        vec![
            ParamSpec::int("q", "Quality", 1, 100, 75, "q"),
            ParamSpec::choice("subsampling", "Chroma", &["4:4:4", "4:2:0"], "4:2:0", "s"),
            ParamSpec {
                name: "strength".into(),
                label: "Strength".into(),
                kind: ParamKind::Float { min: 0.0, max: 1.0, step: 0.1 },
                default: ParamValue::Float(0.5),
                unit: None,
                help: "s".into(),
            },
        ]
    }

    fn err(s: &str) -> String {
        CodecSweep::parse(s).unwrap_err().to_string()
    }

    #[test]
    fn size_sweeps_aim_instead_of_setting() {
        use crate::target::Target;
        let s = CodecSweep::parse("jpeg:bpp=0.25,0.5,1,subsampling=4:4:4").unwrap();
        assert!(s.aims());
        assert_eq!(s.resolved_values(&jpeg_schema()).unwrap(), [0.25, 0.5, 1.0]);
        assert_eq!(s.target_at(0.5), Some(Target::BitsPerPixel(0.5)));
        // The fixed settings are the point's; the size parameter is left to the search.
        let p = s.params_for(&jpeg_schema(), 0.5).unwrap();
        assert_eq!(p.keys().collect::<Vec<_>>(), ["subsampling"]);
        assert_eq!(CodecSweep::parse("opus:kbps=6..24:4").unwrap().target_at(6.0), Some(Target::Kbps(6.0)));
        assert!(CodecSweep::parse("jpeg:bpp=0,1").unwrap().resolved_values(&jpeg_schema()).is_err());
        assert!(CodecSweep::parse("jpeg:q=50").unwrap().target_at(50.0).is_none());
    }

    #[test]
    fn parses_range_list_and_fixed_pairs() {
        let s = CodecSweep::parse("jpeg:q=1..95:8").unwrap();
        assert_eq!((s.codec.as_str(), s.param.as_str()), ("jpeg", "q"));
        assert_eq!(s.values.len(), 8);
        assert_eq!((s.values[0], s.values[7]), (1.0, 95.0));
        assert!((s.values[1] - (1.0 + 94.0 / 7.0)).abs() < 1e-12);
        assert!(s.fixed.is_empty());

        let s = CodecSweep::parse("jpeg:q=5,10,20,40").unwrap();
        assert_eq!(s.values, [5.0, 10.0, 20.0, 40.0]);

        let s = CodecSweep::parse(" avif:q=10..90:8, speed=10 ").unwrap();
        assert_eq!(s.param, "q");
        assert_eq!(s.values.len(), 8);
        assert_eq!(s.fixed.get("speed"), Some(&ParamValue::Choice("10".into())));

        let s = CodecSweep::parse("webp-ll-down:scale=20..100:8").unwrap();
        assert_eq!((s.codec.as_str(), s.param.as_str(), s.values[7]), ("webp-ll-down", "scale", 100.0));

        // The swept parameter is the one with several values, wherever it stands; a choice
        // value may contain ':'.
        let s = CodecSweep::parse("jpeg:subsampling=4:2:0,q=5,10").unwrap();
        assert_eq!(s.param, "q");
        assert_eq!(s.values, [5.0, 10.0]);
        assert_eq!(s.fixed.get("subsampling"), Some(&ParamValue::Choice("4:2:0".into())));

        // A single value: a one-point sweep of the first parameter.
        let s = CodecSweep::parse("jpeg:q=50,subsampling=4:4:4").unwrap();
        assert_eq!((s.param.as_str(), s.values.as_slice()), ("q", &[50.0][..]));
        // Descending ranges are kept in the order typed.
        assert_eq!(CodecSweep::parse("jpeg:q=90..10:3").unwrap().values, [90.0, 50.0, 10.0]);
    }

    #[test]
    fn bad_input_is_an_error_that_quotes_it() {
        for (input, expect) in [
            ("jpeg", "expected codec:name=values"),
            ("jpeg:", "empty item"),
            (":q=1", "not a codec id"),
            ("jp eg:q=1", "not a codec id"),
            ("jpeg:q=1,,2", "empty item"),
            ("jpeg:5,q=1", "not name=value"),
            ("jpeg:q=abc", "not a number"),
            ("jpeg:q=nan", "not a usable number"),
            ("jpeg:q=inf", "not a usable number"),
            ("jpeg:q=1e300", "not a usable number"),
            ("jpeg:q=1..95", "needs a point count"),
            ("jpeg:q=1..95:1", "2 to 64 points"),
            ("jpeg:q=1..95:65", "2 to 64 points"),
            ("jpeg:q=1..95:x", "not a point count"),
            ("jpeg:q=1..95:8,30", "cannot be mixed"),
            ("jpeg:q=1,2,speed=1,2", "only one parameter can be swept"),
            ("jpeg:q=1,q=2", "given twice"),
            ("jpeg:q x=1", "not a parameter name"),
        ] {
            let e = err(input);
            assert!(e.starts_with(&format!("{input} — ")), "{input}: {e}");
            assert!(e.contains(expect), "{input}: expected '{expect}' in '{e}'");
        }
        let many = format!("jpeg:q={}", vec!["1"; 65].join(","));
        assert!(err(&many).contains("at most 64 values"));
        let long = format!("jpeg:q=1,x={}", "a".repeat(300));
        let e = err(&long);
        assert!(e.contains("at most 256 characters") && e.len() < 200, "{e}");
    }

    #[test]
    fn resolves_values_against_a_schema() {
        let schema = jpeg_schema();
        let s = CodecSweep::parse("jpeg:q=1..95:8").unwrap();
        assert_eq!(s.resolved_values(&schema).unwrap(), [1.0, 14.0, 28.0, 41.0, 55.0, 68.0, 82.0, 95.0]);
        // Rounded, clamped, deduplicated, order kept.
        let s = CodecSweep::parse("jpeg:q=-5,0.4,1.2,50.5,300,100").unwrap();
        assert_eq!(s.resolved_values(&schema).unwrap(), [1.0, 51.0, 100.0]);
        let s = CodecSweep::parse("jpeg:strength=-1,0.25,2").unwrap();
        assert_eq!(s.resolved_values(&schema).unwrap(), [0.0, 0.25, 1.0]);

        let e = CodecSweep::parse("jpeg:speed=1,2").unwrap().resolved_values(&schema).unwrap_err();
        assert!(matches!(e, Error::UnknownParam { .. }), "{e}");
        let e = CodecSweep::parse("jpeg:subsampling=1,2").unwrap().resolved_values(&schema).unwrap_err();
        assert!(matches!(e, Error::BadParam { .. }), "{e}");
        // A bad fixed parameter fails before the sweep starts.
        let e = CodecSweep::parse("jpeg:q=1,2,subsampling=4:1:1").unwrap().resolved_values(&schema).unwrap_err();
        assert!(matches!(e, Error::BadParam { .. }), "{e}");
        let e = CodecSweep::parse("jpeg:q=1,2,speed=3").unwrap().resolved_values(&schema).unwrap_err();
        assert!(matches!(e, Error::UnknownParam { .. }), "{e}");
    }

    #[test]
    fn params_for_one_point_are_typed() {
        let schema = jpeg_schema();
        let s = CodecSweep::parse("jpeg:q=10..90:3,subsampling=4:4:4").unwrap();
        let p = s.params_for(&schema, 50.0).unwrap();
        assert_eq!(p.get("q"), Some(&ParamValue::Int(50)));
        assert_eq!(p.get("subsampling"), Some(&ParamValue::Choice("4:4:4".into())));
        assert_eq!(p.len(), 2);
        assert_eq!(s.params_for(&schema, 49.6).unwrap().get("q"), Some(&ParamValue::Int(50)));
        assert!(s.params_for(&schema, 0.0).is_err());
        assert!(s.params_for(&schema, f64::NAN).is_err());
        let s = CodecSweep::parse("jpeg:strength=0.1,0.2").unwrap();
        assert_eq!(s.params_for(&schema, 0.2).unwrap().get("strength"), Some(&ParamValue::Float(0.2)));
    }

    #[test]
    fn spec_string_is_compact_and_round_trips() {
        for (input, written) in [
            ("jpeg:q=1..95:8", "jpeg:q=1..95:8"),
            ("jpeg:q=5, 10,20 ,40", "jpeg:q=5,10,20,40"),
            ("avif:speed=10,q=10..90:8", "avif:q=10..90:8,speed=10"),
            ("jpeg:q=0.5..2.5:2", "jpeg:q=0.5,2.5"),
            ("x:y=1e9,2e-7", "x:y=1e9,2e-7"),
        ] {
            let s = CodecSweep::parse(input).unwrap();
            assert_eq!(s.to_spec_string(), written);
            assert_eq!(CodecSweep::parse(written).unwrap(), s);
        }
    }

    /// Specs as people write them: a range or a list of short decimals, some fixed pairs.
    fn spec_strategy() -> impl Strategy<Value = String> {
        let number = (-1000i64..1000, 0u32..4).prop_map(|(m, d)| {
            let x = m as f64 / 10f64.powi(d as i32);
            format!("{x}")
        });
        let values = prop_oneof![
            (number.clone(), number.clone(), 2usize..=64).prop_map(|(a, b, n)| format!("{a}..{b}:{n}")),
            proptest::collection::vec(number, 1..12).prop_map(|v| v.join(",")),
        ];
        // No '.' in fixed values: `..` would make them a second swept parameter.
        let fixed = proptest::collection::btree_map("f[a-z0-9_]{0,6}", "[A-Za-z0-9:]{0,6}", 0..3);
        ("[a-z][a-z0-9-]{0,10}", values, fixed).prop_map(|(codec, values, fixed)| {
            let mut s = format!("{codec}:swept={values}");
            for (k, v) in fixed {
                s.push_str(&format!(",{k}={v}"));
            }
            s
        })
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = CodecSweep::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_near_misses(s in "[a-z:=.,0-9 -]{0,80}") {
            if let Ok(sweep) = CodecSweep::parse(&s) {
                let written = sweep.to_spec_string();
                if written.chars().count() <= MAX_SPEC_CHARS {
                    prop_assert_eq!(CodecSweep::parse(&written).unwrap(), sweep);
                }
            }
        }

        #[test]
        fn spec_string_round_trips(s in spec_strategy()) {
            let sweep = CodecSweep::parse(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let written = sweep.to_spec_string();
            prop_assert!(written.chars().count() <= MAX_SPEC_CHARS, "{}", written);
            prop_assert_eq!(CodecSweep::parse(&written).unwrap(), sweep);
        }
    }
}
