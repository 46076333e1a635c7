//! A byte-oriented range coder with adaptive multi-symbol models: the entropy coder of our
//! MDCT codec (`audio::mdct`).
//!
//! Written here rather than taken from a crate: the codec's rate control needs to price a
//! frame before coding it (the exact cost of every symbol under the *current* adaptive
//! models, on cloned model state) and then code it with those same models; the maintained
//! entropy-coding crates either code fixed, pre-built distributions (constriction, rANS
//! crates) or binary decisions only (LZMA's coder in lzma-rust2), and none exposes the model
//! state to clone. The coder is the classic carry-propagating design of LZMA's rc (Subbotin's
//! range coder with a cache byte): 32-bit range, renormalised a byte at a time when it falls
//! below 2²⁴; totals are at most 2¹⁶.
//!
//! The decoder never panics: reading past the end of the input yields zero bytes (a damaged
//! stream decodes to some symbols, which the codec's own limits then bound).

/// The largest total of a model's frequencies.
pub const MAX_TOTAL: u32 = 1 << 16;
const TOP: u32 = 1 << 24;

/// Encodes symbols into bytes.
#[derive(Debug, Clone)]
pub struct Encoder {
    low: u64,
    range: u32,
    cache: u8,
    cache_size: u64,
    out: Vec<u8>,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    pub fn new() -> Self {
        Encoder { low: 0, range: u32::MAX, cache: 0, cache_size: 1, out: Vec::new() }
    }

    /// Codes the interval `[cum, cum + freq)` of `total` (`freq > 0`, `cum + freq <= total <=
    /// MAX_TOTAL`).
    pub fn encode(&mut self, cum: u32, freq: u32, total: u32) {
        debug_assert!(freq > 0 && cum + freq <= total && total <= MAX_TOTAL);
        let r = self.range / total;
        self.low += r as u64 * cum as u64;
        self.range = r * freq;
        while self.range < TOP {
            self.range <<= 8;
            self.shift_low();
        }
    }

    /// `bits` (≤ 16) raw bits of `value`, each value equally likely.
    pub fn encode_bits(&mut self, value: u32, bits: u32) {
        debug_assert!(bits <= 16 && value < 1 << bits);
        self.encode(value, 1, 1 << bits);
    }

    fn shift_low(&mut self) {
        if (self.low as u32) < 0xFF00_0000 || (self.low >> 32) != 0 {
            let carry = (self.low >> 32) as u8;
            let mut byte = self.cache;
            loop {
                self.out.push(byte.wrapping_add(carry));
                byte = 0xFF;
                self.cache_size -= 1;
                if self.cache_size == 0 {
                    break;
                }
            }
            self.cache = (self.low >> 24) as u8;
        }
        self.cache_size += 1;
        self.low = (self.low & 0x00FF_FFFF) << 8;
    }

    /// Flushes the coder and returns the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        for _ in 0..5 {
            self.shift_low();
        }
        self.out
    }
}

/// Decodes what an [`Encoder`] wrote.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    range: u32,
    code: u32,
    /// `range / total` of the pending symbol (between [`Decoder::target`] and
    /// [`Decoder::consume`]).
    step: u32,
}

impl<'a> Decoder<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        let mut d = Decoder { input, pos: 0, range: u32::MAX, code: 0, step: 1 };
        // The encoder's first byte is its initial cache (always 0); then 4 bytes of code.
        d.next_byte();
        for _ in 0..4 {
            d.code = (d.code << 8) | d.next_byte() as u32;
        }
        d
    }

    fn next_byte(&mut self) -> u8 {
        let b = self.input.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// Bytes read so far, past the end included.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The cumulative frequency the next symbol's interval contains (below `total`).
    pub fn target(&mut self, total: u32) -> u32 {
        self.step = (self.range / total.max(1)).max(1);
        (self.code / self.step).min(total.max(1) - 1)
    }

    /// Takes the symbol `[cum, cum + freq)` found from [`Decoder::target`] off the stream.
    pub fn consume(&mut self, cum: u32, freq: u32) {
        self.code = self.code.wrapping_sub(self.step.wrapping_mul(cum));
        self.range = self.step.wrapping_mul(freq).max(1);
        while self.range < TOP {
            self.range <<= 8;
            self.code = (self.code << 8) | self.next_byte() as u32;
        }
    }

    /// `bits` (≤ 16) raw bits.
    pub fn decode_bits(&mut self, bits: u32) -> u32 {
        let v = self.target(1 << bits);
        self.consume(v, 1);
        v
    }
}

/// An adaptive frequency model over `0..n` symbols: counts start equal, each coded symbol
/// adds [`AdaptiveModel::INCREMENT`], and all counts halve when the total would pass
/// [`MAX_TOTAL`], so the model follows the recent statistics.
#[derive(Debug, Clone)]
pub struct AdaptiveModel {
    freq: Vec<u32>,
    total: u32,
}

impl AdaptiveModel {
    pub const INCREMENT: u32 = 24;

    pub fn new(symbols: usize) -> Self {
        assert!((1..=1024).contains(&symbols), "a model of {symbols} symbols");
        AdaptiveModel { freq: vec![1; symbols], total: symbols as u32 }
    }

    pub fn symbols(&self) -> usize {
        self.freq.len()
    }

    fn cum(&self, symbol: usize) -> u32 {
        self.freq[..symbol].iter().sum()
    }

    fn update(&mut self, symbol: usize) {
        self.freq[symbol] += Self::INCREMENT;
        self.total += Self::INCREMENT;
        if self.total > MAX_TOTAL {
            self.total = 0;
            for f in &mut self.freq {
                *f = (*f + 1) / 2;
                self.total += *f;
            }
        }
    }

    /// The cost of `symbol` now, in bits (what coding it would add).
    pub fn cost(&self, symbol: usize) -> f64 {
        (self.total as f64 / self.freq[symbol] as f64).log2()
    }

    /// Codes `symbol` and adapts.
    pub fn encode(&mut self, enc: &mut Encoder, symbol: usize) {
        enc.encode(self.cum(symbol), self.freq[symbol], self.total);
        self.update(symbol);
    }

    /// Prices `symbol` (bits) and adapts as [`AdaptiveModel::encode`] would.
    pub fn price(&mut self, symbol: usize) -> f64 {
        let c = self.cost(symbol);
        self.update(symbol);
        c
    }

    /// Decodes a symbol and adapts.
    pub fn decode(&mut self, dec: &mut Decoder) -> usize {
        let target = dec.target(self.total);
        let mut cum = 0;
        let mut symbol = 0;
        while symbol + 1 < self.freq.len() && cum + self.freq[symbol] <= target {
            cum += self.freq[symbol];
            symbol += 1;
        }
        dec.consume(cum, self.freq[symbol]);
        self.update(symbol);
        symbol
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: usize, seed: u64) -> Vec<usize> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                // Skewed: mostly small symbols, as quantised coefficients are.
                let r = (s >> 33) as usize % 100;
                if r < 60 { 0 } else if r < 85 { 1 } else { r % 12 }
            })
            .collect()
    }

    #[test]
    fn symbols_and_raw_bits_round_trip() {
        for seed in 0..4 {
            let symbols = stream(20_000, seed);
            let mut enc = Encoder::new();
            let mut model = AdaptiveModel::new(12);
            let mut priced = model.clone();
            let mut bits = 0.0;
            for (i, &s) in symbols.iter().enumerate() {
                model.encode(&mut enc, s);
                bits += priced.price(s);
                enc.encode_bits((i * 7919 % 65536) as u32, 16);
                bits += 16.0;
            }
            let bytes = enc.finish();
            // The price is the coded size to within the coder's flush and rounding.
            assert!((bytes.len() as f64 * 8.0 - bits).abs() < 0.01 * bits + 64.0, "{} bytes, {bits} bits", bytes.len());
            let mut dec = Decoder::new(&bytes);
            let mut model = AdaptiveModel::new(12);
            for (i, &s) in symbols.iter().enumerate() {
                assert_eq!(model.decode(&mut dec), s, "symbol {i}");
                assert_eq!(dec.decode_bits(16), (i * 7919 % 65536) as u32);
            }
        }
    }

    #[test]
    fn carries_propagate() {
        // Long runs of the most probable symbol at the top of the range force 0xFF runs and
        // carries into them.
        let mut enc = Encoder::new();
        let mut model = AdaptiveModel::new(2);
        let symbols: Vec<usize> = (0..50_000).map(|i| usize::from(i % 997 == 0)).collect();
        for &s in &symbols {
            model.encode(&mut enc, 1 - s);
        }
        let bytes = enc.finish();
        let mut dec = Decoder::new(&bytes);
        let mut model = AdaptiveModel::new(2);
        assert!(symbols.iter().all(|&s| model.decode(&mut dec) == 1 - s));
    }

    #[test]
    fn garbage_decodes_without_panicking() {
        for len in [0usize, 1, 3, 17, 400] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 151 % 256) as u8 ^ 0xA5).collect();
            let mut dec = Decoder::new(&bytes);
            let mut model = AdaptiveModel::new(16);
            for _ in 0..1000 {
                assert!(model.decode(&mut dec) < 16);
                assert!(dec.decode_bits(9) < 512);
            }
        }
    }
}
