//! The IDX format of (Fashion-)MNIST: a big-endian header — two zero bytes, a type code, the
//! number of dimensions, one u32 per dimension — then the values. Only unsigned-byte data
//! (type 0x08) is read, which is what both data sets use. Every size is checked against the
//! bytes actually present and against [`MAX_IDX_BYTES`]; bad input is an error, never a panic.

use std::io::Read;

/// The largest payload accepted (the Fashion-MNIST training images are 47 MB).
pub const MAX_IDX_BYTES: usize = 256 * 1024 * 1024;

/// What can be wrong with an IDX file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdxError {
    #[error("not an IDX file: too short ({0} bytes)")]
    TooShort(usize),
    #[error("not an IDX file: bad magic {0:02x?}")]
    BadMagic([u8; 4]),
    #[error("IDX value type 0x{0:02x} is not supported (only unsigned bytes, 0x08)")]
    UnsupportedType(u8),
    #[error("IDX file has {0} dimensions, expected {1}")]
    Rank(usize, usize),
    #[error("IDX dimensions {0:?} are not the expected {1}")]
    Shape(Vec<usize>, String),
    #[error("IDX payload of {0:?} is too large")]
    TooLarge(Vec<usize>),
    #[error("IDX payload has {got} bytes, the header says {expected}")]
    Length { expected: usize, got: usize },
    #[error("cannot decompress the gzip stream: {0}")]
    Gzip(String),
    #[error("{0} images but {1} labels")]
    CountMismatch(usize, usize),
    #[error("label {0} is out of range (10 classes)")]
    Label(u8),
}

/// An unsigned-byte IDX array: its dimensions and values (row-major).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Parses an (uncompressed) IDX file.
pub fn parse(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    if bytes.len() < 4 {
        return Err(IdxError::TooShort(bytes.len()));
    }
    let magic = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if magic[0] != 0 || magic[1] != 0 || magic[3] == 0 || magic[3] > 4 {
        return Err(IdxError::BadMagic(magic));
    }
    if magic[2] != 0x08 {
        return Err(IdxError::UnsupportedType(magic[2]));
    }
    let rank = magic[3] as usize;
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(IdxError::TooShort(bytes.len()));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_IDX_BYTES)
        .ok_or_else(|| IdxError::TooLarge(dims.clone()))?;
    let payload = &bytes[header..];
    if payload.len() != expected {
        return Err(IdxError::Length { expected, got: payload.len() });
    }
    Ok(IdxArray { dims, data: payload.to_vec() })
}

/// Decompresses a gzip stream (at most [`MAX_IDX_BYTES`] plus a header) and parses it.
pub fn parse_gz(gz: &[u8]) -> Result<IdxArray, IdxError> {
    let mut out = Vec::new();
    let limit = (MAX_IDX_BYTES + 64) as u64;
    flate2::read::GzDecoder::new(gz)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| IdxError::Gzip(e.to_string()))?;
    if out.len() as u64 > limit {
        return Err(IdxError::Gzip("decompressed data too large".into()));
    }
    parse(&out)
}

/// Images of `rows × cols` pixels of `channels` interleaved bytes each (1 = gray, 3 = RGB),
/// with a label each: the (Fashion-)MNIST layout, generalised to colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabeledImages {
    pub rows: usize,
    pub cols: usize,
    /// Bytes per pixel: 1 (gray, 0 = black) or 3 (RGB, interleaved).
    pub channels: usize,
    /// `len() × rows × cols × channels` bytes, row-major, channels interleaved.
    pub pixels: Vec<u8>,
    /// One class index (< 10) per image.
    pub labels: Vec<u8>,
}

impl LabeledImages {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// Bytes of one image (`rows × cols × channels`).
    pub fn item_bytes(&self) -> usize {
        self.rows * self.cols * self.channels
    }
    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.item_bytes();
        &self.pixels[i * n..(i + 1) * n]
    }
    /// Image `i` as an [`Image`](mpq_core::Image) (gray or RGB), or an error for an index past
    /// the end.
    pub fn to_image(&self, i: usize) -> mpq_core::Result<mpq_core::Image> {
        if i >= self.len() {
            return Err(mpq_core::Error::Invalid(format!("this test subset has {} items, so there is no item {i}", self.len())));
        }
        let format = match self.channels {
            1 => mpq_core::PixelFormat::Gray8,
            3 => mpq_core::PixelFormat::Rgb8,
            _ => mpq_core::PixelFormat::Rgba8,
        };
        mpq_core::Image::new(self.cols as u32, self.rows as u32, format, self.image(i).to_vec())
    }

    /// The first `n` images (all if fewer).
    pub fn take(&self, n: usize) -> LabeledImages {
        let n = n.min(self.len());
        LabeledImages {
            rows: self.rows,
            cols: self.cols,
            channels: self.channels,
            pixels: self.pixels[..n * self.item_bytes()].to_vec(),
            labels: self.labels[..n].to_vec(),
        }
    }
    /// The images at `indices`, in that order (each index must be `< len()`).
    pub fn select(&self, indices: &[usize]) -> LabeledImages {
        let mut pixels = Vec::with_capacity(indices.len() * self.item_bytes());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        LabeledImages {
            rows: self.rows,
            cols: self.cols,
            channels: self.channels,
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }
}

/// Pairs an IDX image array (rank 3: n × rows × cols) with an IDX label array (rank 1: n,
/// values < `classes`).
pub fn labeled_images(images: IdxArray, labels: IdxArray, classes: u8) -> Result<LabeledImages, IdxError> {
    if images.dims.len() != 3 {
        return Err(IdxError::Rank(images.dims.len(), 3));
    }
    if labels.dims.len() != 1 {
        return Err(IdxError::Rank(labels.dims.len(), 1));
    }
    let (n, rows, cols) = (images.dims[0], images.dims[1], images.dims[2]);
    if labels.dims[0] != n {
        return Err(IdxError::CountMismatch(n, labels.dims[0]));
    }
    if let Some(&bad) = labels.data.iter().find(|&&l| l >= classes) {
        return Err(IdxError::Label(bad));
    }
    Ok(LabeledImages { rows, cols, channels: 1, pixels: images.data, labels: labels.data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn parses_a_small_array() {
        let a = parse(&idx(&[2, 3], &[1, 2, 3, 4, 5, 6])).unwrap();
        assert_eq!(a.dims, vec![2, 3]);
        assert_eq!(a.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        assert_eq!(parse(&[0, 0]), Err(IdxError::TooShort(2)));
        assert!(matches!(parse(&[1, 0, 8, 1, 0, 0, 0, 0]), Err(IdxError::BadMagic(_))));
        assert!(matches!(parse(&[0, 0, 8, 0]), Err(IdxError::BadMagic(_))));
        assert_eq!(parse(&[0, 0, 0x0d, 1, 0, 0, 0, 0]), Err(IdxError::UnsupportedType(0x0d)));
        assert_eq!(parse(&[0, 0, 8, 2, 0, 0, 0]), Err(IdxError::TooShort(7)));
        assert_eq!(parse(&idx(&[2, 3], &[1, 2, 3])), Err(IdxError::Length { expected: 6, got: 3 }));
        assert!(matches!(parse(&idx(&[u32::MAX, u32::MAX, u32::MAX], &[])), Err(IdxError::TooLarge(_))));
        assert!(matches!(parse_gz(b"not gzip"), Err(IdxError::Gzip(_))));
        // Every truncation of a valid file is an error.
        let good = idx(&[2, 2, 2], &[0; 8]);
        for n in 0..good.len() {
            assert!(parse(&good[..n]).is_err());
        }
    }

    #[test]
    fn pairs_images_and_labels() {
        let imgs = parse(&idx(&[2, 1, 2], &[1, 2, 3, 4])).unwrap();
        let labels = parse(&idx(&[2], &[0, 9])).unwrap();
        let l = labeled_images(imgs.clone(), labels, 10).unwrap();
        assert_eq!(l.image(1), &[3, 4]);
        assert_eq!(l.take(1).labels, vec![0]);
        let bad = parse(&idx(&[2], &[0, 10])).unwrap();
        assert_eq!(labeled_images(imgs.clone(), bad, 10), Err(IdxError::Label(10)));
        let short = parse(&idx(&[1], &[0])).unwrap();
        assert_eq!(labeled_images(imgs, short, 10), Err(IdxError::CountMismatch(2, 1)));
    }
}
