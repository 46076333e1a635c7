//! Seeded training of the byte-level language model ([`ByteLm`]) on prose (feature `train`).
//!
//! Truncated backpropagation through time over `batch` parallel streams: an epoch cuts the
//! training text into `batch` equal stretches (each starting at a seeded random offset within
//! its first `seq` bytes), and every step reads the next `seq` bytes of every stream, carrying
//! each stream's hidden state to the next step (detached), so that the network learns to run
//! over long texts as the coder runs it. Adam with a cosine decay to zero and a gradient-norm
//! clip; everything random comes from the seed (burn's initialisation, the offsets).
//!
//! Each epoch ends with the bits per byte of the *coder's* network (the weights rounded to
//! f16, our exp, fixed-order sums: [`mpq_codecs::text::lm::net`]) on the validation text: the
//! network's own code length, before the coder's context mixing lowers it further.

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, grad_clipping::GradientClippingConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};

use mpq_codecs::text::lm::net::{VOCAB, Weights};

use crate::ModelError;
use crate::byte_lm::{ByteLm, ByteLmConfig};
use crate::train::SplitMix64;

/// Training settings.
#[derive(Debug, Clone)]
pub struct LmTrainOptions {
    pub hidden: usize,
    pub epochs: usize,
    /// Parallel streams per step.
    pub batch: usize,
    /// Bytes per stream and step (the truncation length of backpropagation).
    pub seq: usize,
    pub learning_rate: f64,
    /// Largest gradient norm (larger gradients are scaled down to it).
    pub clip_norm: f32,
    pub seed: u64,
    /// Validation bytes scored after each epoch (from the start of the validation text).
    pub validation_bytes: usize,
}

impl Default for LmTrainOptions {
    fn default() -> Self {
        Self { hidden: 256, epochs: 4, batch: 32, seq: 128, learning_rate: 3e-3, clip_norm: 1.0, seed: 1, validation_bytes: 100_000 }
    }
}

/// One epoch's numbers.
#[derive(Debug, Clone)]
pub struct LmEpochReport {
    pub epoch: usize,
    /// Mean training cross-entropy, bits per byte.
    pub train_bpb: f64,
    /// The coder network's bits per byte on the validation text.
    pub validation_bpb: f64,
    pub train_seconds: f64,
    pub eval_seconds: f64,
}

/// Bits per byte of the coder's network alone on `text` (one stream from a fresh state).
pub fn network_bits_per_byte(w: &Weights, text: &[u8]) -> f64 {
    let mut s = w.start();
    let mut bits = 0f64;
    for &b in text {
        bits -= (s.probs[b as usize] as f64).log2();
        w.step(&mut s, b);
    }
    bits / text.len().max(1) as f64
}

/// Trains a network from scratch (or from `init`) on `train`; `on_epoch` hears each epoch.
pub fn train_lm(
    train: &[u8],
    validation: &[u8],
    opts: &LmTrainOptions,
    init: Option<&Weights>,
    name: &str,
    mut on_epoch: impl FnMut(&LmEpochReport, &ByteLm),
) -> Result<ByteLm, ModelError> {
    let (b, t) = (opts.batch, opts.seq);
    if b == 0 || t == 0 || train.len() < b * (t + 1) * 2 {
        return Err(ModelError::Input(format!("{} training bytes are too few for {b} streams of {t}", train.len())));
    }
    let device = Device::flex().autodiff();
    device.seed(opts.seed);
    let mut model = match init {
        Some(w) => ByteLm::from_weights(w, &device),
        None => ByteLmConfig { hidden: opts.hidden }.init(&device),
    };
    let mut optim = AdamConfig::new().with_grad_clipping(Some(GradientClippingConfig::Norm(opts.clip_norm))).init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut rng = SplitMix64(opts.seed ^ 0x6279_7465_6c6d); // "bytelm"
    let stretch = train.len() / b;
    let steps_per_epoch = (stretch - t - 1) / t;
    let total_steps = (steps_per_epoch * opts.epochs).max(1);
    let mut step = 0usize;
    let hn = model.hidden;
    for epoch in 1..=opts.epochs {
        let clock = Instant::now();
        let starts: Vec<usize> = (0..b).map(|i| i * stretch + rng.below(t)).collect();
        let mut h = Tensor::<2>::zeros([b, hn], &device);
        let mut loss_sum = 0f64;
        for k in 0..steps_per_epoch {
            let mut xs = Vec::with_capacity(b * t);
            let mut ys = Vec::with_capacity(b * t);
            for &s in &starts {
                let at = s + k * t;
                xs.extend(train[at..at + t].iter().map(|&c| c as i64));
                ys.extend(train[at + 1..at + t + 1].iter().map(|&c| c as i64));
            }
            let x = Tensor::<2, Int>::from_data(TensorData::new(xs, [b, t]), &device);
            let y = Tensor::<1, Int>::from_data(TensorData::new(ys, [b * t]), &device);
            let (logits, h_last) = model.forward(x, h);
            h = h_last.detach();
            let loss = loss_fn.forward(logits.reshape([b * t, VOCAB]), y);
            loss_sum += loss.clone().into_scalar::<f32>() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let lr = opts.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * step as f64 / total_steps as f64).cos());
            model = optim.step(lr, model, grads);
            step += 1;
        }
        let train_seconds = clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        let valid = model.valid();
        let w = Weights::from_bytes(&valid.to_weights(name)?.to_bytes()).map_err(|e| ModelError::Weights(e.to_string()))?;
        let validation_bpb = network_bits_per_byte(&w, &validation[..validation.len().min(opts.validation_bytes)]);
        let report = LmEpochReport {
            epoch,
            train_bpb: loss_sum / steps_per_epoch.max(1) as f64 / std::f64::consts::LN_2,
            validation_bpb,
            train_seconds,
            eval_seconds: clock.elapsed().as_secs_f64(),
        };
        on_epoch(&report, &valid);
    }
    Ok(model.valid())
}
