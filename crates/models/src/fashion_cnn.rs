//! A small CNN that classifies Fashion-MNIST (28×28 gray, 10 classes).
//!
//! ```text
//! input 1×28×28 (pixel/255, then (x − 0.2860) / 0.3530)
//! conv 3×3 1→C1, pad 1, ReLU, max-pool 2  → C1×14×14
//! conv 3×3 C1→C2, pad 1, ReLU, max-pool 2 → C2×7×7
//! flatten → linear C2·7·7→H, ReLU  (the "features": H values per image)
//! linear H→10 (logits)
//! ```
//!
//! The bundled models use [`FashionCnnConfig::default`] (C1 = 16, C2 = 32, H = 64), stored in
//! f16: [`FashionCnn::load_bundled`] (`weights/fashion_cnn.bpk`, trained on the original
//! images) and [`FashionCnn::load_bundled_jpeg`] (`weights/fashion_cnn_jpeg.bpk`, fine-tuned
//! with JPEG-compressed training images, quality 5…50; see `weights/README.md`).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::store::{BurnpackStore, HalfPrecisionAdapter};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};

use crate::ModelError;

/// Image side in pixels.
pub const SIDE: usize = 28;
/// Pixels per image.
pub const PIXELS: usize = SIDE * SIDE;
/// Number of classes.
pub const CLASSES: usize = 10;
/// The class names, by label index (Fashion-MNIST's own order).
pub const FASHION_CLASSES: [&str; CLASSES] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/// Mean and standard deviation of the Fashion-MNIST training pixels (scaled to 0..1).
const MEAN: f32 = 0.2860;
const STD: f32 = 0.3530;

/// Images per forward pass in the batch helpers (bounds memory for large inputs).
const CHUNK: usize = 256;

/// The layer sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FashionCnnConfig {
    pub conv1_channels: usize,
    pub conv2_channels: usize,
    pub hidden: usize,
}

impl Default for FashionCnnConfig {
    fn default() -> Self {
        Self { conv1_channels: 16, conv2_channels: 32, hidden: 64 }
    }
}

impl FashionCnnConfig {
    /// A model with freshly initialised weights (seed the device first for reproducibility).
    pub fn init(&self, device: &Device) -> FashionCnn {
        let pad = || PaddingConfig2d::Explicit(1, 1, 1, 1);
        FashionCnn {
            conv1: Conv2dConfig::new([1, self.conv1_channels], [3, 3]).with_padding(pad()).init(device),
            conv2: Conv2dConfig::new([self.conv1_channels, self.conv2_channels], [3, 3])
                .with_padding(pad())
                .init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc1: LinearConfig::new(self.conv2_channels * 7 * 7, self.hidden).init(device),
            fc2: LinearConfig::new(self.hidden, CLASSES).init(device),
            relu: Relu::new(),
        }
    }
}

/// The classifier.
#[derive(Module, Debug)]
pub struct FashionCnn {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
    relu: Relu,
}

/// `include_bytes!` gives 1-byte alignment; f16 tensors are read in place and need more.
#[repr(C, align(64))]
struct Aligned<T: ?Sized>(T);
static BUNDLED: &Aligned<[u8]> = &Aligned(*include_bytes!("../weights/fashion_cnn.bpk"));
static BUNDLED_JPEG: &Aligned<[u8]> = &Aligned(*include_bytes!("../weights/fashion_cnn_jpeg.bpk"));

/// The bundled weight file (f16 burnpack).
pub fn bundled_bytes() -> &'static [u8] {
    &BUNDLED.0
}

/// The bundled weight file of the JPEG-trained model (f16 burnpack).
pub fn bundled_jpeg_bytes() -> &'static [u8] {
    &BUNDLED_JPEG.0
}

impl FashionCnn {
    /// The bundled weights (f16 on disk, f32 in memory) on `device`.
    pub fn load_bundled(device: &Device) -> Result<Self, ModelError> {
        Self::load_bytes_static(&BUNDLED.0, FashionCnnConfig::default(), device)
    }

    /// The bundled JPEG-trained weights (fine-tuned on training images that went through JPEG
    /// at quality 5…50 half of the time) on `device`.
    pub fn load_bundled_jpeg(device: &Device) -> Result<Self, ModelError> {
        Self::load_bytes_static(&BUNDLED_JPEG.0, FashionCnnConfig::default(), device)
    }

    /// Weights from a burnpack file's bytes (as [`FashionCnn::to_bytes`] writes them): a file of
    /// another network, with other shapes, or damaged is an error.
    pub fn load_bytes(bytes: &[u8], config: FashionCnnConfig, device: &Device) -> Result<Self, ModelError> {
        Self::apply_store(&mut crate::weights::store_from_bytes(bytes)?, config, device)
    }

    /// Weights from a burnpack file (as written by [`FashionCnn::to_bytes`]).
    pub fn load_file(path: &std::path::Path, config: FashionCnnConfig, device: &Device) -> Result<Self, ModelError> {
        if !path.is_file() {
            return Err(ModelError::Weights(format!("{} not found", path.display())));
        }
        let mut store =
            BurnpackStore::from_file(path).auto_extension(false).with_from_adapter(HalfPrecisionAdapter::new());
        Self::apply_store(&mut store, config, device)
    }

    fn load_bytes_static(bytes: &'static [u8], config: FashionCnnConfig, device: &Device) -> Result<Self, ModelError> {
        let mut store = BurnpackStore::from_static(bytes).with_from_adapter(HalfPrecisionAdapter::new());
        Self::apply_store(&mut store, config, device)
    }

    fn apply_store(store: &mut BurnpackStore, config: FashionCnnConfig, device: &Device) -> Result<Self, ModelError> {
        crate::weights::load_into(config.init(device), store)
    }

    /// The weights as a burnpack file, stored in f16 (see [`crate::weights::to_f16_bytes`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        crate::weights::to_f16_bytes(self)
    }

    /// Logits `[n, 10]` for normalised images `[n, 1, 28, 28]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_layers(images).0
    }

    /// The two convolution blocks (conv, ReLU, max-pool), on images of any size: the
    /// fully-convolutional part, also run on whole photos for feature distances.
    pub fn conv_maps(&self, images: Tensor<4>) -> [Tensor<4>; 2] {
        let a = self.pool.forward(self.relu.forward(self.conv1.forward(images)));
        let b = self.pool.forward(self.relu.forward(self.conv2.forward(a.clone())));
        [a, b]
    }

    /// Logits `[n, 10]`, the two convolution blocks' outputs and the penultimate activations
    /// `[n, hidden]` (after ReLU): the model's "view" of each image, for feature distances.
    pub fn forward_layers(&self, images: Tensor<4>) -> (Tensor<2>, [Tensor<4>; 2], Tensor<2>) {
        let maps = self.conv_maps(images);
        let x: Tensor<2> = maps[1].clone().flatten(1, 3);
        let dense = self.relu.forward(self.fc1.forward(x));
        (self.fc2.forward(dense.clone()), maps, dense)
    }

    fn device(&self) -> Device {
        self.fc2.weight.val().device()
    }

    /// Class probabilities for `n` gray 28×28 images (`n × 784` bytes, row-major, 0 = black).
    pub fn predict_probs(&self, images: &[u8], n: usize) -> Result<Vec<[f32; CLASSES]>, ModelError> {
        check_images(images, n)?;
        let device = self.device();
        let mut out = Vec::with_capacity(n);
        for chunk in images.chunks(CHUNK * PIXELS) {
            let m = chunk.len() / PIXELS;
            let probs = to_vec(softmax(self.forward(images_tensor(chunk, m, &device)), 1))?;
            out.extend(probs.chunks(CLASSES).map(|p| {
                let mut a = [0f32; CLASSES];
                a.copy_from_slice(p);
                a
            }));
        }
        Ok(out)
    }

    /// The most likely class of each image.
    pub fn predict(&self, images: &[u8], n: usize) -> Result<Vec<u8>, ModelError> {
        Ok(self.predict_probs(images, n)?.iter().map(|p| argmax(p) as u8).collect())
    }
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, ModelError> {
    t.into_data().try_to_vec::<f32>().map_err(|e| ModelError::Tensor(format!("{e:?}")))
}

/// Checks that `images` holds exactly `n` 28×28 images.
pub(crate) fn check_images(images: &[u8], n: usize) -> Result<(), ModelError> {
    match n.checked_mul(PIXELS) {
        Some(len) if len == images.len() => Ok(()),
        _ => Err(ModelError::Input(format!("{} bytes is not {n} images of {SIDE}×{SIDE}", images.len()))),
    }
}

/// Normalised input tensor `[n, 1, 28, 28]` from `n × 784` gray bytes.
pub fn images_tensor(images: &[u8], n: usize, device: &Device) -> Tensor<4> {
    gray_tensor(images, n, SIDE, SIDE, device)
}

/// Normalised input tensor `[n, 1, height, width]` from gray bytes (any size: the convolution
/// blocks run on whole photos too).
pub fn gray_tensor(images: &[u8], n: usize, height: usize, width: usize, device: &Device) -> Tensor<4> {
    let v: Vec<f32> = images.iter().map(|&p| (p as f32 / 255.0 - MEAN) / STD).collect();
    Tensor::from_data(TensorData::new(v, [n, 1, height, width]), device)
}

/// Index of the largest value (the first on ties).
pub fn argmax(p: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best
}
