//! Seeded, reproducible training on the CPU (flex backend with autodiff). Feature `train`.
//!
//! Everything random comes from the seed: burn's parameter initialisation (the device's
//! seeded RNG), the order of the training images and the horizontal flips (a SplitMix64
//! stream of our own). The flex kernels split work over independent images and tiles only, so
//! the same seed gives the same weights on any machine with the same build.

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::ModelError;
use crate::data::LabeledImages;
use crate::fashion_cnn::{CLASSES, FashionCnn, FashionCnnConfig, PIXELS, SIDE, argmax, images_tensor};

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam's peak learning rate; it follows a cosine decay to zero over all steps.
    pub learning_rate: f64,
    pub seed: u64,
    /// Flip half of the training images left–right (garments are mostly symmetric).
    pub flip: bool,
    pub config: FashionCnnConfig,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 5,
            batch_size: 64,
            learning_rate: 2e-3,
            seed: 1,
            flip: true,
            config: FashionCnnConfig::default(),
        }
    }
}

/// What one epoch reached.
#[derive(Debug, Clone)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
    pub train_seconds: f64,
    pub eval_seconds: f64,
}

/// SplitMix64: a tiny, well-mixed, seedable generator (no dependency, same stream everywhere).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0), by rejection.
    fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let r = self.next();
            if r < zone {
                return (r % n) as usize;
            }
        }
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// Trains a Fashion-MNIST CNN; `on_epoch` hears each epoch's numbers (accuracy on `test`).
pub fn train_fashion(
    train: &LabeledImages,
    test: &LabeledImages,
    opts: &TrainOptions,
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<FashionCnn, ModelError> {
    if train.is_empty() || opts.batch_size == 0 || train.rows != SIDE || train.cols != SIDE {
        return Err(ModelError::Input("empty training set, zero batch size or images not 28×28".into()));
    }
    let device = Device::flex().autodiff();
    device.seed(opts.seed);
    let mut model = opts.config.init(&device);
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut rng = SplitMix64(opts.seed ^ 0x6d70_716c_6162); // "mpqlab"

    let n = train.len();
    let steps_per_epoch = n.div_ceil(opts.batch_size);
    let total_steps = (steps_per_epoch * opts.epochs).max(1);
    let mut step = 0usize;
    let mut order: Vec<usize> = (0..n).collect();
    let mut batch = Vec::with_capacity(opts.batch_size * PIXELS);
    for epoch in 1..=opts.epochs {
        let t = Instant::now();
        rng.shuffle(&mut order);
        let (mut loss_sum, mut correct) = (0f64, 0usize);
        for idx in order.chunks(opts.batch_size) {
            batch.clear();
            for &i in idx {
                let img = train.image(i);
                if opts.flip && rng.next() & 1 == 1 {
                    for row in img.chunks(SIDE) {
                        batch.extend(row.iter().rev());
                    }
                } else {
                    batch.extend_from_slice(img);
                }
            }
            let b = idx.len();
            let labels: Vec<i64> = idx.iter().map(|&i| train.labels[i] as i64).collect();
            let x = images_tensor(&batch, b, &device);
            let y = Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [b]), &device);
            let logits = model.forward(x);
            let loss = loss_fn.forward(logits.clone(), y);
            loss_sum += loss.clone().into_scalar::<f32>() as f64 * b as f64;
            let l = logits.into_data().try_to_vec::<f32>().map_err(|e| ModelError::Tensor(format!("{e:?}")))?;
            correct += l.chunks(CLASSES).zip(&labels).filter(|(p, y)| argmax(p) as i64 == **y).count();

            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let lr = opts.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * step as f64 / total_steps as f64).cos());
            model = optim.step(lr, model, grads);
            step += 1;
        }
        let train_seconds = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let test_accuracy = accuracy(&model.valid(), test)?;
        on_epoch(&EpochReport {
            epoch,
            train_loss: loss_sum / n as f64,
            train_accuracy: correct as f64 / n as f64,
            test_accuracy,
            train_seconds,
            eval_seconds: t.elapsed().as_secs_f64(),
        });
    }
    Ok(model.valid())
}

/// The share of `set` that `model` labels correctly.
pub fn accuracy(model: &FashionCnn, set: &LabeledImages) -> Result<f64, ModelError> {
    if set.is_empty() {
        return Ok(0.0);
    }
    let pred = model.predict(&set.pixels, set.len())?;
    Ok(pred.iter().zip(&set.labels).filter(|(p, y)| p == y).count() as f64 / set.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_a_fixed_stream() {
        let mut r = SplitMix64(0);
        // The reference values of SplitMix64 seeded with 0.
        assert_eq!(r.next(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next(), 0x6e78_9e6a_a1b9_65f4);
        let mut v: Vec<usize> = (0..10).collect();
        r.shuffle(&mut v);
        let mut s = v.clone();
        s.sort();
        assert_eq!(s, (0..10).collect::<Vec<_>>());
    }
}
