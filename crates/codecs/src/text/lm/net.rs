//! The byte-level network behind the `lm` codec, run for coding: a one-layer GRU over bytes
//! (trained in burn: `mpq_models::byte_lm`), computed in plain `f32` with a fixed order of
//! operations and our own `exp` ([`super::math`]) so that the encoder natively and the decoder
//! in the page (or the other way round) see bit-identical probabilities.
//!
//! ```text
//! byte x → gi = INPUT[x]                         3H  (the one-hot input's weights, with their bias)
//! gh = RECUR_BIAS + h · RECUR                    3H  (summed over h's units in order 0, 1, …)
//! r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n)
//! h ← (1 − z) ⊙ n + z ⊙ h                        H
//! logits = OUT_BIAS + h · OUT → softmax          256 next-byte probabilities
//! ```
//!
//! The weight file (`.lmw`): magic `MPQLMW1\0`, the model's name (a length byte and UTF-8),
//! H (u32 LE), then little-endian f16 arrays INPUT [256][3H], RECUR [H][3H], RECUR_BIAS [3H],
//! OUT [H][256], OUT_BIAS [256]. Its FNV-1a hash names the exact weights in every stream.

use mpq_core::{Error, Result};

use super::math::{exp, sigmoid, tanh};

pub const MAGIC: &[u8; 8] = b"MPQLMW1\0";
/// The vocabulary: every byte value.
pub const VOCAB: usize = 256;
/// The largest hidden size a weight file may claim (bounds the allocation before reading).
pub const MAX_HIDDEN: usize = 2048;

/// The weights of one network, as `f32` (stored as f16).
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    pub name: String,
    pub hidden: usize,
    pub input: Vec<f32>,
    pub recur: Vec<f32>,
    pub recur_bias: Vec<f32>,
    pub out: Vec<f32>,
    pub out_bias: Vec<f32>,
}

/// 64-bit FNV-1a: the fingerprint of a weight file (streams record it; no cryptography is
/// needed to tell one checkpoint from another).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

impl Weights {
    fn sizes(hidden: usize) -> [usize; 5] {
        [VOCAB * 3 * hidden, hidden * 3 * hidden, 3 * hidden, hidden * VOCAB, VOCAB]
    }

    /// Parses a weight file; every size is checked against the file's length first.
    pub fn from_bytes(bytes: &[u8]) -> Result<Weights> {
        let bad = |why: String| Error::decode("language-model weights", why);
        if !bytes.starts_with(MAGIC) || bytes.len() < MAGIC.len() + 1 {
            return Err(bad("it does not start with MPQLMW1".into()));
        }
        let name_len = bytes[MAGIC.len()] as usize;
        let at = MAGIC.len() + 1;
        let name = bytes.get(at..at + name_len).ok_or_else(|| bad("cut short in its name".into()))?;
        let name = String::from_utf8(name.to_vec()).map_err(|_| bad("its name is not UTF-8".into()))?;
        let at = at + name_len;
        let h = bytes.get(at..at + 4).ok_or_else(|| bad("cut short before its size".into()))?;
        let hidden = u32::from_le_bytes(h.try_into().unwrap()) as usize;
        if hidden == 0 || hidden > MAX_HIDDEN {
            return Err(bad(format!("a hidden size of {hidden} (1…{MAX_HIDDEN} allowed)")));
        }
        let sizes = Self::sizes(hidden);
        let need = sizes.iter().sum::<usize>() * 2;
        let data = &bytes[at + 4..];
        if data.len() != need {
            return Err(bad(format!("{} bytes of weights where a hidden size of {hidden} needs {need}", data.len())));
        }
        let mut arrays = Vec::with_capacity(5);
        let mut off = 0;
        for n in sizes {
            let a: Vec<f32> = data[off..off + 2 * n].chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect();
            if a.iter().any(|x| !x.is_finite()) {
                return Err(bad("a weight is not a finite number".into()));
            }
            arrays.push(a);
            off += 2 * n;
        }
        let mut it = arrays.into_iter();
        let mut next = || it.next().unwrap();
        Ok(Weights { name, hidden, input: next(), recur: next(), recur_bias: next(), out: next(), out_bias: next() })
    }

    /// The weight file (f16: every value is rounded to the nearest f16).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.push(self.name.len() as u8);
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(&(self.hidden as u32).to_le_bytes());
        for a in [&self.input, &self.recur, &self.recur_bias, &self.out, &self.out_bias] {
            for &x in a {
                out.extend_from_slice(&half::f16::from_f32(x).to_le_bytes());
            }
        }
        out
    }
}

/// The network's running state over one stream: the hidden vector and the next byte's
/// probabilities.
#[derive(Debug, Clone)]
pub struct State {
    pub h: Vec<f32>,
    gh: Vec<f32>,
    pub probs: Vec<f32>,
}

impl Weights {
    /// A fresh state that has read one line break (a chunk starts as if after one: the
    /// network never saw a text start from nothing in training).
    pub fn start(&self) -> State {
        let mut s = State { h: vec![0.0; self.hidden], gh: vec![0.0; 3 * self.hidden], probs: vec![0.0; VOCAB] };
        self.step(&mut s, b'\n');
        s
    }

    /// Reads one byte: updates the hidden state and the next byte's probabilities.
    pub fn step(&self, s: &mut State, byte: u8) {
        let hn = self.hidden;
        let gi = &self.input[byte as usize * 3 * hn..(byte as usize + 1) * 3 * hn];
        // Sums run over the hidden units in order 0, 1, … for every output: each output is its
        // own accumulator, so vectorising across outputs never reorders a sum.
        s.gh.copy_from_slice(&self.recur_bias);
        for (i, &hi) in s.h.iter().enumerate() {
            let row = &self.recur[i * 3 * hn..(i + 1) * 3 * hn];
            for (g, &w) in s.gh.iter_mut().zip(row) {
                *g += hi * w;
            }
        }
        for j in 0..hn {
            let r = sigmoid(gi[j] + s.gh[j]);
            let z = sigmoid(gi[hn + j] + s.gh[hn + j]);
            let n = tanh(gi[2 * hn + j] + r * s.gh[2 * hn + j]);
            s.h[j] = (1.0 - z) * n + z * s.h[j];
        }
        let logits = &mut s.probs;
        logits.copy_from_slice(&self.out_bias);
        for (i, &hi) in s.h.iter().enumerate() {
            let row = &self.out[i * VOCAB..(i + 1) * VOCAB];
            for (l, &w) in logits.iter_mut().zip(row) {
                *l += hi * w;
            }
        }
        let max = logits.iter().fold(f32::MIN, |m, &x| m.max(x));
        let mut sum = 0.0f32;
        for l in logits.iter_mut() {
            *l = exp(*l - max);
            sum += *l;
        }
        let inv = 1.0 / sum;
        for l in logits.iter_mut() {
            *l *= inv;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// Random weights of a small network (f16-exact values, so a file round trip changes nothing).
    pub fn tiny(hidden: usize, seed: u64) -> Weights {
        let mut s = seed | 1;
        let mut r = |n: usize, scale: f32| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    // f16-exact values, so that a file round trip changes nothing.
                    half::f16::from_f32(((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale).to_f32()
                })
                .collect()
        };
        let [a, b, c, d, e] = Weights::sizes(hidden);
        Weights { name: format!("tiny{hidden}"), hidden, input: r(a, 2.0), recur: r(b, 0.5), recur_bias: r(c, 0.2), out: r(d, 2.0), out_bias: r(e, 1.0) }
    }

}

#[cfg(test)]
mod tests {
    use super::*;
    use super::tests_support::tiny;

    #[test]
    fn weight_files_round_trip_and_are_checked() {
        let w = tiny(8, 3);
        let bytes = w.to_bytes();
        assert_eq!(Weights::from_bytes(&bytes).unwrap(), w);
        assert!(Weights::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(Weights::from_bytes(b"MPQLMW1\0").is_err());
        let mut huge = bytes.clone();
        let at = MAGIC.len() + 1 + w.name.len();
        huge[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Weights::from_bytes(&huge).unwrap_err().to_string().contains("hidden size"));
    }

    #[test]
    fn probabilities_sum_to_one_and_follow_the_input() {
        let w = tiny(16, 5);
        let mut s = w.start();
        for &b in b"hello world" {
            let sum: f32 = s.probs.iter().sum();
            assert!((sum - 1.0).abs() < 1e-4, "{sum}");
            assert!(s.probs.iter().all(|&p| p > 0.0));
            let before = s.probs.clone();
            w.step(&mut s, b);
            assert_ne!(before, s.probs);
        }
    }
}
