//! What a text codec cost, and whether it gave the text back: the numbers of the text lab's
//! codec table (the page) and of `mpqlab eval FILE -c CODEC` (the command line).

use mpq_core::Params;
use serde::Serialize;

/// One codec's result on one text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextReport {
    pub codec: String,
    pub params: Params,
    /// The text's length in bytes.
    pub original_bytes: usize,
    /// The encoded stream's length, headers included.
    pub bytes: usize,
    /// 8 × bytes / original bytes (`null` for an empty text).
    pub bits_per_byte: Option<f64>,
    /// Original bytes over encoded bytes.
    pub compression_ratio: f64,
    /// The decoded bytes equal the original's, every one.
    pub round_trip: bool,
    pub encode_ms: f64,
    pub decode_ms: f64,
}

impl TextReport {
    /// Measures one codec's result. Timings are passed in because clocks are platform-specific.
    pub fn measure(codec: &str, params: &Params, original: &[u8], decoded: &[u8], encoded_bytes: usize, encode_ms: f64, decode_ms: f64) -> TextReport {
        TextReport {
            codec: codec.to_string(),
            params: params.clone(),
            original_bytes: original.len(),
            bytes: encoded_bytes,
            bits_per_byte: (!original.is_empty()).then(|| 8.0 * encoded_bytes as f64 / original.len() as f64),
            compression_ratio: original.len() as f64 / encoded_bytes.max(1) as f64,
            round_trip: original == decoded,
            encode_ms,
            decode_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rates_and_the_round_trip() {
        let r = TextReport::measure("gzip", &Params::new(), b"aaaa", b"aaaa", 2, 1.0, 0.5);
        assert_eq!((r.bits_per_byte, r.compression_ratio, r.round_trip), (Some(4.0), 2.0, true));
        let r = TextReport::measure("gzip", &Params::new(), b"", b"x", 20, 1.0, 0.5);
        assert_eq!((r.bits_per_byte, r.round_trip), (None, false));
    }
}
