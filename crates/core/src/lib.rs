//! mpqlab core: the plain data every other crate speaks.
//!
//! * [`media`]: images (RGB8/RGBA8/Gray8), audio and text as plain buffers.
//! * [`codec`]: the [`Codec`] trait, its parameter schema and parameter values.
//! * [`error`]: typed errors; nothing in mpqlab panics on bad input.
//! * [`limits`]: size bounds applied to every input before any work is done.

pub mod codec;
pub mod error;
pub mod limits;
pub mod media;

pub use codec::{Codec, Modality, ParamKind, ParamSpec, ParamValue, Params};
pub use error::{Error, Result};
pub use media::{Audio, Image, Media, PixelFormat, Text};
