//! The model lab: a bundled network re-run with its weight matrices stored in one of
//! [`mpq_gpu`]'s formats (f32, f16, Q8_0, Q4_0, Q3_0; reference or searched block scales), by
//! our own code: convolutions as im2col + matrix multiply, bias, ReLU, 2×2 max-pool, linear
//! layers and softmax. The matrix multiplies go either to `mpq_gpu`'s CPU references
//! ([`QuantizedNet::predict_cpu`]) or to our WGSL kernels on a [`Gpu`]
//! ([`QuantizedNet::predict_gpu_async`]); everything else (biases, activations, pooling) is the
//! same f32 code on the CPU for both, so the two paths differ only in the kernels.
//!
//! A network is described by its [`Step`]s, which name the burn modules holding its weights
//! ([`architecture`]); the weights are read out of the burn module with a
//! [`ModuleVisitor`], so another model plugs in with its step list (the F32 test checks the
//! list against burn's own forward pass). Conv weights `[out, in, kh, kw]` become
//! `[out, in·kh·kw]` matrices; linear weights (burn stores `[in, out]`) are transposed to
//! `[out, in]`.
//!
//! On the web: [`QuantizedNet::from_classifier_async`] and [`QuantizedNet::predict_gpu_async`]
//! never block (the kernels' readback is awaited, see [`Gpu::run_async`]);
//! [`evaluate_async`] runs a whole table. Timings (`ms_per_1000`) are measured natively only
//! (`std::time::Instant` does not exist on wasm32-unknown-unknown): the page times its own calls.

use burn::module::{ModuleVisitor, Param};
use burn::tensor::Tensor;
#[cfg(feature = "gpu")]
use mpq_gpu::GpuMatrix;
#[cfg(feature = "gpu")]
pub use mpq_gpu::Gpu;
use mpq_core::target::{Target, TargetReport};
use mpq_gpu::{Format, QuantMatrix, Scale};
use mpq_metrics::perception::{argmax, kl_divergence};

use crate::ModelError;
use crate::classifier::{Classifier, ModelId, Task, block_on};
use crate::data::LabeledImages;
use crate::{cats_dogs_cnn, fashion_cnn, float_codec};

/// Items per pass: bounds the im2col buffer (64 CIFAR images: 16 384 × 144 floats, 9.4 MB, for
/// conv2), far below WebGPU's default 128 MiB storage binding and its 65 535 workgroups per
/// dimension (the tiled kernel uses one per 16 rows of the batch).
const CHUNK: usize = 64;

/// One step of a network's forward pass. Activations are NCHW; a linear layer takes them
/// flattened in that order (burn's `flatten(1, 3)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// 2-D convolution, stride 1, zero padding `pad` on every side; `name` is the burn module
    /// holding `weight` `[out, in, kh, kw]` and `bias` `[out]`.
    Conv { name: &'static str, pad: usize },
    /// Linear layer; `name` is the burn module holding `weight` `[in, out]` and `bias` `[out]`.
    Linear { name: &'static str },
    Relu,
    /// 2×2 max-pool, stride 2 (odd sizes round down, like burn's `MaxPool2d` without padding).
    MaxPool2,
}

const FASHION_STEPS: [Step; 9] = [
    Step::Conv { name: "conv1", pad: 1 },
    Step::Relu,
    Step::MaxPool2,
    Step::Conv { name: "conv2", pad: 1 },
    Step::Relu,
    Step::MaxPool2,
    Step::Linear { name: "fc1" },
    Step::Relu,
    Step::Linear { name: "fc2" },
];

const CATS_DOGS_STEPS: [Step; 12] = [
    Step::Conv { name: "conv1", pad: 1 },
    Step::Relu,
    Step::MaxPool2,
    Step::Conv { name: "conv2", pad: 1 },
    Step::Relu,
    Step::MaxPool2,
    Step::Conv { name: "conv3", pad: 1 },
    Step::Relu,
    Step::MaxPool2,
    // Dropout is the identity at inference.
    Step::Linear { name: "fc1" },
    Step::Relu,
    Step::Linear { name: "fc2" },
];

/// The forward pass of a bundled model as steps (see `fashion_cnn` and `cats_dogs_cnn`).
pub fn architecture(id: ModelId) -> &'static [Step] {
    match id {
        ModelId::FashionCnn | ModelId::FashionCnnJpeg => &FASHION_STEPS,
        ModelId::CatsDogsCnn => &CATS_DOGS_STEPS,
    }
}

/// A float parameter read out of a burn module: its dotted path (`conv1.weight`), shape and
/// values (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedParam {
    pub path: String,
    pub dims: Vec<usize>,
    pub values: Vec<f32>,
}

/// Collects every float parameter with its path. Tensors are cloned (cheap handles) and read
/// afterwards, asynchronously, so this works on a WebGPU device too.
#[derive(Default)]
struct Collector {
    path: Vec<String>,
    found: Vec<(String, Vec<usize>, Tensor<1>)>,
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let dims = t.dims().to_vec();
        let n = dims.iter().product::<usize>();
        self.found.push((self.path.join("."), dims, t.reshape([n])));
    }
}

impl Collector {
    async fn read(self) -> Result<Vec<NamedParam>, ModelError> {
        let mut out = Vec::with_capacity(self.found.len());
        for (path, dims, t) in self.found {
            let data = t.into_data_async().await.map_err(|e| ModelError::Tensor(format!("{e:?}")))?;
            let values = data.convert::<f32>().try_to_vec::<f32>().map_err(|e| ModelError::Tensor(format!("{e:?}")))?;
            out.push(NamedParam { path, dims, values });
        }
        Ok(out)
    }
}

/// Every float parameter of a burn module (e.g. a model that is not bundled yet).
pub async fn module_params<M: burn::module::Module>(module: &M) -> Result<Vec<NamedParam>, ModelError> {
    let mut c = Collector::default();
    module.visit(&mut c);
    c.read().await
}

/// Every float parameter of a bundled classifier's network.
pub async fn classifier_params(classifier: &Classifier) -> Result<Vec<NamedParam>, ModelError> {
    let mut c = Collector::default();
    classifier.visit_network(&mut c);
    c.read().await
}

/// One conv or linear layer with its weight matrix in the chosen format.
#[derive(Debug, Clone)]
pub struct QuantLayer {
    /// The burn module's name (`conv1`, `fc2`, …).
    pub name: String,
    /// `[out, in·kh·kw]` (conv) or `[out, in]` (linear), as consecutive groups of rows, each in
    /// its own format: one matrix for a layer of one format; several where a target size mixes
    /// formats inside a layer ([`crate::weight_mix`]). Each group is one matrix multiply.
    pub weights: Vec<QuantMatrix>,
    /// f32, one per output.
    pub bias: Vec<f32>,
    /// `Some((kh, kw, pad))` for a convolution.
    pub conv: Option<(usize, usize, usize)>,
}

impl QuantLayer {
    /// Outputs (rows of the whole matrix).
    pub fn rows(&self) -> usize {
        self.weights.iter().map(|m| m.rows).sum()
    }
    pub fn cols(&self) -> usize {
        self.weights.first().map_or(0, |m| m.cols)
    }
    pub fn weight_count(&self) -> usize {
        self.rows() * self.cols()
    }
    pub fn storage_bytes(&self) -> usize {
        self.weights.iter().map(|m| m.storage_bytes()).sum()
    }
    /// The whole matrix as the kernels see it, row-major.
    pub fn dequantize(&self) -> Vec<f32> {
        self.weights.iter().flat_map(|m| m.dequantize()).collect()
    }
    /// The format of most of its rows.
    pub fn format(&self) -> Format {
        let mut by: Vec<(Format, usize)> = Vec::new();
        for m in &self.weights {
            match by.iter_mut().find(|(f, _)| *f == m.format) {
                Some((_, n)) => *n += m.rows,
                None => by.push((m.format, m.rows)),
            }
        }
        by.into_iter().max_by_key(|&(_, n)| n).map_or(Format::F32, |(f, _)| f)
    }
}

/// `batch × rows` outputs of one layer from its row groups' `batch × rows_g` outputs.
fn join_rows(parts: Vec<Vec<f32>>, layer: &QuantLayer, batch: usize) -> Vec<f32> {
    if parts.len() == 1 {
        return parts.into_iter().next().expect("one part");
    }
    let rows = layer.rows();
    let mut y = vec![0f32; batch * rows];
    let mut r0 = 0;
    for (part, m) in parts.iter().zip(&layer.weights) {
        for b in 0..batch {
            y[b * rows + r0..b * rows + r0 + m.rows].copy_from_slice(&part[b * m.rows..(b + 1) * m.rows]);
        }
        r0 += m.rows;
    }
    y
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Layer(usize),
    Relu,
    MaxPool2,
}

/// A network whose weight matrices are in one format; runs on the CPU references or our GPU
/// kernels.
#[derive(Debug, Clone)]
pub struct QuantizedNet {
    task: Task,
    format: Format,
    scale: Scale,
    ops: Vec<Op>,
    layers: Vec<QuantLayer>,
}

/// NCHW activations of a batch.
struct Act {
    data: Vec<f32>,
    n: usize,
    c: usize,
    h: usize,
    w: usize,
}

impl Act {
    fn item_len(&self) -> usize {
        self.c * self.h * self.w
    }
}

/// Where the matrix multiplies run.
trait Matmul {
    /// Y = X·Wᵀ for layer `layer`'s matrix; X is `batch × cols`.
    async fn matmul(&self, layer: usize, x: &[f32], batch: usize) -> Result<Vec<f32>, ModelError>;
}

struct CpuMatmul<'a>(&'a QuantizedNet);

impl Matmul for CpuMatmul<'_> {
    async fn matmul(&self, layer: usize, x: &[f32], batch: usize) -> Result<Vec<f32>, ModelError> {
        let l = &self.0.layers[layer];
        Ok(join_rows(l.weights.iter().map(|m| mpq_gpu::cpu::matmul(m, x, batch)).collect(), l, batch))
    }
}

/// Without the `gpu` feature (the page's CPU-only worker module) there is no device: this type
/// has no values, so a [`Backend::Gpu`] cannot be made and only the CPU references run.
#[cfg(not(feature = "gpu"))]
#[derive(Debug, Clone, Copy)]
pub enum Gpu {}

/// A [`QuantizedNet`]'s matrices uploaded to one GPU (upload once, predict many times).
#[cfg(feature = "gpu")]
pub struct GpuNet<'a> {
    net: &'a QuantizedNet,
    gpu: &'a Gpu,
    /// Per layer, its row groups.
    matrices: Vec<Vec<GpuMatrix>>,
}

#[cfg(feature = "gpu")]
impl Matmul for GpuNet<'_> {
    async fn matmul(&self, layer: usize, x: &[f32], batch: usize) -> Result<Vec<f32>, ModelError> {
        let mut parts = Vec::with_capacity(self.matrices[layer].len());
        for m in &self.matrices[layer] {
            parts.push(self.gpu.run_async(m, x, batch, 1).await?);
        }
        Ok(join_rows(parts, &self.net.layers[layer], batch))
    }
}

#[cfg(feature = "gpu")]
impl GpuNet<'_> {
    /// Class probabilities of `n` items, the matrix multiplies on the GPU.
    pub async fn predict_async(&self, pixels: &[u8], n: usize) -> Result<Vec<Vec<f32>>, ModelError> {
        self.net.forward(self, pixels, n).await
    }
}

impl QuantizedNet {
    /// Builds the network of `steps` for `task` from named parameters (`<name>.weight`,
    /// `<name>.bias`), quantizing each weight matrix to `format` with `scale`. Shapes are
    /// checked layer by layer against the task's input.
    pub fn from_params(
        task: Task,
        steps: &[Step],
        params: &[NamedParam],
        format: Format,
        scale: Scale,
    ) -> Result<Self, ModelError> {
        Self::from_params_with(task, steps, params, scale, &mut |_, _, w, rows, cols| Ok(vec![quantize(w, rows, cols, format, scale)?]))
    }

    /// [`Self::from_params`] with each layer's matrix made by `matrix(layer, name, weights,
    /// rows, cols)` (weights row-major `[out, in·kh·kw]` or `[out, in]`) as groups of rows that
    /// together hold all `rows` (block scales chosen by `scale`): formats mixed per layer and
    /// inside one ([`crate::weight_mix`]). The net's [`Self::format`] is then the format of most
    /// weights.
    pub fn from_params_with(
        task: Task,
        steps: &[Step],
        params: &[NamedParam],
        scale: Scale,
        matrix: &mut dyn FnMut(usize, &str, &[f32], usize, usize) -> Result<Vec<QuantMatrix>, ModelError>,
    ) -> Result<Self, ModelError> {
        let bad = |m: String| ModelError::Weights(m);
        let find = |path: String| params.iter().find(|p| p.path == path).ok_or_else(|| bad(format!("no parameter {path}")));
        // Shape of the activations flowing through, per item: (c, h, w).
        let (mut c, mut h, mut w) = (task.channels(), task.side(), task.side());
        let (mut ops, mut layers) = (Vec::new(), Vec::new());
        for step in steps {
            match *step {
                Step::Conv { name, pad } => {
                    let weight = find(format!("{name}.weight"))?;
                    let &[out, cin, kh, kw] = weight.dims.as_slice() else {
                        return Err(bad(format!("{name}.weight has shape {:?}, expected [out, in, kh, kw]", weight.dims)));
                    };
                    if cin != c || h + 2 * pad < kh || w + 2 * pad < kw {
                        return Err(bad(format!("{name}: kernel {:?} does not fit input {c}×{h}×{w}", weight.dims)));
                    }
                    let bias = bias_of(params, name, out)?;
                    let m = row_groups(name, matrix(layers.len(), name, &weight.values, out, cin * kh * kw)?, out, cin * kh * kw)?;
                    layers.push(QuantLayer { name: name.to_string(), weights: m, bias, conv: Some((kh, kw, pad)) });
                    (c, h, w) = (out, h + 2 * pad - kh + 1, w + 2 * pad - kw + 1);
                    ops.push(Op::Layer(layers.len() - 1));
                }
                Step::Linear { name } => {
                    let weight = find(format!("{name}.weight"))?;
                    let &[cin, out] = weight.dims.as_slice() else {
                        return Err(bad(format!("{name}.weight has shape {:?}, expected [in, out]", weight.dims)));
                    };
                    if cin != c * h * w {
                        return Err(bad(format!("{name}: takes {cin} inputs, gets {c}×{h}×{w}")));
                    }
                    let bias = bias_of(params, name, out)?;
                    // burn's [in, out] → our row-major [out, in].
                    let mut t = vec![0f32; cin * out];
                    for i in 0..cin {
                        for o in 0..out {
                            t[o * cin + i] = weight.values[i * out + o];
                        }
                    }
                    let m = row_groups(name, matrix(layers.len(), name, &t, out, cin)?, out, cin)?;
                    layers.push(QuantLayer { name: name.to_string(), weights: m, bias, conv: None });
                    (c, h, w) = (out, 1, 1);
                    ops.push(Op::Layer(layers.len() - 1));
                }
                Step::Relu => ops.push(Op::Relu),
                Step::MaxPool2 => {
                    if h < 2 || w < 2 {
                        return Err(bad(format!("max-pool on a {h}×{w} map")));
                    }
                    (h, w) = (h / 2, w / 2);
                    ops.push(Op::MaxPool2);
                }
            }
        }
        if c * h * w != task.classes().len() {
            return Err(bad(format!("the last step gives {} values for {} classes", c * h * w, task.classes().len())));
        }
        // The format of most weights (every layer's, unless mixed).
        let format = layers.iter().max_by_key(|l| l.weight_count()).map_or(Format::F32, |l| l.format());
        Ok(Self { task, format, scale, ops, layers })
    }

    /// A bundled classifier's network with its weight matrices in `format` (the classifier's
    /// device may be any burn device; its weights are read back asynchronously).
    pub async fn from_classifier_async(classifier: &Classifier, format: Format, scale: Scale) -> Result<Self, ModelError> {
        let params = classifier_params(classifier).await?;
        Self::from_params(classifier.task(), architecture(classifier.id()), &params, format, scale)
    }

    /// [`Self::from_classifier_async`], waited for (native code, or a classifier on the CPU
    /// backend).
    pub fn from_classifier(classifier: &Classifier, format: Format, scale: Scale) -> Result<Self, ModelError> {
        block_on(Self::from_classifier_async(classifier, format, scale))
    }

    pub fn task(&self) -> Task {
        self.task
    }
    /// The weights' format (of most weights, for a net with a format per layer).
    pub fn format(&self) -> Format {
        self.format
    }
    pub fn scale(&self) -> Scale {
        self.scale
    }
    pub fn layers(&self) -> &[QuantLayer] {
        &self.layers
    }

    /// Weights in the matrices (biases not counted).
    pub fn weight_count(&self) -> usize {
        self.layers.iter().map(|l| l.weight_count()).sum()
    }

    /// Bytes of the weight matrices as stored for the kernels: weights, block scales, and the
    /// zero padding of each row to whole blocks of 32 (which matters for small convolutions:
    /// a 3×3 kernel over one channel is 9 weights stored as a block of 32).
    pub fn weight_bytes(&self) -> usize {
        self.layers.iter().map(|l| l.storage_bytes()).sum()
    }

    /// Bytes of the biases (f32).
    pub fn bias_bytes(&self) -> usize {
        4 * self.layers.iter().map(|l| l.bias.len()).sum::<usize>()
    }

    /// Stored bits per weight: `8 · weight_bytes / weight_count` (scales and padding included,
    /// so it can exceed the format's nominal 8.5 / 4.5 / 3.5).
    pub fn bits_per_weight(&self) -> f64 {
        8.0 * self.weight_bytes() as f64 / self.weight_count().max(1) as f64
    }

    /// Relative RMS error of the weight matrices against `reference`'s (e.g. the same network
    /// in F32): `sqrt(Σ (w − ŵ)² / Σ w²)` over every matrix; NaN when the layers differ.
    pub fn relative_rmse(&self, reference: &QuantizedNet) -> f64 {
        if self.layers.len() != reference.layers.len() {
            return f64::NAN;
        }
        let (mut err, mut norm) = (0f64, 0f64);
        for (a, b) in reference.layers.iter().zip(&self.layers) {
            if (a.rows(), a.cols()) != (b.rows(), b.cols()) {
                return f64::NAN;
            }
            for (x, y) in a.dequantize().into_iter().zip(b.dequantize()) {
                err += ((x - y) as f64).powi(2);
                norm += (x as f64).powi(2);
            }
        }
        (err / norm).sqrt()
    }

    /// The weights as the kernels see them, rounded to f16 bits, layer by layer, row-major
    /// (the input of the lossless [`float_codec`]).
    pub fn weights_f16_bits(&self) -> Vec<u16> {
        self.layers.iter().flat_map(|l| l.dequantize()).map(|v| half::f16::from_f32(v).to_bits()).collect()
    }

    /// Class probabilities of `n` items (`n × task().item_bytes()` bytes, as
    /// [`Classifier::predict`] takes them), the matrix multiplies on the CPU references.
    pub fn predict_cpu(&self, pixels: &[u8], n: usize) -> Result<Vec<Vec<f32>>, ModelError> {
        block_on(self.forward(&CpuMatmul(self), pixels, n))
    }

    /// Uploads the weight matrices to `gpu`.
    #[cfg(feature = "gpu")]
    pub fn upload<'a>(&'a self, gpu: &'a Gpu) -> Result<GpuNet<'a>, ModelError> {
        let matrices =
            self.layers.iter().map(|l| l.weights.iter().map(|m| gpu.upload(m)).collect::<Result<Vec<_>, _>>()).collect::<Result<Vec<_>, _>>()?;
        Ok(GpuNet { net: self, gpu, matrices })
    }

    /// Class probabilities of `n` items, the matrix multiplies in our WGSL kernels on `gpu`
    /// (uploads the matrices first; use [`Self::upload`] to reuse them).
    #[cfg(feature = "gpu")]
    pub async fn predict_gpu_async(&self, gpu: &Gpu, pixels: &[u8], n: usize) -> Result<Vec<Vec<f32>>, ModelError> {
        self.upload(gpu)?.predict_async(pixels, n).await
    }

    /// [`Self::predict_gpu_async`], waited for (native: each readback polls the device to
    /// completion).
    #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
    pub fn predict_gpu(&self, gpu: &Gpu, pixels: &[u8], n: usize) -> Result<Vec<Vec<f32>>, ModelError> {
        block_on(self.predict_gpu_async(gpu, pixels, n))
    }

    async fn forward<M: Matmul>(&self, engine: &M, pixels: &[u8], n: usize) -> Result<Vec<Vec<f32>>, ModelError> {
        let task = self.task;
        let item = task.item_bytes();
        if n.checked_mul(item) != Some(pixels.len()) {
            return Err(ModelError::Input(format!(
                "{} bytes is not {n} items of {item} bytes ({}×{}×{})",
                pixels.len(),
                task.side(),
                task.side(),
                task.channels()
            )));
        }
        let mut out = Vec::with_capacity(n);
        for chunk in pixels.chunks(CHUNK * item) {
            let m = chunk.len() / item;
            let mut act = Act { data: normalised(task, chunk, m)?, n: m, c: task.channels(), h: task.side(), w: task.side() };
            for op in &self.ops {
                act = match *op {
                    Op::Layer(i) => self.layer(engine, i, act).await?,
                    Op::Relu => {
                        act.data.iter_mut().for_each(|v| *v = v.max(0.0));
                        act
                    }
                    Op::MaxPool2 => max_pool2(&act),
                };
            }
            let k = act.item_len();
            out.extend(act.data.chunks(k).map(softmax));
        }
        Ok(out)
    }

    async fn layer<M: Matmul>(&self, engine: &M, i: usize, act: Act) -> Result<Act, ModelError> {
        let layer = &self.layers[i];
        let out = layer.rows();
        match layer.conv {
            Some((kh, kw, pad)) => {
                let (x, oh, ow) = im2col(&act, kh, kw, pad);
                let positions = oh * ow;
                let y = engine.matmul(i, &x, act.n * positions).await?;
                // [item, position, out] → NCHW, plus the bias.
                let mut data = vec![0f32; act.n * out * positions];
                for b in 0..act.n {
                    for p in 0..positions {
                        let row = &y[(b * positions + p) * out..(b * positions + p + 1) * out];
                        for (o, &v) in row.iter().enumerate() {
                            data[(b * out + o) * positions + p] = v + layer.bias[o];
                        }
                    }
                }
                Ok(Act { data, n: act.n, c: out, h: oh, w: ow })
            }
            None => {
                let mut y = engine.matmul(i, &act.data, act.n).await?;
                for row in y.chunks_mut(out) {
                    row.iter_mut().zip(&layer.bias).for_each(|(v, b)| *v += b);
                }
                Ok(Act { data: y, n: act.n, c: out, h: 1, w: 1 })
            }
        }
    }
}

pub(crate) fn quantize(w: &[f32], rows: usize, cols: usize, format: Format, scale: Scale) -> Result<QuantMatrix, ModelError> {
    QuantMatrix::quantize_with(w, rows, cols, format, scale).map_err(|e| ModelError::Weights(e.to_string()))
}

/// Checks that `groups` are row groups of a `rows × cols` matrix (the builder's promise).
fn row_groups(name: &str, groups: Vec<QuantMatrix>, rows: usize, cols: usize) -> Result<Vec<QuantMatrix>, ModelError> {
    let total: usize = groups.iter().map(|m| m.rows).sum();
    if groups.is_empty() || total != rows || groups.iter().any(|m| m.cols != cols) {
        return Err(ModelError::Weights(format!("{name}: row groups of {total} rows for a {rows}×{cols} matrix")));
    }
    Ok(groups)
}

fn bias_of(params: &[NamedParam], name: &str, out: usize) -> Result<Vec<f32>, ModelError> {
    match params.iter().find(|p| p.path == format!("{name}.bias")) {
        Some(b) if b.values.len() == out => Ok(b.values.clone()),
        Some(b) => Err(ModelError::Weights(format!("{name}.bias has {} values for {out} outputs", b.values.len()))),
        None => Ok(vec![0.0; out]),
    }
}

/// The model's own input normalisation (the same functions burn's forward pass is fed by).
fn normalised(task: Task, pixels: &[u8], n: usize) -> Result<Vec<f32>, ModelError> {
    let device = crate::cpu_device();
    let side = task.side();
    let t = match task {
        Task::Fashion => fashion_cnn::gray_tensor(pixels, n, side, side, &device),
        Task::CatsDogs => cats_dogs_cnn::rgb_tensor(pixels, n, side, side, &device),
    };
    t.into_data().try_to_vec::<f32>().map_err(|e| ModelError::Tensor(format!("{e:?}")))
}

/// Rows of `kh·kw` patches (channel-major, like the conv weight's `[in, kh, kw]`), one per
/// output position: `(n·oh·ow) × (c·kh·kw)`, zeros outside the image.
fn im2col(a: &Act, kh: usize, kw: usize, pad: usize) -> (Vec<f32>, usize, usize) {
    let (oh, ow) = (a.h + 2 * pad - kh + 1, a.w + 2 * pad - kw + 1);
    let cols = a.c * kh * kw;
    let mut x = vec![0f32; a.n * oh * ow * cols];
    for b in 0..a.n {
        for y in 0..oh {
            for xo in 0..ow {
                let row = &mut x[((b * oh + y) * ow + xo) * cols..][..cols];
                for ci in 0..a.c {
                    let plane = &a.data[(b * a.c + ci) * a.h * a.w..][..a.h * a.w];
                    for ky in 0..kh {
                        let iy = (y + ky).wrapping_sub(pad);
                        if iy >= a.h {
                            continue;
                        }
                        for kx in 0..kw {
                            let ix = (xo + kx).wrapping_sub(pad);
                            if ix < a.w {
                                row[(ci * kh + ky) * kw + kx] = plane[iy * a.w + ix];
                            }
                        }
                    }
                }
            }
        }
    }
    (x, oh, ow)
}

fn max_pool2(a: &Act) -> Act {
    let (h, w) = (a.h / 2, a.w / 2);
    let mut data = Vec::with_capacity(a.n * a.c * h * w);
    for plane in a.data.chunks(a.h * a.w) {
        for y in 0..h {
            for x in 0..w {
                let at = |dy: usize, dx: usize| plane[(2 * y + dy) * a.w + 2 * x + dx];
                data.push(at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1)));
            }
        }
    }
    Act { data, n: a.n, c: a.c, h, w }
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let e: Vec<f32> = logits.iter().map(|&v| (v - max).exp()).collect();
    let sum: f32 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}

// ---------------------------------------------------------------------------------------------
// Evaluation: accuracy per bits per weight.

/// A weight format with its scale rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Variant {
    pub format: Format,
    pub scale: Scale,
}

impl Variant {
    /// `q4_0`, or `q4_0+search` for searched scales.
    pub fn name(&self) -> String {
        match self.scale {
            Scale::Reference => self.format.name().to_string(),
            Scale::Search => format!("{}+search", self.format.name()),
        }
    }
}

/// Each format with reference scales, and with `search` also each block format with searched
/// scales (right after it).
pub fn variants(formats: &[Format], search: bool) -> Vec<Variant> {
    let mut out = Vec::new();
    for &format in formats {
        out.push(Variant { format, scale: Scale::Reference });
        if search && !matches!(format, Format::F32 | Format::F16) {
            out.push(Variant { format, scale: Scale::Search });
        }
    }
    out
}

/// Where [`evaluate`] runs the networks.
#[derive(Clone, Copy)]
pub enum Backend<'a> {
    /// `mpq_gpu`'s CPU references.
    Cpu,
    /// Our WGSL kernels.
    Gpu(&'a Gpu),
}

impl Backend<'_> {
    pub fn name(&self) -> String {
        match self {
            Backend::Cpu => "cpu".into(),
            #[cfg(feature = "gpu")]
            Backend::Gpu(g) => g.info.name.clone(),
            #[cfg(not(feature = "gpu"))]
            Backend::Gpu(g) => match **g {},
        }
    }
}

/// One row of the accuracy-per-bits table.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantRow {
    /// `q4_0`, `q4_0+search`, or `f16+lossless` (the [`float_codec`] row).
    pub variant: String,
    pub format: Format,
    pub scale: Scale,
    /// The lossless entropy-coded f16 row: its numbers are f16's, its size the coded size.
    pub lossless: bool,
    /// Weights in the matrices.
    pub weights: usize,
    /// Bytes of the weight matrices (scales and block padding included; for the lossless row
    /// the coded size of the unpadded f16 weights).
    pub weight_bytes: usize,
    /// Bytes of the f32 biases (the same for every row).
    pub bias_bytes: usize,
    pub bits_per_weight: f64,
    /// `weight_bytes / (2 · weights)`: the size relative to plain f16.
    pub bytes_vs_f16: f64,
    /// Relative RMS error of the weights against the f32 weights (see
    /// [`QuantizedNet::relative_rmse`]).
    pub weight_rel_rmse: f64,
    /// Top-1 accuracy on the labels.
    pub accuracy: f64,
    /// The burn model's (f32 weights) accuracy on the same items.
    pub reference_accuracy: f64,
    /// Share of items whose top-1 class equals the burn model's.
    pub top1_agreement: f64,
    /// Mean KL(burn model ‖ this) in nats.
    pub mean_kl: f64,
    pub items: usize,
    /// Prediction time per 1000 items (native only; `None` on the web and for the lossless row).
    pub ms_per_1000: Option<f64>,
    /// The burn model's time per 1000 items on its own device (native only), for comparison.
    pub reference_ms_per_1000: Option<f64>,
    /// `cpu` or the GPU adapter's name.
    pub backend: String,
    /// The target-size row's search (`mix`, `mix+search`): the format per layer chosen for the
    /// target ([`crate::weight_mix`]); `None` for a row of one format.
    pub target: Option<TargetReport>,
}

impl QuantRow {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "variant": self.variant, "format": self.format.name(), "scale": self.scale.name(),
            "lossless": self.lossless, "weights": self.weights, "weight_bytes": self.weight_bytes,
            "bias_bytes": self.bias_bytes, "bits_per_weight": self.bits_per_weight,
            "bytes_vs_f16": self.bytes_vs_f16, "weight_rel_rmse": self.weight_rel_rmse, "accuracy": self.accuracy,
            "reference_accuracy": self.reference_accuracy, "top1_agreement": self.top1_agreement,
            "mean_kl": self.mean_kl, "items": self.items, "ms_per_1000": self.ms_per_1000,
            "reference_ms_per_1000": self.reference_ms_per_1000, "backend": self.backend, "target": self.target,
        })
    }
}

/// Scores of one variant's probabilities against the labels and the reference.
struct Scores {
    accuracy: f64,
    agreement: f64,
    kl: f64,
}

fn score(probs: &[Vec<f32>], reference: &[Vec<f32>], labels: &[u8]) -> Scores {
    let n = probs.len().max(1) as f64;
    let (mut correct, mut agree, mut kl) = (0usize, 0usize, 0f64);
    for ((p, r), &l) in probs.iter().zip(reference).zip(labels) {
        correct += (argmax(p) == l as usize) as usize;
        agree += (argmax(p) == argmax(r)) as usize;
        kl += kl_divergence(r, p);
    }
    Scores { accuracy: correct as f64 / n, agreement: agree as f64 / n, kl: kl / n }
}

/// Accuracy, agreement with the burn model and mean KL to it, bits per weight and bytes, for
/// each variant on every item of `subset` (the task's committed test subset); with `target`, a
/// row with a format per layer chosen for that size (`mix`, or `mix+search` when the variants
/// search scales: [`crate::weight_mix`]); and a row for the lossless [`float_codec`] on the f16
/// weights (bits and bytes vs f16; accuracy = f16's).
pub async fn evaluate_async(
    classifier: &Classifier,
    variants: &[Variant],
    target: Option<Target>,
    subset: &LabeledImages,
    backend: Backend<'_>,
) -> Result<Vec<QuantRow>, ModelError> {
    evaluate_each_async(classifier, variants, target, subset, backend, |_, _, _| {}).await
}

/// [`evaluate_async`], calling `each(done, total, row)` as each row is ready (the page fills
/// its table and plot live).
pub async fn evaluate_each_async(
    classifier: &Classifier,
    variants: &[Variant],
    target: Option<Target>,
    subset: &LabeledImages,
    backend: Backend<'_>,
    mut each: impl FnMut(usize, usize, &QuantRow),
) -> Result<Vec<QuantRow>, ModelError> {
    let task = classifier.task();
    if subset.rows != task.side() || subset.cols != task.side() || subset.channels != task.channels() {
        return Err(ModelError::Input(format!(
            "the subset's {}×{}×{} items are not {}'s {}×{}×{}",
            subset.rows,
            subset.cols,
            subset.channels,
            task.name(),
            task.side(),
            task.side(),
            task.channels()
        )));
    }
    let n = subset.len();
    if n == 0 {
        return Err(ModelError::Input("the test subset is empty".into()));
    }
    #[cfg(not(target_arch = "wasm32"))]
    let t0 = std::time::Instant::now();
    let reference: Vec<Vec<f32>> =
        classifier.predict_async(&subset.pixels, n).await?.into_iter().map(|p| p.probs).collect();
    #[cfg(not(target_arch = "wasm32"))]
    let reference_ms_per_1000 = Some(t0.elapsed().as_secs_f64() * 1e3 * 1000.0 / n as f64);
    #[cfg(target_arch = "wasm32")]
    let reference_ms_per_1000 = None;
    let labels = &subset.labels;
    let reference_accuracy = score(&reference, &reference, labels).accuracy;

    let mut rows = Vec::new();
    let mut f16_row: Option<QuantRow> = None;
    let mut wanted: Vec<(Variant, Option<Target>)> = variants.iter().map(|&v| (v, None)).collect();
    // The target's row is a mix with the variants' scale rule (searched when any is).
    let mix_scale = if variants.iter().any(|v| v.scale == Scale::Search) { Scale::Search } else { Scale::Reference };
    if let Some(t) = target {
        wanted.push((Variant { format: Format::F32, scale: mix_scale }, Some(t)));
    }
    let total = wanted.len() + 1;
    // The lossless row needs f16's numbers: run f16 last if not asked for (not reported).
    let f16 = Variant { format: Format::F16, scale: Scale::Reference };
    let extra_f16 = !variants.contains(&f16);
    if extra_f16 {
        wanted.push((f16, None));
    }
    let mut f16_bits = Vec::new();
    // The weights are read back from the classifier's device once, for every variant.
    let params = classifier_params(classifier).await?;
    let net_in = |format, scale| QuantizedNet::from_params(task, architecture(classifier.id()), &params, format, scale);
    let f32_net = net_in(Format::F32, Scale::Reference)?;
    for (k, (v, mix)) in wanted.iter().enumerate() {
        let (net, name, report) = match mix {
            None => (net_in(v.format, v.scale)?, v.name(), None),
            Some(t) => {
                let m = crate::weight_mix::mix_for_target(task, architecture(classifier.id()), &params, v.scale, *t)?;
                let name = if v.scale == Scale::Search { "mix+search" } else { "mix" };
                (m.net, name.to_string(), Some(m.report))
            }
        };
        #[cfg(not(target_arch = "wasm32"))]
        let t0 = std::time::Instant::now();
        let probs = match backend {
            Backend::Cpu => net.forward(&CpuMatmul(&net), &subset.pixels, n).await?,
            #[cfg(feature = "gpu")]
            Backend::Gpu(gpu) => net.predict_gpu_async(gpu, &subset.pixels, n).await?,
            #[cfg(not(feature = "gpu"))]
            Backend::Gpu(gpu) => match *gpu {},
        };
        #[cfg(not(target_arch = "wasm32"))]
        let ms_per_1000 = Some(t0.elapsed().as_secs_f64() * 1e3 * 1000.0 / n as f64);
        #[cfg(target_arch = "wasm32")]
        let ms_per_1000 = None;
        let s = score(&probs, &reference, labels);
        let weights = net.weight_count();
        let row = QuantRow {
            variant: name,
            format: net.format(),
            scale: v.scale,
            lossless: false,
            weights,
            weight_bytes: net.weight_bytes(),
            bias_bytes: net.bias_bytes(),
            bits_per_weight: net.bits_per_weight(),
            bytes_vs_f16: net.weight_bytes() as f64 / (2 * weights) as f64,
            weight_rel_rmse: net.relative_rmse(&f32_net),
            accuracy: s.accuracy,
            reference_accuracy,
            top1_agreement: s.agreement,
            mean_kl: s.kl,
            items: n,
            ms_per_1000,
            reference_ms_per_1000,
            backend: backend.name(),
            target: report,
        };
        if *v == f16 && mix.is_none() {
            f16_row = Some(row.clone());
            f16_bits = net.weights_f16_bits();
        }
        if !(extra_f16 && k == wanted.len() - 1) {
            each(rows.len(), total, &row);
            rows.push(row);
        }
    }
    let f16_row = f16_row.ok_or_else(|| ModelError::Input("no f16 row".into()))?;
    let coded = float_codec::encode(&f16_bits, float_codec::Half::F16);
    rows.push(QuantRow {
        variant: "f16+lossless".into(),
        lossless: true,
        weight_bytes: coded.len(),
        bits_per_weight: 8.0 * coded.len() as f64 / f16_bits.len().max(1) as f64,
        bytes_vs_f16: coded.len() as f64 / (2 * f16_bits.len()).max(1) as f64,
        ms_per_1000: None,
        target: None,
        ..f16_row
    });
    if let Some(row) = rows.last() {
        each(rows.len() - 1, total, row);
    }
    Ok(rows)
}

/// [`evaluate_async`], waited for (native).
#[cfg(not(target_arch = "wasm32"))]
pub fn evaluate(
    classifier: &Classifier,
    variants: &[Variant],
    target: Option<Target>,
    subset: &LabeledImages,
    backend: Backend<'_>,
) -> Result<Vec<QuantRow>, ModelError> {
    block_on(evaluate_async(classifier, variants, target, subset, backend))
}

// ---------------------------------------------------------------------------------------------
// Plot.

/// A small SVG: accuracy (%) against stored bits per weight (log₂ axis), one colour for
/// reference scales, one for searched scales, a diamond for the lossless f16 row, a square for
/// the target size's mix of formats, and the burn model's accuracy as a dashed line. Hand-written like `mpq_metrics::sweep`'s plots.
pub fn plot_svg(title: &str, rows: &[QuantRow]) -> String {
    use std::fmt::Write;
    let (width, height) = (640.0, 420.0);
    let (left, right, top, bottom) = (70.0, 20.0, 40.0, 80.0);
    let (pw, ph) = (width - left - right, height - top - bottom);
    let finite: Vec<&QuantRow> = rows.iter().filter(|r| r.accuracy.is_finite() && r.bits_per_weight > 0.0).collect();
    let reference = rows.first().map_or(f64::NAN, |r| 100.0 * r.reference_accuracy);
    let (mut lo, mut hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
        (lo.min(100.0 * r.accuracy), hi.max(100.0 * r.accuracy))
    });
    if reference.is_finite() {
        (lo, hi) = (lo.min(reference), hi.max(reference));
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 100.0);
    }
    // Round ticks: the smallest step of 0.5, 1, 2, 5, 10, 20 giving at most 6 intervals.
    let step = [0.5, 1.0, 2.0, 5.0, 10.0, 20.0].into_iter().find(|st| (hi - lo) / st <= 5.0).unwrap_or(25.0);
    let lo = ((lo / step).floor() * step - if lo % step == 0.0 { step } else { 0.0 }).max(0.0);
    let hi = ((hi / step).ceil() * step).min(100.0).max(lo + step);
    let (xmin, xmax) = (2f64.log2(), 40f64.log2());
    let px = |bits: f64| left + (bits.clamp(2.0, 40.0).log2() - xmin) / (xmax - xmin) * pw;
    let py = |acc: f64| top + (hi - acc) / (hi - lo) * ph;
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">"#
    );
    let _ = write!(s, r#"<rect width="{width}" height="{height}" fill="white"/>"#);
    let _ = write!(s, r#"<text x="{}" y="24" text-anchor="middle" font-size="16">{}</text>"#, width / 2.0, esc(title));
    for bits in [2.0, 4.0, 8.0, 16.0, 32.0] {
        let x = px(bits);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle">{bits}</text>"##,
            top + ph,
            top + ph + 18.0
        );
    }
    let mut acc = lo;
    while acc <= hi + 1e-9 {
        let y = py(acc);
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{acc}</text>"##,
            left + pw,
            left - 6.0,
            y + 4.0
        );
        acc += step;
    }
    let _ = write!(s, r#"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#);
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">stored bits per weight (log scale; scales and padding included)</text>"#,
        left + pw / 2.0,
        top + ph + 40.0
    );
    let _ = write!(
        s,
        r#"<text transform="translate(18 {}) rotate(-90)" text-anchor="middle">top-1 accuracy (%)</text>"#,
        top + ph / 2.0
    );
    if reference.is_finite() {
        let y = py(reference);
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#555" stroke-dasharray="5 4"/><text x="{}" y="{:.1}" fill="#555">f32 model {reference:.1} %</text>"##,
            left + pw,
            left + 6.0,
            y - 5.0
        );
    }
    // Okabe & Ito colours, as the sweep plots use.
    for r in &finite {
        let (x, y) = (px(r.bits_per_weight), py(100.0 * r.accuracy));
        let tip = format!(
            "{}: {:.2} bits/weight, {:.1} % accuracy, {:.1} % agreement",
            r.variant,
            r.bits_per_weight,
            100.0 * r.accuracy,
            100.0 * r.top1_agreement
        );
        if r.lossless {
            let _ = write!(
                s,
                r##"<path d="M{x:.1} {:.1}l6 6l-6 6l-6 -6z" fill="#009E73"><title>{}</title></path>"##,
                y - 6.0,
                esc(&tip)
            );
        } else if r.target.is_some() {
            let _ = write!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="#CC79A7"><title>{}</title></rect>"##,
                x - 5.0,
                y - 5.0,
                esc(&tip)
            );
        } else {
            let colour = if r.scale == Scale::Search { "#D55E00" } else { "#0072B2" };
            let _ = write!(s, r#"<circle cx="{x:.1}" cy="{y:.1}" r="5" fill="{colour}"><title>{}</title></circle>"#, esc(&tip));
        }
        // Labels: reference scales to the left of the point, searched scales to the right (the
        // two share their bits per weight), the lossless row and the target's mix below it.
        let (dx, dy, anchor) = if r.lossless {
            (0.0, 19.0, "middle")
        } else if r.target.is_some() {
            (0.0, 21.0, "middle")
        } else if r.scale == Scale::Search {
            (8.0, 4.0, "start")
        } else {
            (-8.0, 4.0, "end")
        };
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" font-size="11">{}</text>"#,
            x + dx,
            y + dy,
            esc(&r.variant)
        );
    }
    let ly = height - 14.0;
    let _ = write!(
        s,
        r##"<circle cx="{}" cy="{}" r="5" fill="#0072B2"/><text x="{}" y="{}">reference scales</text><circle cx="{}" cy="{}" r="5" fill="#D55E00"/><text x="{}" y="{}">searched scales</text><path d="M{} {}l6 6l-6 6l-6 -6z" fill="#009E73"/><text x="{}" y="{}">f16, lossless entropy-coded</text>"##,
        left + 10.0,
        ly - 4.0,
        left + 20.0,
        ly,
        left + 160.0,
        ly - 4.0,
        left + 170.0,
        ly,
        left + 310.0,
        ly - 10.0,
        left + 320.0,
        ly
    );
    s.push_str("</svg>\n");
    s
}
