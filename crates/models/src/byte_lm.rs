//! A byte-level language model: a one-layer GRU over the 256 byte values, the network behind
//! the text lab's `lm` codec (`mpq_codecs::text::lm`), which turns its next-byte probabilities
//! into bits with an arithmetic coder.
//!
//! ```text
//! byte x_t → gi = INPUT[x_t]                  3H   (a one-hot input: its weights are a table)
//! gh = h_{t−1} · RECUR + RECUR_BIAS           3H
//! r, z = σ(gi + gh) (first two thirds), n = tanh(gi_n + r ⊙ gh_n)
//! h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}             H
//! logits = h_t · OUT + OUT_BIAS               256: the distribution of x_{t+1}
//! ```
//!
//! Why a GRU: the coder runs once per byte in one wasm thread, so what matters is the cost of
//! a step. A recurrence costs ~3H² + 256H multiply–adds per byte whatever came before (a
//! transformer's attention grows with its context and keeps a cache of it), so a 256-unit GRU
//! reads a 150 KB text in the page in about a minute; a GRU's three gates do an LSTM's job with
//! a quarter less arithmetic on byte-level text. RWKV-style recurrences would also fit but need
//! their time-mixing scan written by hand for training.
//!
//! The weights are a plain burn module here (trained by `lm_train`, feature `train`), and the
//! coder runs the same equations in fixed-order `f32` from the exported `.lmw` file
//! ([`ByteLm::to_weights`]), so that its probabilities are bit-identical natively and in wasm.

use burn::module::{Module, Param};
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::module::embedding;
use burn::tensor::{Device, Int, Tensor, TensorData};

use mpq_codecs::text::lm::net::{VOCAB, Weights};

use crate::ModelError;

/// The network's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteLmConfig {
    pub hidden: usize,
}

impl ByteLmConfig {
    /// Fresh weights (seed the device first): uniform in ±1/√H, as PyTorch initialises a GRU;
    /// the input table and the output layer the same way.
    pub fn init(&self, device: &Device) -> ByteLm {
        let h = self.hidden;
        let k = 1.0 / (h as f64).sqrt();
        let u2 = |shape: [usize; 2]| Param::from_tensor(Tensor::<2>::random(shape, burn::tensor::Distribution::Uniform(-k, k), device));
        ByteLm {
            input: u2([VOCAB, 3 * h]),
            recur: u2([h, 3 * h]),
            recur_bias: Param::from_tensor(Tensor::<1>::random([3 * h], burn::tensor::Distribution::Uniform(-k, k), device)),
            out: u2([h, VOCAB]),
            out_bias: Param::from_tensor(Tensor::zeros([VOCAB], device)),
            hidden: h,
        }
    }
}

#[derive(Module, Debug)]
pub struct ByteLm {
    /// [256, 3H]: the input's contribution to the reset, update and new gates, with its bias.
    pub input: Param<Tensor<2>>,
    /// [H, 3H] and [3H]: the hidden state's.
    pub recur: Param<Tensor<2>>,
    pub recur_bias: Param<Tensor<1>>,
    /// [H, 256] and [256]: the next byte's logits.
    pub out: Param<Tensor<2>>,
    pub out_bias: Param<Tensor<1>>,
    pub hidden: usize,
}

impl ByteLm {
    /// Reads bytes `x` [B, T] from hidden states `h` [B, H]: the logits of each next byte
    /// [B, T, 256] and the last hidden state.
    pub fn forward(&self, x: Tensor<2, Int>, h: Tensor<2>) -> (Tensor<3>, Tensor<2>) {
        let [b, t] = x.dims();
        let hn = self.hidden;
        let gi = embedding(self.input.val(), x); // [B, T, 3H]
        let recur = self.recur.val();
        let recur_bias = self.recur_bias.val().unsqueeze::<2>();
        let mut h = h;
        let mut states = Vec::with_capacity(t);
        for step in 0..t {
            let gi_t = gi.clone().narrow(1, step, 1).reshape([b, 3 * hn]);
            let gh = h.clone().matmul(recur.clone()) + recur_bias.clone();
            let r = sigmoid(gi_t.clone().narrow(1, 0, hn) + gh.clone().narrow(1, 0, hn));
            let z = sigmoid(gi_t.clone().narrow(1, hn, hn) + gh.clone().narrow(1, hn, hn));
            let n = tanh(gi_t.narrow(1, 2 * hn, hn) + r * gh.narrow(1, 2 * hn, hn));
            h = (z.ones_like() - z.clone()) * n + z * h;
            states.push(h.clone());
        }
        let hs = Tensor::stack::<3>(states, 1).reshape([b * t, hn]);
        let logits = hs.matmul(self.out.val()) + self.out_bias.val().unsqueeze::<2>();
        (logits.reshape([b, t, VOCAB]), h)
    }

    /// The weights as the coder's plain arrays (the values it will round to f16 on export).
    pub fn to_weights(&self, name: &str) -> Result<Weights, ModelError> {
        let v = |t: TensorData| t.convert::<f32>().try_into_vec::<f32>().map_err(|e| ModelError::Tensor(format!("{e:?}")));
        Ok(Weights {
            name: name.to_string(),
            hidden: self.hidden,
            input: v(self.input.val().into_data())?,
            recur: v(self.recur.val().into_data())?,
            recur_bias: v(self.recur_bias.val().into_data())?,
            out: v(self.out.val().into_data())?,
            out_bias: v(self.out_bias.val().into_data())?,
        })
    }

    /// A network holding the coder's weights (to fine-tune them, or to check the two agree).
    pub fn from_weights(w: &Weights, device: &Device) -> ByteLm {
        let h = w.hidden;
        let t2 = |v: &[f32], shape: [usize; 2]| Param::from_tensor(Tensor::<2>::from_data(TensorData::new(v.to_vec(), shape), device));
        let t1 = |v: &[f32]| Param::from_tensor(Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), device));
        ByteLm {
            input: t2(&w.input, [VOCAB, 3 * h]),
            recur: t2(&w.recur, [h, 3 * h]),
            recur_bias: t1(&w.recur_bias),
            out: t2(&w.out, [h, VOCAB]),
            out_bias: t1(&w.out_bias),
            hidden: h,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::activation::softmax;

    /// The coder's plain-f32 network and this one give the same probabilities (to float
    /// rounding: the coder uses its own exp and sums in its own order).
    #[test]
    fn the_coder_network_computes_what_burn_computes() {
        let device = crate::cpu_device();
        device.seed(7);
        let model = ByteLmConfig { hidden: 24 }.init(&device);
        let w = model.to_weights("t").unwrap();
        let text = b"\nA byte-level model reads this.";
        let x = Tensor::<2, Int>::from_data(TensorData::new(text.iter().map(|&b| b as i64).collect::<Vec<_>>(), [1, text.len()]), &device);
        let (logits, _) = model.forward(x, Tensor::zeros([1, 24], &device));
        let probs = softmax(logits, 2).into_data().try_into_vec::<f32>().unwrap();
        // The coder starts as if after a line break, which `text` begins with.
        let mut s = w.start();
        for (t, &b) in text.iter().enumerate().skip(1) {
            for k in 0..VOCAB {
                let a = probs[(t - 1) * VOCAB + k];
                assert!((a - s.probs[k]).abs() < 2e-5, "step {t} byte {k}: burn {a}, coder {}", s.probs[k]);
            }
            w.step(&mut s, b);
        }
    }
}
