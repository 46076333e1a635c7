//! The text lab's experiment: the input and two sides (every text codec's table is always
//! shown, so it is not a setting).
//!
//! Link keys of version 1 (each omitted when at its default):
//!
//! | key | value | default |
//! |---|---|---|
//! | `in` | `gallery:ID` · `paste:BASE64URL` (the pasted text itself, deflated: texts of up to [`MAX_PASTE_BYTES`]) · `file:SHA256:SIZE:NAME` (a dropped file, or a longer paste) | `gallery:doyle-scandal-in-bohemia` |
//! | `l`, `r` | left / right side: `CODEC[:NAME=VALUE,…]` (only the settings given) | `ppmd`, `lm` |

use serde::{Deserialize, Serialize};

use super::image::{FileRef, Input, Side};
use super::{LinkError, Pairs, shorten};
use crate::codec::Params;

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
}

impl Default for TextExperiment {
    /// Version 1's defaults (see the module docs): changing one changes what old links mean.
    fn default() -> Self {
        TextExperiment {
            input: TextInput::Gallery { id: "doyle-scandal-in-bohemia".into() },
            sides: [Side { codec: "ppmd".into(), params: Params::new() }, Side { codec: "lm".into(), params: Params::new() }],
        }
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

impl TextInput {
    pub fn to_link_value(&self) -> String {
        use base64::Engine as _;
        match self {
            TextInput::Gallery { id } => format!("gallery:{id}"),
            TextInput::Paste { text } => format!("paste:{}", b64().encode(miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 10))),
            TextInput::File(f) => Input::File(f.clone()).to_link_value(),
        }
    }

    fn read(s: &str) -> Result<TextInput, LinkError> {
        use base64::Engine as _;
        let bad = |reason: String| LinkError::bad("in", reason);
        if let Some(packed) = s.strip_prefix("paste:") {
            let packed = b64().decode(packed.trim_end_matches('=')).map_err(|_| bad("a pasted text is base64url".into()))?;
            let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_PASTE_BYTES).map_err(|e| match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => bad(format!("a pasted text in a link is at most {MAX_PASTE_BYTES} bytes")),
                _ => bad("the pasted text is damaged (not deflate data)".into()),
            })?;
            let text = String::from_utf8(bytes).map_err(|_| bad("the pasted text is not UTF-8".into()))?;
            return Ok(TextInput::Paste { text });
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
    }

    /// Version 1's keys over version 1's defaults.
    pub(super) fn read_v1(p: &mut Pairs) -> Result<TextExperiment, LinkError> {
        let mut e = TextExperiment::default();
        if let Some(v) = p.take("in") {
            e.input = TextInput::read(&v)?;
        }
        super::image::sides::read(p, &mut e.sides)?;
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
        e.sides[0] = Side { codec: "xz".into(), params: Params::from([("level".into(), ParamValue::Int(9))]) };
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
        ] {
            let err = Experiment::parse(&link).expect_err(&link).to_string();
            assert!(err.contains(want), "{link}: {err}");
        }
    }
}
