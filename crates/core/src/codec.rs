//! The [`Codec`] trait and the parameter schema the UI and the CLI render without any
//! per-codec code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Media, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Image,
    Audio,
    Text,
}

/// The type and range of one parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ParamKind {
    Int { min: i64, max: i64, step: i64 },
    Float { min: f64, max: f64, step: f64 },
    Choice { options: Vec<String> },
    Bool,
}

/// A parameter value. Untagged in JSON: `10`, `0.5`, `"4:2:0"`, `true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Choice(String),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Choice(s) => write!(f, "{s}"),
        }
    }
}

/// One entry of a codec's parameter schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Machine name, used on the command line and in links (`quality`).
    pub name: String,
    /// Human label for the UI (`Quality`).
    pub label: String,
    pub kind: ParamKind,
    pub default: ParamValue,
    /// Unit shown beside the value, if any (`%`, `dB`).
    pub unit: Option<String>,
    /// One sentence on what the parameter does.
    pub help: String,
}

impl ParamSpec {
    pub fn int(name: &str, label: &str, min: i64, max: i64, default: i64, help: &str) -> Self {
        ParamSpec {
            name: name.into(),
            label: label.into(),
            kind: ParamKind::Int { min, max, step: 1 },
            default: ParamValue::Int(default),
            unit: None,
            help: help.into(),
        }
    }
    pub fn choice(name: &str, label: &str, options: &[&str], default: &str, help: &str) -> Self {
        ParamSpec {
            name: name.into(),
            label: label.into(),
            kind: ParamKind::Choice { options: options.iter().map(|s| s.to_string()).collect() },
            default: ParamValue::Choice(default.into()),
            unit: None,
            help: help.into(),
        }
    }
    pub fn with_unit(mut self, unit: &str) -> Self {
        self.unit = Some(unit.into());
        self
    }

    /// Checks a value against this spec, converting between compatible kinds
    /// (a whole float for an int, a string that parses).
    pub fn validate(&self, value: &ParamValue) -> Result<ParamValue> {
        let bad = |reason: String| Error::BadParam { name: self.name.clone(), reason };
        match (&self.kind, value) {
            (ParamKind::Int { min, max, .. }, v) => {
                let i = match v {
                    ParamValue::Int(i) => *i,
                    ParamValue::Float(x) if x.fract() == 0.0 && x.is_finite() => *x as i64,
                    ParamValue::Choice(s) => s
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| bad(format!("'{s}' is not a whole number")))?,
                    other => return Err(bad(format!("expected a whole number, got {other}"))),
                };
                if i < *min || i > *max {
                    return Err(bad(format!("{i} is outside {min}..={max}")));
                }
                Ok(ParamValue::Int(i))
            }
            (ParamKind::Float { min, max, .. }, v) => {
                let x = match v {
                    ParamValue::Int(i) => *i as f64,
                    ParamValue::Float(x) => *x,
                    ParamValue::Choice(s) => {
                        s.trim().parse::<f64>().map_err(|_| bad(format!("'{s}' is not a number")))?
                    }
                    other => return Err(bad(format!("expected a number, got {other}"))),
                };
                if !x.is_finite() || x < *min || x > *max {
                    return Err(bad(format!("{x} is outside {min}..={max}")));
                }
                Ok(ParamValue::Float(x))
            }
            (ParamKind::Choice { options }, v) => {
                let s = v.to_string();
                if options.iter().any(|o| *o == s) {
                    Ok(ParamValue::Choice(s))
                } else {
                    Err(bad(format!("'{s}' is not one of {}", options.join(", "))))
                }
            }
            (ParamKind::Bool, ParamValue::Bool(b)) => Ok(ParamValue::Bool(*b)),
            (ParamKind::Bool, ParamValue::Choice(s)) => match s.as_str() {
                "true" | "1" | "yes" | "on" => Ok(ParamValue::Bool(true)),
                "false" | "0" | "no" | "off" => Ok(ParamValue::Bool(false)),
                _ => Err(bad(format!("'{s}' is not true/false"))),
            },
            (ParamKind::Bool, other) => Err(bad(format!("expected true/false, got {other}"))),
        }
    }
}

/// Parameter values by name. A `BTreeMap` so that serialisation order (and links) are stable.
pub type Params = BTreeMap<String, ParamValue>;

/// Parameters checked against a schema with every default filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedParams(Params);

impl ResolvedParams {
    /// Validates `given` against `schema`: unknown names and out-of-range values are errors,
    /// missing names take their defaults.
    pub fn resolve(codec: &str, schema: &[ParamSpec], given: &Params) -> Result<Self> {
        for name in given.keys() {
            if !schema.iter().any(|s| &s.name == name) {
                let known: Vec<_> = schema.iter().map(|s| s.name.as_str()).collect();
                return Err(Error::UnknownParam {
                    codec: codec.into(),
                    name: name.clone(),
                    known: if known.is_empty() { "none".into() } else { known.join(", ") },
                });
            }
        }
        let mut out = Params::new();
        for spec in schema {
            let v = match given.get(&spec.name) {
                Some(v) => spec.validate(v)?,
                None => spec.default.clone(),
            };
            out.insert(spec.name.clone(), v);
        }
        Ok(ResolvedParams(out))
    }

    pub fn int(&self, name: &str) -> i64 {
        match self.0.get(name) {
            Some(ParamValue::Int(i)) => *i,
            Some(ParamValue::Float(x)) => *x as i64,
            // Only reachable if a codec reads a name its own schema does not declare:
            // a programming error caught by each codec's tests, not by user input.
            other => panic!("parameter '{name}' is not an int in the resolved set: {other:?}"),
        }
    }
    pub fn choice(&self, name: &str) -> &str {
        match self.0.get(name) {
            Some(ParamValue::Choice(s)) => s,
            other => panic!("parameter '{name}' is not a choice in the resolved set: {other:?}"),
        }
    }
    pub fn as_params(&self) -> &Params {
        &self.0
    }
}

/// A codec: one format with its settings, behind one interface for the UI, CLI and sweeps.
pub trait Codec: Send + Sync {
    /// Stable machine id (`jpeg`, `webp-lossless`): used in the CLI and in links.
    fn id(&self) -> &'static str;
    /// Human name for the UI.
    fn name(&self) -> &'static str;
    fn modality(&self) -> Modality;
    /// True when decode(encode(x)) == x bit for bit.
    fn lossless(&self) -> bool;
    /// File extension of the encoded bytes.
    fn extension(&self) -> &'static str;
    /// MIME type of the encoded bytes.
    fn mime(&self) -> &'static str;
    /// The parameter schema.
    fn params(&self) -> Vec<ParamSpec>;
    /// Encodes with already-resolved parameters.
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>>;
    /// Decodes bytes this codec produced (or any valid file of its format).
    fn decode(&self, bytes: &[u8]) -> Result<Media>;
    /// The parameter that sets a lossy codec's size, more of it giving more bytes (an int, or a
    /// choice whose options are listed in increasing order): what "aim for N bytes" searches
    /// ([`crate::target::aim`]). `None`: lossless, or one rate for a given input.
    fn rate_param(&self) -> Option<&'static str> {
        None
    }

    /// Validates `params` against the schema, then encodes.
    fn encode(&self, input: &Media, params: &Params) -> Result<Vec<u8>> {
        if input.modality() != self.modality() {
            return Err(Error::unsupported(
                self.id(),
                format!("it takes {:?} input, got {:?}", self.modality(), input.modality()),
            ));
        }
        let resolved = ResolvedParams::resolve(self.id(), &self.params(), params)?;
        self.encode_resolved(input, &resolved)
    }
}

/// Parses `name=value` pairs (from the CLI or a codec spec like `jpeg:quality=10,subsampling=4:2:0`).
/// Values are kept as strings here; [`ParamSpec::validate`] converts them to the schema's type.
pub fn parse_param_pairs<'a>(pairs: impl IntoIterator<Item = &'a str>) -> Result<Params> {
    let mut out = Params::new();
    for pair in pairs {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| Error::Invalid(format!("parameter '{pair}' is not name=value")))?;
        out.insert(k.trim().to_string(), ParamValue::Choice(v.trim().to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Vec<ParamSpec> {
        vec![
            ParamSpec::int("quality", "Quality", 1, 100, 75, "q"),
            ParamSpec::choice("subsampling", "Chroma", &["4:4:4", "4:2:0"], "4:2:0", "s"),
        ]
    }

    #[test]
    fn resolves_defaults_and_checks_ranges() {
        let r = ResolvedParams::resolve("jpeg", &schema(), &Params::new()).unwrap();
        assert_eq!(r.int("quality"), 75);
        assert_eq!(r.choice("subsampling"), "4:2:0");

        let given = parse_param_pairs(["quality=10", "subsampling=4:4:4"]).unwrap();
        let r = ResolvedParams::resolve("jpeg", &schema(), &given).unwrap();
        assert_eq!(r.int("quality"), 10);
        assert_eq!(r.choice("subsampling"), "4:4:4");

        for bad in [["quality=0"], ["quality=abc"], ["subsampling=4:1:1"], ["speed=3"]] {
            let given = parse_param_pairs(bad).unwrap();
            assert!(ResolvedParams::resolve("jpeg", &schema(), &given).is_err(), "{bad:?}");
        }
        assert!(parse_param_pairs(["quality"]).is_err());
    }

    #[test]
    fn values_roundtrip_json() {
        let p: Params = serde_json::from_str(r#"{"quality": 10, "subsampling": "4:2:0"}"#).unwrap();
        let r = ResolvedParams::resolve("jpeg", &schema(), &p).unwrap();
        assert_eq!(r.int("quality"), 10);
        let s = serde_json::to_string(r.as_params()).unwrap();
        assert_eq!(s, r#"{"quality":10,"subsampling":"4:2:0"}"#);
    }
}
