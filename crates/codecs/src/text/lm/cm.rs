//! The `lm` coder's predictor: the network's next-byte distribution, turned into one
//! probability per bit, mixed with adaptive context models that learn the text being coded —
//! the way paq and cmix combine models (a logistic mixer adapted online, then two adaptive
//! probability maps), written here because no crate offers such a mixer around a caller's own
//! model. Everything after the network is integer arithmetic, so it is exact on every
//! platform; the network's share is exact by [`super::math`]'s rules.
//!
//! Inputs to the mixer, each as a stretched probability (ln p/(1−p), 8 fractional bits):
//! * the network: P(next bit = 1 | the bits of this byte so far), summed from its 256
//!   probabilities;
//! * order 0 (the bits of this byte so far) and orders 1, 2, 3, 4 and 6 (the bytes before it),
//!   hashed into tables of adaptive counters;
//! * the current word (the letters since the last non-letter, case folded) and the word before
//!   it with the current one;
//! * a match model: the byte that followed the last occurrence of the preceding 6 bytes, with
//!   a confidence learned per match length;
//! * a constant (the mixer's bias).
//!
//! The mixer's weights are chosen by the bits of the byte so far and whether a match is
//! active; its output is refined by two adaptive probability maps (on the bits so far, and on
//! those with the previous byte), as in lpaq1 (Mahoney 2007).

use super::math::{squash, stretch};
use super::net::{State, Weights};

const ORDERS: [usize; 5] = [1, 2, 3, 4, 6];
/// Hashed models: the orders, the word, the word pair.
const HASHED: usize = ORDERS.len() + 2;
/// Mixer inputs: network, the network refined by the previous byte, order 0, the hashed
/// models, match, bias.
const INPUTS: usize = 2 + 1 + HASHED + 1 + 1;
const MATCH_MIN: usize = 6;
const MAX_MATCH: u32 = 31;

/// Reciprocal table of the counters' adaptation rate: 65536 / (n + 1.5).
const RECIP: [u32; 1024] = {
    let mut t = [0u32; 1024];
    let mut n = 0;
    while n < 1024 {
        t[n] = (65536 * 2 / (2 * n as u32 + 3)) as u32;
        n += 1;
    }
    t
};

/// An adaptive probability with its count: 22 bits of P(1), 10 bits of how often it was seen.
/// It moves by 1/(n + 1.5) towards each bit, n capped at `limit`, so it starts as a frequency
/// count and ends as an exponential average.
#[derive(Clone, Copy)]
struct Counter;

impl Counter {
    const INIT: u32 = (1 << 21) << 10;
    fn p12(s: u32) -> u32 {
        (s >> 20).clamp(1, 4095)
    }
    fn update(s: &mut u32, bit: u32, limit: u32) {
        let n = *s & 1023;
        let p = (*s >> 10) as i64;
        let target = if bit == 1 { (1i64 << 22) - 1 } else { 0 };
        let p = p + (((target - p) * RECIP[n as usize] as i64) >> 16);
        *s = ((p as u32) << 10) | (n + (n < limit) as u32);
    }
}

/// An adaptive probability map (lpaq1's APM): refines a probability given a context, by
/// interpolating between 33 adaptive points along the stretched probability.
struct Apm {
    t: Vec<u16>,
    idx: usize,
    rate: u32,
}

impl Apm {
    fn new(contexts: usize, rate: u32) -> Apm {
        let mut t = vec![0u16; contexts * 33];
        for (i, v) in t.iter_mut().enumerate() {
            *v = (squash(((i % 33) as i32 - 16) * 128) * 16) as u16;
        }
        Apm { t, idx: 0, rate }
    }
    fn refine(&mut self, p: u32, cx: usize) -> u32 {
        let s = stretch(p) + 2048;
        let (lo, w) = ((s >> 7) as usize, (s & 127) as u32);
        self.idx = cx * 33 + lo + (w >> 6) as usize;
        ((self.t[cx * 33 + lo] as u32 * (128 - w) + self.t[cx * 33 + lo + 1] as u32 * w) >> 11).clamp(1, 4095)
    }
    fn update(&mut self, bit: u32) {
        let g = ((bit << 16) + (bit << self.rate)) as i32 - (bit + bit) as i32;
        let v = &mut self.t[self.idx];
        *v = (*v as i32 + ((g - *v as i32) >> self.rate)) as u16;
    }
}

/// The whole model state for one chunk: call [`Predictor::p`], code the bit with it, then
/// [`Predictor::update`] with the bit.
pub struct Predictor<'w> {
    net: &'w Weights,
    state: State,
    /// The bits of the current byte so far, after a leading 1 (1…255).
    c0: u32,
    bit_pos: u32,
    history: Vec<u8>,
    /// Per hashed model: the context hash of the bytes before this one, and this bit's slot.
    ctx: [u32; HASHED],
    slot: [usize; HASHED],
    tables: Vec<Vec<u32>>,
    table_mask: usize,
    order0: Vec<u32>,
    word: u32,
    prev_word: u32,
    // Match model.
    match_table: Vec<u32>,
    match_mask: usize,
    match_ptr: usize,
    match_len: u32,
    match_counters: Vec<u32>,
    match_slot: usize,
    // Mixer.
    inputs: [i32; INPUTS],
    weights: Vec<i32>,
    weight_set: usize,
    mixed: u32,
    apm1: Apm,
    apm2: Apm,
    /// The network's probability refined by the bits so far and the previous byte.
    net_apm: Apm,
}

/// Table sizes for a chunk of `len` bytes: about two slots per bit coded, 2^16 … 2^22.
pub fn table_bits(len: usize) -> u32 {
    let bits = (len.max(1) * 16).next_power_of_two().trailing_zeros();
    bits.clamp(16, 22)
}

impl<'w> Predictor<'w> {
    pub fn new(net: &'w Weights, chunk_len: usize) -> Predictor<'w> {
        let tb = table_bits(chunk_len);
        let mut weights = vec![0i32; 512 * INPUTS];
        for set in weights.chunks_mut(INPUTS) {
            // The network starts trusted most; the counters learn their share.
            set[0] = 60_000;
            for w in &mut set[1..] {
                *w = 6_000;
            }
        }
        let mut p = Predictor {
            net,
            state: net.start(),
            c0: 1,
            bit_pos: 0,
            history: Vec::with_capacity(chunk_len),
            ctx: [0; HASHED],
            slot: [0; HASHED],
            tables: vec![vec![Counter::INIT; 1 << tb]; HASHED],
            table_mask: (1 << tb) - 1,
            order0: vec![Counter::INIT; 256],
            word: 0,
            prev_word: 0,
            match_table: vec![0; 1 << (tb - 2)],
            match_mask: (1 << (tb - 2)) - 1,
            match_ptr: 0,
            match_len: 0,
            match_counters: vec![Counter::INIT; 2 * (MAX_MATCH as usize + 1)],
            match_slot: 0,
            inputs: [0; INPUTS],
            weights,
            weight_set: 0,
            mixed: 2048,
            apm1: Apm::new(256, 7),
            apm2: Apm::new(65536, 7),
            net_apm: Apm::new(65536, 6),
        };
        p.begin_byte();
        p
    }

    /// The network's P(next bit = 1) given the bits of this byte so far: the mass of the byte
    /// values that continue with a 1 over the mass of those still possible (sums in a fixed
    /// order).
    fn network_p12(&self) -> u32 {
        let size = 256usize >> self.bit_pos;
        let lo = ((self.c0 as usize) - (1 << self.bit_pos)) << (8 - self.bit_pos);
        let half = size / 2;
        let mut zero = 0f32;
        for &p in &self.state.probs[lo..lo + half] {
            zero += p;
        }
        let mut one = 0f32;
        for &p in &self.state.probs[lo + half..lo + size] {
            one += p;
        }
        let p = one / (zero + one);
        ((p * 4096.0) as i32).clamp(1, 4095) as u32
    }

    /// The network's probabilities of the next byte (valid at a byte's start).
    pub fn network_probs(&self) -> &[f32] {
        &self.state.probs
    }

    /// P(next bit = 1), 12 bits (1…4095).
    pub fn p(&mut self) -> u32 {
        let c0 = self.c0;
        let mut x = [0i32; INPUTS];
        let net = self.network_p12();
        let c1 = self.history.last().copied().unwrap_or(0) as usize;
        x[0] = stretch(net);
        x[1] = stretch(self.net_apm.refine(net, c0 as usize | c1 << 8));
        x[2] = stretch(Counter::p12(self.order0[c0 as usize]));
        for m in 0..HASHED {
            let h = (self.ctx[m] ^ c0.wrapping_mul(0x9E37_79B1)).wrapping_mul(0x85EB_CA6B);
            self.slot[m] = (h >> 8) as usize & self.table_mask;
            x[3 + m] = stretch(Counter::p12(self.tables[m][self.slot[m]]));
        }
        // The match model: the predicted byte's next bit, if its bits so far agree with ours.
        let predicted = self.history.get(self.match_ptr).copied().unwrap_or(0) as u32 | 256;
        let agrees = self.match_len > 0 && (predicted >> (8 - self.bit_pos)) == c0;
        x[3 + HASHED] = if agrees {
            let expected = (predicted >> (7 - self.bit_pos)) & 1;
            self.match_slot = (self.match_len.min(MAX_MATCH) as usize) * 2 + expected as usize;
            stretch(Counter::p12(self.match_counters[self.match_slot]))
        } else {
            self.match_slot = usize::MAX;
            0
        };
        x[INPUTS - 1] = 256;
        self.inputs = x;
        self.weight_set = ((agrees as usize) << 8 | c0 as usize) * INPUTS;
        let w = &self.weights[self.weight_set..self.weight_set + INPUTS];
        let dot: i64 = x.iter().zip(w).map(|(&a, &b)| a as i64 * b as i64).sum();
        self.mixed = squash((dot >> 16).clamp(-2047, 2047) as i32);
        let a1 = self.apm1.refine(self.mixed, c0 as usize);
        let a2 = self.apm2.refine(self.mixed, c0 as usize | c1 << 8);
        ((self.mixed + a1 + 2 * a2 + 2) >> 2).clamp(1, 4095)
    }

    /// Learns from the coded bit and moves to the next.
    pub fn update(&mut self, bit: u32) {
        // The mixer: gradient step on the coding cost.
        let err = ((bit << 12) as i32 - self.mixed as i32) * 1;
        let w = &mut self.weights[self.weight_set..self.weight_set + INPUTS];
        for (wi, &xi) in w.iter_mut().zip(&self.inputs) {
            *wi = (*wi as i64 + ((xi as i64 * err as i64) >> 12)).clamp(-(1 << 22), 1 << 22) as i32;
        }
        self.apm1.update(bit);
        self.apm2.update(bit);
        self.net_apm.update(bit);
        Counter::update(&mut self.order0[self.c0 as usize], bit, 60);
        for m in 0..HASHED {
            Counter::update(&mut self.tables[m][self.slot[m]], bit, 250);
        }
        if self.match_slot != usize::MAX {
            Counter::update(&mut self.match_counters[self.match_slot], bit, 1000);
            let predicted = self.history[self.match_ptr] as u32;
            if (predicted >> (7 - self.bit_pos)) & 1 != bit {
                self.match_len = 0;
            }
        }
        self.c0 = (self.c0 << 1) | bit;
        self.bit_pos += 1;
        if self.bit_pos == 8 {
            let byte = (self.c0 & 255) as u8;
            self.end_byte(byte);
        }
    }

    fn end_byte(&mut self, byte: u8) {
        self.history.push(byte);
        self.net.step(&mut self.state, byte);
        self.c0 = 1;
        self.bit_pos = 0;
        // Words: letters (ASCII case folded) and bytes ≥ 128 (UTF-8 letters) belong to a word.
        if byte.is_ascii_alphabetic() || byte >= 128 {
            self.word = (self.word ^ byte.to_ascii_lowercase() as u32).wrapping_mul(0x0100_0193);
        } else if self.word != 0 {
            self.prev_word = self.word;
            self.word = 0;
        }
        // The match model follows its match or looks for a new one.
        let n = self.history.len();
        if self.match_len > 0 {
            self.match_ptr += 1;
            self.match_len = (self.match_len + 1).min(65535);
        }
        if n >= MATCH_MIN {
            let h = hash_bytes(&self.history[n - MATCH_MIN..]) as usize & self.match_mask;
            if self.match_len == 0 {
                let cand = self.match_table[h] as usize;
                if cand > 0 {
                    let len = (1..=cand.min(64)).take_while(|&k| self.history[cand - k] == self.history[n - k]).count();
                    if len >= MATCH_MIN {
                        self.match_ptr = cand;
                        self.match_len = len as u32;
                    }
                }
            }
            self.match_table[h] = n as u32;
        }
        self.begin_byte();
    }

    /// The hashed models' contexts for the byte to come.
    fn begin_byte(&mut self) {
        let n = self.history.len();
        for (m, &order) in ORDERS.iter().enumerate() {
            let from = n.saturating_sub(order);
            self.ctx[m] = hash_bytes(&self.history[from..]).wrapping_add((order as u32).wrapping_mul(0x3C6E_F372));
        }
        self.ctx[ORDERS.len()] = self.word.wrapping_mul(0x2545_F491).wrapping_add(0x1B87_3593);
        self.ctx[ORDERS.len() + 1] = (self.prev_word.wrapping_mul(0x68E3_1DA4) ^ self.word).wrapping_mul(0x9E37_79B9).wrapping_add(0x7F4A_7C15);
    }
}

fn hash_bytes(b: &[u8]) -> u32 {
    b.iter().fold(0x811C_9DC5u32, |h, &c| (h ^ c as u32).wrapping_mul(0x0100_0193))
}
