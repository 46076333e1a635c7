//! The checkpoints this build carries (`crates/models/weights/lm-*.lmw`, trained by `mpqlab
//! train lm`; their card is `crates/models/weights/README.md`), parsed once on first use.

use std::sync::OnceLock;

use mpq_core::{Error, Result};

use super::net::{Weights, fnv1a};

/// Name and weight file of each checkpoint, the default first: one training run of a 256-unit
/// GRU, kept after each of its three epochs (so the checkpoints differ by training alone).
pub const CHECKPOINTS: [(&str, &[u8]); 3] = [
    ("gru256-e3", include_bytes!("../../../../models/weights/lm-gru256-e3.lmw")),
    ("gru256-e2", include_bytes!("../../../../models/weights/lm-gru256-e2.lmw")),
    ("gru256-e1", include_bytes!("../../../../models/weights/lm-gru256-e1.lmw")),
];

/// The default checkpoint's name.
pub const DEFAULT: &str = CHECKPOINTS[0].0;

static PARSED: [OnceLock<std::result::Result<(Weights, u64), Error>>; CHECKPOINTS.len()] = [const { OnceLock::new() }; CHECKPOINTS.len()];

/// A bundled checkpoint's weights and fingerprint, by name.
pub fn checkpoint(name: &str) -> Result<&'static (Weights, u64)> {
    let i = CHECKPOINTS.iter().position(|(n, _)| *n == name).ok_or_else(|| {
        Error::Invalid(format!(
            "no language model '{name}' in this build (it has {})",
            CHECKPOINTS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        ))
    })?;
    PARSED[i]
        .get_or_init(|| {
            let w = Weights::from_bytes(CHECKPOINTS[i].1)?;
            if w.name != name {
                return Err(Error::Invalid(format!("the bundled weights of '{name}' are named '{}'", w.name)));
            }
            Ok((w, fnv1a(CHECKPOINTS[i].1)))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The checkpoints' names, the default first.
pub fn names() -> Vec<&'static str> {
    CHECKPOINTS.iter().map(|(n, _)| *n).collect()
}
