//! Data sets: the IDX reader, Fashion-MNIST from `data/fashion-mnist` (fetched by
//! `scripts/fetch-data.sh`), and the compact labelled-image format of committed test subsets.

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

/// Magic bytes of the subset format.
const SUBSET_MAGIC: &[u8; 8] = b"MPQLIMG1";

/// Encodes labelled images compactly: `MPQLIMG1`, then n, rows, cols as u32 little-endian,
/// then n label bytes, then n × rows × cols pixel bytes.
pub fn encode_subset(set: &LabeledImages) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + set.labels.len() + set.pixels.len());
    out.extend_from_slice(SUBSET_MAGIC);
    for v in [set.len(), set.rows, set.cols] {
        out.extend_from_slice(&(v as u32).to_le_bytes());
    }
    out.extend_from_slice(&set.labels);
    out.extend_from_slice(&set.pixels);
    out
}

/// Decodes [`encode_subset`]'s format, checking every size.
pub fn decode_subset(bytes: &[u8]) -> Result<LabeledImages, DataError> {
    let bad = |m: &str| DataError::Subset(m.to_string());
    if bytes.len() < 20 || &bytes[..8] != SUBSET_MAGIC {
        return Err(bad("missing MPQLIMG1 header"));
    }
    let u = |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize;
    let (n, rows, cols) = (u(8), u(12), u(16));
    let body = n
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .and_then(|v| v.checked_add(n))
        .ok_or_else(|| bad("sizes overflow"))?;
    if bytes.len() - 20 != body {
        return Err(bad(&format!("{} body bytes, header says {body}", bytes.len() - 20)));
    }
    let labels = bytes[20..20 + n].to_vec();
    if labels.iter().any(|&l| l >= 10) {
        return Err(bad("label out of range"));
    }
    Ok(LabeledImages { rows, cols, labels, pixels: bytes[20 + n..].to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_round_trips_and_rejects_damage() {
        let set = LabeledImages { rows: 2, cols: 3, pixels: (0..12).collect(), labels: vec![3, 9] };
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
}
