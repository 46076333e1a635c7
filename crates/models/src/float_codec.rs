//! Lossless compression of f16 / bf16 weights in the spirit of DFloat11: the exponent field of
//! trained weights takes few distinct values with a very skewed distribution, so it is coded
//! with a canonical Huffman code, while the sign and mantissa bits (close to uniformly
//! random) are stored raw. Decoding gives back every bit.
//!
//! Written here because no crate codes one bit field of packed floats this way; the Huffman
//! coder is small and canonical (code lengths only in the header), limited to 24-bit codes.
//!
//! Layout: magic `MPQDF\x01`, kind byte (0 = f16, 1 = bf16), value count (u64 LE), one code
//! length per exponent symbol (32 for f16, 256 for bf16), then the bit stream (MSB first):
//! per value, the exponent's code followed by its raw sign+mantissa bits.

use crate::ModelError;

/// Which 16-bit float the values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    /// IEEE binary16: 1 sign, 5 exponent, 10 mantissa bits.
    F16,
    /// bfloat16: 1 sign, 8 exponent, 7 mantissa bits.
    Bf16,
}

impl Half {
    fn exp_bits(self) -> u32 {
        match self {
            Half::F16 => 5,
            Half::Bf16 => 8,
        }
    }
    fn mant_bits(self) -> u32 {
        15 - self.exp_bits()
    }
    fn symbols(self) -> usize {
        1 << self.exp_bits()
    }
    fn split(self, v: u16) -> (usize, u32) {
        let m = self.mant_bits();
        let exp = ((v >> m) as usize) & (self.symbols() - 1);
        let raw = (((v >> 15) as u32) << m) | (v as u32 & ((1 << m) - 1));
        (exp, raw)
    }
    fn join(self, exp: usize, raw: u32) -> u16 {
        let m = self.mant_bits();
        let sign = (raw >> m) as u16 & 1;
        (sign << 15) | ((exp as u16) << m) | (raw as u16 & ((1u16 << m) - 1))
    }
}

const MAGIC: &[u8; 6] = b"MPQDF\x01";
const MAX_LEN: u8 = 24;
/// Bound on decoded values (a model far larger than anything bundled), checked before allocating.
pub const MAX_VALUES: u64 = 1 << 28;

/// Huffman code lengths for `counts`, limited to [`MAX_LEN`] bits (by flattening the counts
/// and rebuilding, which only happens for pathological distributions).
fn code_lengths(counts: &[u64]) -> Vec<u8> {
    let mut counts = counts.to_vec();
    loop {
        let mut lens = vec![0u8; counts.len()];
        let used: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] > 0).collect();
        match used.len() {
            0 => return lens,
            1 => {
                lens[used[0]] = 1;
                return lens;
            }
            _ => {}
        }
        // Classic Huffman with a min-heap of (weight, node); leaves are 0..n, inner nodes after.
        let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<(u64, usize)>> =
            used.iter().map(|&i| std::cmp::Reverse((counts[i], i))).collect();
        let mut parent = vec![usize::MAX; counts.len()];
        let mut next = counts.len();
        let mut inner_parent = Vec::new();
        while heap.len() > 1 {
            let std::cmp::Reverse((wa, a)) = heap.pop().expect("len > 1");
            let std::cmp::Reverse((wb, b)) = heap.pop().expect("len > 1");
            for child in [a, b] {
                if child < counts.len() {
                    parent[child] = next;
                } else {
                    inner_parent[child - counts.len()] = next;
                }
            }
            inner_parent.push(usize::MAX);
            heap.push(std::cmp::Reverse((wa + wb, next)));
            next += 1;
        }
        let depth_of_inner = |mut node: usize| {
            let mut d = 0u32;
            while node != usize::MAX {
                d += 1;
                node = inner_parent[node - counts.len()];
            }
            d
        };
        let mut too_long = false;
        for &i in &used {
            let d = depth_of_inner(parent[i]);
            if d > MAX_LEN as u32 {
                too_long = true;
            }
            lens[i] = d.min(255) as u8;
        }
        if !too_long {
            return lens;
        }
        for c in counts.iter_mut().filter(|c| **c > 0) {
            *c = (*c >> 1) | 1;
        }
    }
}

/// Canonical codes from lengths: (code, length) per symbol.
fn canonical(lens: &[u8]) -> Vec<(u32, u8)> {
    let mut order: Vec<usize> = (0..lens.len()).filter(|&i| lens[i] > 0).collect();
    order.sort_by_key(|&i| (lens[i], i));
    let mut codes = vec![(0u32, 0u8); lens.len()];
    let (mut code, mut prev) = (0u32, 0u8);
    for (k, &i) in order.iter().enumerate() {
        if k > 0 {
            code = (code + 1) << (lens[i] - prev);
        } else {
            code <<= lens[i];
        }
        prev = lens[i];
        codes[i] = (code, lens[i]);
    }
    codes
}

struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, bits: u32) {
        self.acc = (self.acc << bits) | (value as u64 & ((1u64 << bits) - 1));
        self.n += bits;
        while self.n >= 8 {
            self.n -= 8;
            self.out.push((self.acc >> self.n) as u8);
        }
    }
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push((self.acc << (8 - self.n)) as u8);
        }
        self.out
    }
}

/// Compresses 16-bit floats (given as their bit patterns).
pub fn encode(values: &[u16], kind: Half) -> Vec<u8> {
    let mut counts = vec![0u64; kind.symbols()];
    for &v in values {
        counts[kind.split(v).0] += 1;
    }
    let lens = code_lengths(&counts);
    let codes = canonical(&lens);
    let mut w = BitWriter { out: Vec::with_capacity(values.len() * 2), acc: 0, n: 0 };
    w.out.extend_from_slice(MAGIC);
    w.out.push(if kind == Half::F16 { 0 } else { 1 });
    w.out.extend_from_slice(&(values.len() as u64).to_le_bytes());
    w.out.extend_from_slice(&lens);
    for &v in values {
        let (exp, raw) = kind.split(v);
        let (code, len) = codes[exp];
        w.put(code, len as u32);
        w.put(raw, kind.mant_bits() + 1);
    }
    w.finish()
}

/// Restores the exact bit patterns [`encode`] was given.
pub fn decode(bytes: &[u8]) -> Result<(Half, Vec<u16>), ModelError> {
    let bad = |why: &str| ModelError::Weights(format!("not a valid compressed-float stream: {why}"));
    if bytes.len() < 15 || &bytes[..6] != MAGIC {
        return Err(bad("missing header"));
    }
    let kind = match bytes[6] {
        0 => Half::F16,
        1 => Half::Bf16,
        _ => return Err(bad("unknown float kind")),
    };
    let count = u64::from_le_bytes(bytes[7..15].try_into().expect("8 bytes"));
    if count > MAX_VALUES {
        return Err(bad("too many values"));
    }
    let nsym = kind.symbols();
    let lens = bytes.get(15..15 + nsym).ok_or_else(|| bad("truncated code table"))?;
    if lens.iter().any(|&l| l > MAX_LEN) {
        return Err(bad("code too long"));
    }
    // Kraft check: a valid (complete or single-symbol) prefix code.
    let kraft: u64 = lens.iter().filter(|&&l| l > 0).map(|&l| 1u64 << (MAX_LEN - l)).sum();
    if count > 0 && (kraft > 1 << MAX_LEN || kraft == 0) {
        return Err(bad("inconsistent code table"));
    }
    // Canonical decoding tables: per length, the first code and the symbols in order.
    let mut order: Vec<usize> = (0..nsym).filter(|&i| lens[i] > 0).collect();
    order.sort_by_key(|&i| (lens[i], i));
    let mut first_code = [0u32; MAX_LEN as usize + 2];
    let mut first_index = [0usize; MAX_LEN as usize + 2];
    let mut count_len = [0u32; MAX_LEN as usize + 2];
    for &i in &order {
        count_len[lens[i] as usize] += 1;
    }
    let (mut code, mut index) = (0u32, 0usize);
    for len in 1..=MAX_LEN as usize {
        first_code[len] = code;
        first_index[len] = index;
        code = (code + count_len[len]) << 1;
        index += count_len[len] as usize;
    }
    let data = &bytes[15 + nsym..];
    // Every value needs at least one bit per code and its raw bits: bound before allocating.
    let min_bits = count * (1 + kind.mant_bits() as u64 + 1);
    if (data.len() as u64) * 8 < min_bits {
        return Err(bad("truncated data"));
    }
    let mut pos = 0usize; // bit position
    let bit = |pos: usize| -> Option<u32> { data.get(pos / 8).map(|b| ((b >> (7 - pos % 8)) & 1) as u32) };
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let (mut c, mut len) = (0u32, 0usize);
        let exp = loop {
            c = (c << 1) | bit(pos).ok_or_else(|| bad("truncated data"))?;
            pos += 1;
            len += 1;
            if len > MAX_LEN as usize {
                return Err(bad("invalid code"));
            }
            if count_len[len] > 0 && c >= first_code[len] && c - first_code[len] < count_len[len] {
                break order[first_index[len] + (c - first_code[len]) as usize];
            }
        };
        let mut raw = 0u32;
        for _ in 0..=kind.mant_bits() {
            raw = (raw << 1) | bit(pos).ok_or_else(|| bad("truncated data"))?;
            pos += 1;
        }
        out.push(kind.join(exp, raw));
    }
    Ok((kind, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed | 1;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    #[test]
    fn roundtrips_every_bit_pattern_and_random_data() {
        let all: Vec<u16> = (0..=u16::MAX).collect();
        for kind in [Half::F16, Half::Bf16] {
            assert_eq!(decode(&encode(&all, kind)).unwrap(), (kind, all.clone()));
            let mut r = xorshift(7);
            let random: Vec<u16> = (0..5000).map(|_| r() as u16).collect();
            assert_eq!(decode(&encode(&random, kind)).unwrap().1, random);
            assert_eq!(decode(&encode(&[], kind)).unwrap().1, Vec::<u16>::new());
            assert_eq!(decode(&encode(&[0x3c00; 9], kind)).unwrap().1, vec![0x3c00; 9]);
        }
    }

    #[test]
    fn weight_like_values_shrink_below_16_bits() {
        // Gaussian-ish weights (sum of uniforms), scale 0.05: exponents cluster.
        let mut r = xorshift(3);
        let w: Vec<u16> = (0..20000)
            .map(|_| {
                let g: f32 = (0..4).map(|_| (r() % 10000) as f32 / 10000.0 - 0.5).sum::<f32>() * 0.05;
                half_bits(g)
            })
            .collect();
        let packed = encode(&w, Half::F16);
        assert_eq!(decode(&packed).unwrap().1, w);
        let bits_per_weight = 8.0 * packed.len() as f64 / w.len() as f64;
        assert!(bits_per_weight < 14.5, "{bits_per_weight} bits per weight");
    }

    /// f32 → f16 bits, round to nearest even (enough for tests; normal range only).
    fn half_bits(x: f32) -> u16 {
        let b = x.to_bits();
        let sign = ((b >> 16) & 0x8000) as u16;
        let exp = ((b >> 23) & 0xff) as i32 - 127 + 15;
        if exp <= 0 {
            return sign;
        }
        let mant = b & 0x7fffff;
        let mut h = ((exp as u32) << 10) | (mant >> 13);
        let rest = mant & 0x1fff;
        if rest > 0x1000 || (rest == 0x1000 && h & 1 == 1) {
            h += 1;
        }
        sign | h as u16
    }

    #[test]
    fn bad_streams_are_errors() {
        let good = encode(&[0x3c00, 0x4000, 0xbc00, 0x0001], Half::F16);
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut r = xorshift(11);
        for _ in 0..2000 {
            let mut b = good.clone();
            let i = (r() as usize) % b.len();
            b[i] ^= (r() as u8) | 1;
            let _ = decode(&b); // never panics
        }
        let mut huge = good.clone();
        huge[7..15].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(&huge).is_err());
    }
}
