//! mpqlab core: the plain data every other crate speaks.
//!
//! * [`media`]: images (RGB8/RGBA8/Gray8), audio and text as plain buffers.
//! * [`codec`]: the [`Codec`] trait, its parameter schema and parameter values.
//! * [`error`]: typed errors; nothing in mpqlab panics on bad input.
//! * [`limits`]: size bounds applied to every input before any work is done.
//! * [`experiment`]: what a lab shows, versioned: the page's state and its share link.
//! * [`sweep`]: what a user types to describe a rate–perception sweep (`jpeg:quality=1..95:8`).

pub mod codec;
pub mod error;
pub mod experiment;
pub mod export;
pub mod limits;
pub mod media;
pub mod sweep;
pub mod target;

pub use codec::{Codec, Modality, ParamKind, ParamSpec, ParamValue, Params};
pub use error::{Error, Result};
pub use experiment::Experiment;
pub use media::{Audio, Image, Media, PixelFormat, Text};
pub use sweep::CodecSweep;
