//! Seeded, reproducible training on the CPU (flex backend with autodiff). Feature `train`.
//!
//! Both networks ([`FashionCnn`], [`CatsDogsCnn`]) train through one loop, [`train`], over the
//! small [`Trainable`] trait. Everything random comes from the seed: burn's parameter
//! initialisation and dropout masks (the device's seeded RNG), and the order of the training
//! images and every augmentation (a SplitMix64 stream of our own). The flex kernels split work
//! over independent images and tiles only, so the same seed gives the same weights on any
//! machine with the same build.
//!
//! Augmentations, per training item and in this order (each draws from the stream only when
//! it is on, so Fashion's default settings give the same stream, and weights, as before the
//! crops and the codec augmentation existed):
//! 1. left–right flip with probability ½ ([`TrainOptions::flip`]);
//! 2. random crop: pad by [`TrainOptions::crop_padding`] black pixels on every side and cut
//!    the original size at a uniformly random offset (0 = off);
//! 3. codec augmentation ([`CodecAugment`]): with probability `prob`, the item (as the model
//!    would see it after 1 and 2) is replaced by what a caller-given closure returns — in the
//!    CLI a JPEG encode/decode round trip at a random quality. This crate knows no codecs.

use std::time::Instant;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::ModelError;
use crate::cats_dogs_cnn::{self, CatsDogsCnn, CatsDogsCnnConfig};
use crate::data::LabeledImages;
use crate::fashion_cnn::{self, FashionCnn, FashionCnnConfig, argmax};

/// A network the loop can train: its input geometry, how bytes become its input tensor, and
/// its logits.
pub trait Trainable: Module + Sized {
    /// Short name for messages.
    const NAME: &'static str;
    /// Input side in pixels (square) and bytes per pixel.
    const SIDE: usize;
    const CHANNELS: usize;
    /// Number of classes (labels must be below it).
    const CLASSES: usize;
    /// The normalised input tensor `[n, CHANNELS, SIDE, SIDE]` of `n` items.
    fn input(pixels: &[u8], n: usize, device: &Device) -> Tensor<4>;
    /// Logits `[n, CLASSES]`.
    fn logits(&self, x: Tensor<4>) -> Tensor<2>;
}

impl Trainable for FashionCnn {
    const NAME: &'static str = "fashion_cnn";
    const SIDE: usize = fashion_cnn::SIDE;
    const CHANNELS: usize = 1;
    const CLASSES: usize = fashion_cnn::CLASSES;
    fn input(pixels: &[u8], n: usize, device: &Device) -> Tensor<4> {
        fashion_cnn::images_tensor(pixels, n, device)
    }
    fn logits(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward(x)
    }
}

impl Trainable for CatsDogsCnn {
    const NAME: &'static str = "cats_dogs_cnn";
    const SIDE: usize = cats_dogs_cnn::SIDE;
    const CHANNELS: usize = cats_dogs_cnn::CHANNELS;
    const CLASSES: usize = cats_dogs_cnn::CLASSES;
    fn input(pixels: &[u8], n: usize, device: &Device) -> Tensor<4> {
        cats_dogs_cnn::rgb_tensor(pixels, n, cats_dogs_cnn::SIDE, cats_dogs_cnn::SIDE, device)
    }
    fn logits(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward(x)
    }
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam's peak learning rate; it follows a cosine decay to zero over all steps.
    pub learning_rate: f64,
    /// Decoupled weight decay (AdamW) when > 0; plain Adam when 0.
    pub weight_decay: f64,
    pub seed: u64,
    /// Flip half of the training images left–right (garments, cats and dogs are mostly
    /// symmetric).
    pub flip: bool,
    /// Random crops: pad by this many black pixels per side, cut the original size at a random
    /// offset. 0 = off.
    pub crop_padding: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self { epochs: 5, batch_size: 64, learning_rate: 2e-3, weight_decay: 0.0, seed: 1, flip: true, crop_padding: 0 }
    }
}

/// The geometry of one item handed to a [`CodecAugment`] closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemShape {
    pub width: usize,
    pub height: usize,
    /// 1 (gray) or 3 (RGB, interleaved).
    pub channels: usize,
}

/// The closure of a [`CodecAugment`]: one item's bytes (rows of pixels, channels
/// interleaved), its shape and the seeded random stream (draw what you need, e.g. a quality) →
/// the degraded item, of the same size and pixel format.
pub type AugmentFn<'a> = dyn Fn(&[u8], ItemShape, &mut dyn FnMut() -> u64) -> Result<Vec<u8>, String> + 'a;

/// A per-item augmentation given by the caller (a codec round trip in the CLI), applied to each
/// training item with probability `prob`.
pub struct CodecAugment<'a> {
    pub apply: &'a AugmentFn<'a>,
    pub prob: f64,
}

/// What one epoch reached.
#[derive(Debug, Clone)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
    /// Training items that went through the codec augmentation this epoch.
    pub augmented: usize,
    pub train_seconds: f64,
    pub eval_seconds: f64,
}

/// SplitMix64: a tiny, well-mixed, seedable generator (no dependency, same stream everywhere).
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0), by rejection.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let r = self.next();
            if r < zone {
                return (r % n) as usize;
            }
        }
    }
    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// Writes the augmented copy of one item (`shape`, channels interleaved) to `out`: flip and
/// crop as the options say, drawing from `rng`.
fn flip_and_crop(img: &[u8], shape: ItemShape, opts: &TrainOptions, rng: &mut SplitMix64, out: &mut Vec<u8>) {
    let ItemShape { width: w, height: h, channels: c } = shape;
    let flip = opts.flip && rng.next() & 1 == 1;
    let p = opts.crop_padding;
    let (dx, dy) = if p > 0 { (rng.below(2 * p + 1) as isize - p as isize, rng.below(2 * p + 1) as isize - p as isize) } else { (0, 0) };
    if !flip && dx == 0 && dy == 0 {
        out.extend_from_slice(img);
        return;
    }
    for y in 0..h as isize {
        let sy = y + dy;
        for x in 0..w as isize {
            // The crop picks source column x + dx of the (possibly flipped) image.
            let fx = x + dx;
            if sy < 0 || sy >= h as isize || fx < 0 || fx >= w as isize {
                out.extend(std::iter::repeat_n(0u8, c));
                continue;
            }
            let sx = if flip { w as isize - 1 - fx } else { fx };
            let o = (sy as usize * w + sx as usize) * c;
            out.extend_from_slice(&img[o..o + c]);
        }
    }
}

/// Trains a network: `init` builds it on the (seeded, autodiff) training device — fresh or
/// from existing weights for fine-tuning —, then `opts.epochs` epochs of Adam/AdamW with a
/// cosine learning-rate decay; `on_epoch` hears each epoch's numbers (accuracy on `test`).
pub fn train<M: Trainable>(
    init: impl FnOnce(&Device) -> Result<M, ModelError>,
    train: &LabeledImages,
    test: &LabeledImages,
    opts: &TrainOptions,
    augment: Option<&CodecAugment>,
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<M, ModelError> {
    let shape = ItemShape { width: M::SIDE, height: M::SIDE, channels: M::CHANNELS };
    for (what, set) in [("training", train), ("test", test)] {
        if (set.rows, set.cols, set.channels) != (M::SIDE, M::SIDE, M::CHANNELS) {
            return Err(ModelError::Input(format!(
                "{what} images are {}×{}×{}, {} takes {}×{}×{}",
                set.rows,
                set.cols,
                set.channels,
                M::NAME,
                M::SIDE,
                M::SIDE,
                M::CHANNELS
            )));
        }
        if set.labels.iter().any(|&l| l as usize >= M::CLASSES) {
            return Err(ModelError::Input(format!("{what} label out of range ({} classes)", M::CLASSES)));
        }
    }
    if train.is_empty() || opts.batch_size == 0 {
        return Err(ModelError::Input("empty training set or zero batch size".into()));
    }
    if let Some(a) = augment
        && !(0.0..=1.0).contains(&a.prob)
    {
        return Err(ModelError::Input(format!("augmentation probability {} is outside 0…1", a.prob)));
    }
    let device = Device::flex().autodiff();
    device.seed(opts.seed);
    let mut model = init(&device)?;
    let mut optim = if opts.weight_decay > 0.0 {
        AdamWConfig::new().with_weight_decay(opts.weight_decay as f32).init()
    } else {
        AdamConfig::new().init()
    };
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut rng = SplitMix64(opts.seed ^ 0x6d70_716c_6162); // "mpqlab"

    let n = train.len();
    let item = train.item_bytes();
    let steps_per_epoch = n.div_ceil(opts.batch_size);
    let total_steps = (steps_per_epoch * opts.epochs).max(1);
    let mut step = 0usize;
    let mut order: Vec<usize> = (0..n).collect();
    let mut batch = Vec::with_capacity(opts.batch_size * item);
    for epoch in 1..=opts.epochs {
        let t = Instant::now();
        rng.shuffle(&mut order);
        let (mut loss_sum, mut correct, mut augmented) = (0f64, 0usize, 0usize);
        for idx in order.chunks(opts.batch_size) {
            batch.clear();
            for &i in idx {
                let start = batch.len();
                flip_and_crop(train.image(i), shape, opts, &mut rng, &mut batch);
                if let Some(a) = augment
                    && rng.unit() < a.prob
                {
                    let degraded = (a.apply)(&batch[start..], shape, &mut || rng.next())
                        .map_err(|e| ModelError::Input(format!("codec augmentation: {e}")))?;
                    if degraded.len() != item {
                        return Err(ModelError::Input(format!(
                            "codec augmentation returned {} bytes for a {item}-byte item",
                            degraded.len()
                        )));
                    }
                    batch[start..].copy_from_slice(&degraded);
                    augmented += 1;
                }
            }
            let b = idx.len();
            let labels: Vec<i64> = idx.iter().map(|&i| train.labels[i] as i64).collect();
            let x = M::input(&batch, b, &device);
            let y = Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [b]), &device);
            let logits = model.logits(x);
            let loss = loss_fn.forward(logits.clone(), y);
            loss_sum += loss.clone().into_scalar::<f32>() as f64 * b as f64;
            let l = logits.into_data().try_to_vec::<f32>().map_err(|e| ModelError::Tensor(format!("{e:?}")))?;
            correct += l.chunks(M::CLASSES).zip(&labels).filter(|(p, y)| argmax(p) as i64 == **y).count();

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
            augmented,
            train_seconds,
            eval_seconds: t.elapsed().as_secs_f64(),
        });
    }
    Ok(model.valid())
}

/// Trains a fresh Fashion-MNIST CNN ([`FashionCnnConfig::default`]) without codec
/// augmentation; `on_epoch` hears each epoch's numbers (accuracy on `test`).
pub fn train_fashion(
    train_set: &LabeledImages,
    test: &LabeledImages,
    opts: &TrainOptions,
    on_epoch: impl FnMut(&EpochReport),
) -> Result<FashionCnn, ModelError> {
    train(|d| Ok(FashionCnnConfig::default().init(d)), train_set, test, opts, None, on_epoch)
}

/// Trains a fresh cats-vs-dogs CNN ([`CatsDogsCnnConfig::default`]) without codec
/// augmentation.
pub fn train_cats_dogs(
    train_set: &LabeledImages,
    test: &LabeledImages,
    opts: &TrainOptions,
    on_epoch: impl FnMut(&EpochReport),
) -> Result<CatsDogsCnn, ModelError> {
    train(|d| Ok(CatsDogsCnnConfig::default().init(d)), train_set, test, opts, None, on_epoch)
}

/// The share of `set` that `model` labels correctly.
pub fn accuracy<M: Trainable>(model: &M, set: &LabeledImages) -> Result<f64, ModelError> {
    if set.is_empty() {
        return Ok(0.0);
    }
    let device = Device::flex();
    let item = set.item_bytes();
    let mut correct = 0usize;
    for (c, chunk) in set.pixels.chunks(256 * item).enumerate() {
        let m = chunk.len() / item;
        let logits = model
            .logits(M::input(chunk, m, &device))
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| ModelError::Tensor(format!("{e:?}")))?;
        let labels = &set.labels[c * 256..c * 256 + m];
        correct += logits.chunks(M::CLASSES).zip(labels).filter(|(p, y)| argmax(p) == **y as usize).count();
    }
    Ok(correct as f64 / set.len() as f64)
}

/// The parameter-wise mean of `models` (same architecture, e.g. one network's snapshots at the
/// end of its last epochs): the "stochastic weight averaging" of Izmailov et al. 2018, who
/// found the mean nearer the middle of a wide minimum than any single snapshot of a
/// still-moving run (for the keyword spotter it did not help: see `KwsTrainOptions`).
/// Written here because burn has no averaging of modules. Models without batch norm only (no
/// running statistics to recompute): all of ours.
pub fn average_weights<M: Module + Clone>(models: &[M]) -> Result<M, ModelError> {
    /// Every float parameter, flattened, in the order burn visits them.
    struct Flatten(Vec<Tensor<1>>);
    impl ModuleVisitor for Flatten {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            let n = t.dims().iter().product::<usize>();
            self.0.push(t.reshape([n]));
        }
    }
    /// Puts the averages back, in the same order, each in its parameter's shape.
    struct Replace(std::vec::IntoIter<Tensor<1>>);
    impl ModuleMapper for Replace {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            match self.0.next() {
                Some(mean) => param.map(|t| mean.reshape(t.dims())),
                None => param,
            }
        }
    }
    let (first, rest) = models.split_first().ok_or_else(|| ModelError::Input("no models to average".into()))?;
    let mut sums = Flatten(Vec::new());
    first.visit(&mut sums);
    for m in rest {
        let mut f = Flatten(Vec::new());
        m.visit(&mut f);
        if f.0.len() != sums.0.len() || f.0.iter().zip(&sums.0).any(|(a, b)| a.dims() != b.dims()) {
            return Err(ModelError::Input("models to average differ in their parameters".into()));
        }
        sums.0 = sums.0.into_iter().zip(f.0).map(|(s, t)| s + t).collect();
    }
    let scale = 1.0 / models.len() as f32;
    let means: Vec<_> = sums.0.into_iter().map(|s| s.mul_scalar(scale)).collect();
    Ok(first.clone().map(&mut Replace(means.into_iter())))
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
        assert!((0..1000).map(|_| r.unit()).all(|u| (0.0..1.0).contains(&u)));
    }

    #[test]
    fn flips_and_crops_move_pixels_as_documented() {
        // 3×2 RGB image, pixel value = 10·y + x in every channel, + channel index.
        let shape = ItemShape { width: 3, height: 2, channels: 3 };
        let img: Vec<u8> = (0..2).flat_map(|y| (0..3).flat_map(move |x| (0..3).map(move |c| 10 * y + x + c))).collect();
        let px = |out: &[u8], x: usize, y: usize| out[(y * 3 + x) * 3];
        let mut seen_flip = false;
        let mut seen_shift = false;
        let opts = TrainOptions { crop_padding: 1, ..TrainOptions::default() };
        let mut rng = SplitMix64(7);
        for _ in 0..200 {
            let mut out = Vec::new();
            flip_and_crop(&img, shape, &opts, &mut rng, &mut out);
            assert_eq!(out.len(), img.len());
            // Every pixel is black padding or a source pixel with its channels in order.
            for p in out.chunks(3) {
                assert!(p == [0, 0, 0] || (p[1] == p[0] + 1 && p[2] == p[0] + 2), "{p:?}");
            }
            if px(&out, 0, 0) == 2 && px(&out, 2, 0) == 0 && px(&out, 0, 1) == 12 {
                seen_flip = true;
            }
            if out.chunks(3).any(|p| p == [0, 0, 0]) {
                seen_shift = true;
            }
        }
        assert!(seen_flip && seen_shift);
        // No flip, no crop: a copy, and no draws.
        let plain = TrainOptions { flip: false, crop_padding: 0, ..TrainOptions::default() };
        let mut rng = SplitMix64(7);
        let mut out = Vec::new();
        flip_and_crop(&img, shape, &plain, &mut rng, &mut out);
        assert_eq!(out, img);
        assert_eq!(rng.0, SplitMix64(7).0);
    }

    #[test]
    fn averaged_weights_are_the_parameter_wise_mean() {
        use crate::classifier::block_on;
        use crate::kws_cnn::KwsCnnConfig;
        use crate::quantized::module_params;
        let device = crate::cpu_device();
        let (a, b) = (KwsCnnConfig::default().init(&device), KwsCnnConfig::default().init(&device));
        let mean = average_weights(&[a.clone(), b.clone()]).unwrap();
        let (pa, pb, pm) = (block_on(module_params(&a)).unwrap(), block_on(module_params(&b)).unwrap(), block_on(module_params(&mean)).unwrap());
        assert_eq!(pm.len(), pa.len());
        let mut differ = 0;
        for ((x, y), m) in pa.iter().zip(&pb).zip(&pm) {
            assert_eq!((&m.path, &m.dims), (&x.path, &x.dims));
            for ((u, v), w) in x.values.iter().zip(&y.values).zip(&m.values) {
                assert!((w - (u + v) / 2.0).abs() <= 1e-6, "{}: {w} is not the mean of {u} and {v}", m.path);
                differ += usize::from(u != v);
            }
        }
        assert!(differ > 1000, "two fresh inits should differ");
        // One model averages to itself; none is an error.
        let same = block_on(module_params(&average_weights(std::slice::from_ref(&a)).unwrap())).unwrap();
        assert!(same.iter().zip(&pa).all(|(s, x)| s.values == x.values));
        assert!(average_weights::<crate::kws_cnn::KwsCnn>(&[]).is_err());
    }
}
