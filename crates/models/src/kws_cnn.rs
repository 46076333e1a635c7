//! A small residual CNN that spots ten spoken keywords (yes, no, up, down, left, right, on,
//! off, stop, go), plus "unknown" (any other word) and "silence" (no word: noise or nothing).
//!
//! ```text
//! clip → mono 16 kHz → 1 s window (fit_clip: the word centred; a longer clip's loudest 1 s)
//!      → log-mel 97 frames × 40 bands (mpq_metrics::mel::LogMel::KWS: 30 ms windows, 10 ms hop)
//!      → (x − MEAN) / STD                                       1×97×40
//! conv 3×3 1→C1, ReLU, max-pool 2                               C1×48×20
//! residual block C1 (conv 3×3, ReLU, conv 3×3, + input, ReLU)   C1×48×20
//! conv 3×3 C1→C2 stride 2, ReLU; residual block C2              C2×24×10
//! conv 3×3 C2→C3 stride 2, ReLU; residual block C3              C3×12×5
//! mean over time and frequency → dropout → linear C3→12 (logits)
//! ```
//!
//! The bundled model ([`KwsCnn::load_bundled`]) uses [`KwsCnnConfig::default`] (16, 32, 64
//! channels): see `weights/README.md` for its parameters, size, training command and accuracy
//! on held-out voices and accents. No batch normalisation: the net is shallow enough to train
//! without it, and its weights stay plain convolutions for the quantisation experiments.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::store::{BurnpackStore, HalfPrecisionAdapter};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};

use mpq_metrics::mel::LogMel;

use crate::ModelError;

/// The model's sample rate.
pub const SAMPLE_RATE: u32 = 16_000;
/// Samples in the model's 1 s window.
pub const CLIP_SAMPLES: usize = 16_000;
/// Log-mel frames of one window (512-sample frames every 160 that fit in 16 000).
pub const FRAMES: usize = 97;
/// Mel bands.
pub const MELS: usize = 40;
/// Number of classes.
pub const CLASSES: usize = 12;
/// The class names, by label index.
pub const KWS_CLASSES: [&str; CLASSES] = ["silence", "unknown", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"];
/// The label of "silence" and of "unknown".
pub const SILENCE: u8 = 0;
pub const UNKNOWN: u8 = 1;

/// Mean and standard deviation of the log-mel features (nats) over the training split,
/// computed once from the generated data set (`mpqlab train kws` prints them), fixed here.
pub const MEAN: f32 = -11.4;
pub const STD: f32 = 4.1;

/// Windows per forward pass in the batch helpers (bounds memory).
const CHUNK: usize = 128;

/// The label of a class name (`"yes"` → 2), if it is one.
pub fn label_of(name: &str) -> Option<u8> {
    KWS_CLASSES.iter().position(|&c| c == name).map(|i| i as u8)
}

/// Clips (16 kHz mono, any length) and their labels (indices into `KWS_CLASSES`).
#[derive(Debug, Clone, Default)]
pub struct KwsClips {
    pub clips: Vec<Vec<f32>>,
    pub labels: Vec<u8>,
}

impl KwsClips {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn push(&mut self, clip: Vec<f32>, label: u8) {
        self.clips.push(clip);
        self.labels.push(label);
    }
}

/// The committed test subset (`tests/data/kws_test.flac` + `.json`: 1 s windows of voices and
/// accents held out of training), decoded: what the page's and `mpqlab sweep`'s keyword sweeps
/// run over.
pub fn bundled_test_subset() -> Result<KwsClips, ModelError> {
    static FLAC: &[u8] = include_bytes!("../tests/data/kws_test.flac");
    static JSON: &str = include_str!("../tests/data/kws_test.json");
    decode_test_subset(FLAC, JSON)
}

/// A test subset from its FLAC file and its JSON list (as `mpqlab train kws
/// --export-test-subset` writes them): one label per 1 s window.
pub fn decode_test_subset(flac: &[u8], json: &str) -> Result<KwsClips, ModelError> {
    let audio = mpq_codecs::audio::load(flac).map_err(|e| ModelError::Input(format!("keyword subset: {e}")))?;
    let json: serde_json::Value = serde_json::from_str(json).map_err(|e| ModelError::Input(format!("keyword subset list: {e}")))?;
    let items = json["items"].as_array().ok_or_else(|| ModelError::Input("keyword subset list has no items".into()))?;
    if (audio.sample_rate, audio.channels) != (SAMPLE_RATE, 1) || audio.samples.len() != items.len() * CLIP_SAMPLES {
        return Err(ModelError::Input(format!(
            "keyword subset: {} samples at {} Hz × {} for {} windows of 1 s at 16 kHz mono",
            audio.samples.len(),
            audio.sample_rate,
            audio.channels,
            items.len()
        )));
    }
    let mut set = KwsClips::default();
    for (item, w) in items.iter().zip(audio.samples.chunks(CLIP_SAMPLES)) {
        let label = item["label"].as_str().and_then(label_of).ok_or_else(|| ModelError::Input(format!("keyword subset: bad label {}", item["label"])))?;
        set.push(w.to_vec(), label);
    }
    Ok(set)
}

/// The layer sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KwsCnnConfig {
    /// Channels of the three stages.
    pub channels: [usize; 3],
    /// Dropout before the last layer (training only).
    pub dropout: f64,
}

impl Default for KwsCnnConfig {
    fn default() -> Self {
        Self { channels: [16, 32, 64], dropout: 0.2 }
    }
}

impl KwsCnnConfig {
    /// A model with freshly initialised weights (seed the device first for reproducibility).
    pub fn init(&self, device: &Device) -> KwsCnn {
        let [c1, c2, c3] = self.channels;
        let conv = |cin: usize, cout: usize, stride: usize| {
            Conv2dConfig::new([cin, cout], [3, 3]).with_stride([stride, stride]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device)
        };
        let block = |c: usize| ResidualBlock { conv1: conv(c, c, 1), conv2: conv(c, c, 1), relu: Relu::new() };
        KwsCnn {
            stem: conv(1, c1, 1),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            block1: block(c1),
            down2: conv(c1, c2, 2),
            block2: block(c2),
            down3: conv(c2, c3, 2),
            block3: block(c3),
            dropout: DropoutConfig::new(self.dropout).init(),
            head: LinearConfig::new(c3, CLASSES).init(device),
            relu: Relu::new(),
        }
    }

    /// Parameters (weights and biases).
    pub fn parameters(&self) -> usize {
        let [c1, c2, c3] = self.channels;
        let conv = |cin: usize, cout: usize| cin * cout * 9 + cout;
        conv(1, c1) + 2 * conv(c1, c1) + conv(c1, c2) + 2 * conv(c2, c2) + conv(c2, c3) + 2 * conv(c3, c3) + c3 * CLASSES + CLASSES
    }

    /// Multiply–adds of one forward pass on a 1 s window.
    pub fn macs(&self) -> usize {
        let [c1, c2, c3] = self.channels;
        let conv = |positions: usize, cin: usize, cout: usize| positions * cin * cout * 9;
        conv(FRAMES * MELS, 1, c1) + 2 * conv(48 * 20, c1, c1) + conv(24 * 10, c1, c2) + 2 * conv(24 * 10, c2, c2) + conv(12 * 5, c2, c3)
            + 2 * conv(12 * 5, c3, c3)
            + c3 * CLASSES
    }
}

/// conv 3×3 → ReLU → conv 3×3, plus the input, → ReLU.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    conv1: Conv2d,
    conv2: Conv2d,
    relu: Relu,
}

impl ResidualBlock {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = self.conv2.forward(self.relu.forward(self.conv1.forward(x.clone())));
        self.relu.forward(y + x)
    }
}

/// The keyword spotter.
#[derive(Module, Debug)]
pub struct KwsCnn {
    stem: Conv2d,
    pool: MaxPool2d,
    block1: ResidualBlock,
    down2: Conv2d,
    block2: ResidualBlock,
    down3: Conv2d,
    block3: ResidualBlock,
    dropout: Dropout,
    head: Linear,
    relu: Relu,
}

/// `include_bytes!` gives 1-byte alignment; f16 tensors are read in place and need more.
#[repr(C, align(64))]
struct Aligned<T: ?Sized>(T);
static BUNDLED: &Aligned<[u8]> = &Aligned(*include_bytes!("../weights/kws_cnn.bpk"));

/// The bundled weight file (f16 burnpack).
pub fn bundled_bytes() -> &'static [u8] {
    &BUNDLED.0
}

impl KwsCnn {
    /// The bundled weights (f16 on disk, f32 in memory) on `device`.
    pub fn load_bundled(device: &Device) -> Result<Self, ModelError> {
        let mut store = BurnpackStore::from_static(&BUNDLED.0).with_from_adapter(HalfPrecisionAdapter::new());
        crate::weights::load_into(KwsCnnConfig::default().init(device), &mut store)
    }

    /// Weights from a burnpack file's bytes (as [`KwsCnn::to_bytes`] writes them): a file of
    /// another network, with other shapes, or damaged is an error.
    pub fn load_bytes(bytes: &[u8], config: KwsCnnConfig, device: &Device) -> Result<Self, ModelError> {
        crate::weights::load_into(config.init(device), &mut crate::weights::store_from_bytes(bytes)?)
    }

    /// The weights as a burnpack file, stored in f16.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        crate::weights::to_f16_bytes(self)
    }

    /// Logits `[n, 12]` for normalised features `[n, 1, 97, 40]`.
    pub fn forward(&self, features: Tensor<4>) -> Tensor<2> {
        self.forward_with_maps(features).0
    }

    /// Logits and the three stages' feature maps (the model's "view" of a clip).
    pub fn forward_with_maps(&self, features: Tensor<4>) -> (Tensor<2>, [Tensor<4>; 3]) {
        let a = self.block1.forward(self.pool.forward(self.relu.forward(self.stem.forward(features))));
        let b = self.block2.forward(self.relu.forward(self.down2.forward(a.clone())));
        let c = self.block3.forward(self.relu.forward(self.down3.forward(b.clone())));
        let [n, ch, _, _] = c.dims();
        let pooled: Tensor<2> = c.clone().mean_dim(3).mean_dim(2).reshape([n, ch]);
        (self.head.forward(self.dropout.forward(pooled)), [a, b, c])
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.head.weight.val().device()
    }

    /// Class probabilities for `n` log-mel feature windows (`n × 97 × 40`, frame-major, as
    /// [`features`] makes them).
    pub fn predict_probs(&self, features: &[f32], n: usize) -> Result<Vec<[f32; CLASSES]>, ModelError> {
        if n.checked_mul(FRAMES * MELS) != Some(features.len()) {
            return Err(ModelError::Input(format!("{} values is not {n} windows of {FRAMES}×{MELS} log-mel features", features.len())));
        }
        let device = self.device();
        let mut out = Vec::with_capacity(n);
        for chunk in features.chunks(CHUNK * FRAMES * MELS) {
            let m = chunk.len() / (FRAMES * MELS);
            let probs = softmax(self.forward(features_tensor(chunk, m, &device)), 1)
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| ModelError::Tensor(format!("{e:?}")))?;
            out.extend(probs.chunks(CLASSES).map(|p| std::array::from_fn(|i| p[i])));
        }
        Ok(out)
    }

    /// What the model makes of each 1 s window (`CLIP_SAMPLES` samples at 16 kHz): class
    /// probabilities and the three stages' feature maps (channel-major), for
    /// [`mpq_metrics::perception::compare`] (KL divergence, feature distance).
    pub fn predictions(&self, windows: &[Vec<f32>]) -> Result<Vec<crate::Prediction>, ModelError> {
        crate::classifier::block_on(self.predictions_async(windows))
    }

    /// [`Self::predictions`], read back asynchronously: the form a browser's WebGPU needs (on
    /// the CPU backend it is ready at once).
    pub async fn predictions_async(&self, windows: &[Vec<f32>]) -> Result<Vec<crate::Prediction>, ModelError> {
        let mut ex = LogMel::KWS.extractor();
        let mut out = Vec::with_capacity(windows.len());
        for chunk in windows.chunks(CHUNK) {
            let mut feats = Vec::with_capacity(chunk.len() * FRAMES * MELS);
            for w in chunk {
                if w.len() != CLIP_SAMPLES {
                    return Err(ModelError::Input(format!("a window of {} samples; the model takes {CLIP_SAMPLES}", w.len())));
                }
                feats.extend(ex.log_mel(w));
            }
            let (logits, maps) = self.forward_with_maps(features_tensor(&feats, chunk.len(), &self.device()));
            let probs = to_vec_async(softmax(logits, 1)).await?;
            let mut read_maps: Vec<(usize, usize, Vec<f32>)> = Vec::with_capacity(3);
            for m in maps {
                let [_, c, h, w] = m.dims();
                read_maps.push((c, c * h * w, to_vec_async(m).await?));
            }
            let maps = read_maps;
            for i in 0..chunk.len() {
                out.push(crate::Prediction {
                    probs: probs[i * CLASSES..(i + 1) * CLASSES].to_vec(),
                    features: maps
                        .iter()
                        .map(|(c, per, v)| crate::Activation { channels: *c, values: v[i * per..(i + 1) * per].to_vec() })
                        .collect(),
                });
            }
        }
        Ok(out)
    }

    /// Class probabilities of one clip of any length and rate (mono, already at 16 kHz: see
    /// [`fit_clip`] for how the 1 s window is chosen).
    pub fn classify(&self, samples_16k: &[f32]) -> Result<[f32; CLASSES], ModelError> {
        let window = fit_clip(samples_16k);
        Ok(self.predict_probs(&features(&window), 1)?[0])
    }
}

async fn to_vec_async<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, ModelError> {
    let data = t.into_data_async().await.map_err(|e| ModelError::Tensor(format!("{e:?}")))?;
    data.try_to_vec::<f32>().map_err(|e| ModelError::Tensor(format!("{e:?}")))
}

/// The model's view of a clip and of its decoded copy, over the same stretch of the recording.
pub struct Listening {
    /// The 1 s windows the model heard: the original's, then the decoded clip's.
    pub windows: [Vec<f32>; 2],
    pub original: crate::Prediction,
    pub decoded: crate::Prediction,
}

/// What the keyword model hears in `original` and in `decoded` (which lags by `delay_ms`):
/// both as mono 16 kHz, the original's 1 s window chosen by [`fit_plan`] and the same stretch
/// cut from the decoded clip after its delay. `mpqlab eval` and the audio lab's page use this.
pub async fn listen_async(
    model: &KwsCnn,
    original: &mpq_core::Audio,
    decoded: &mpq_core::Audio,
    delay_ms: f64,
) -> Result<Listening, ModelError> {
    let a = model_samples(original);
    let b = without_delay(&model_samples(decoded), delay_ms);
    let plan = fit_plan(&a, None);
    let windows = [apply_fit(&a, plan), apply_fit(&b, plan)];
    let mut preds = model.predictions_async(&windows).await?.into_iter();
    let (Some(original), Some(decoded)) = (preds.next(), preds.next()) else {
        return Err(ModelError::Tensor("the model gave fewer than two predictions".into()));
    };
    Ok(Listening { windows, original, decoded })
}

/// The `k` most probable classes, most probable first: `(class name, probability)`.
pub fn top_classes(probs: &[f32], k: usize) -> Vec<(&'static str, f32)> {
    let mut idx: Vec<usize> = (0..probs.len().min(CLASSES)).collect();
    idx.sort_by(|&x, &y| probs[y].total_cmp(&probs[x]));
    idx.into_iter().take(k).map(|i| (KWS_CLASSES[i], probs[i])).collect()
}

/// A clip as the model takes it: the mono mix at 16 kHz (resampled with
/// [`mpq_metrics::audio::to_16k`], the filter the log-mel distance uses too).
pub fn model_samples(audio: &mpq_core::Audio) -> Vec<f32> {
    let mono = audio.to_mono();
    mpq_metrics::audio::to_16k(&mono.samples, mono.sample_rate)
}

/// The normalised input tensor `[n, 1, 97, 40]` of `n` feature windows.
pub fn features_tensor(features: &[f32], n: usize, device: &Device) -> Tensor<4> {
    let v: Vec<f32> = features.iter().map(|&x| (x - MEAN) / STD).collect();
    Tensor::from_data(TensorData::new(v, [n, 1, FRAMES, MELS]), device)
}

/// The log-mel features of one 1 s window (`97 × 40`, frame-major).
pub fn features(window: &[f32]) -> Vec<f32> {
    debug_assert_eq!(window.len(), CLIP_SAMPLES);
    LogMel::KWS.extractor().log_mel(window)
}

/// Where the word is: the first and last 10 ms frame whose energy is within 30 dB of the
/// loudest frame's, as a sample range; `None` for digital silence.
pub fn speech_span(samples: &[f32]) -> Option<(usize, usize)> {
    const FRAME: usize = 160;
    let energy: Vec<f64> = samples.chunks(FRAME).map(|c| c.iter().map(|&v| v as f64 * v as f64).sum()).collect();
    let loudest = energy.iter().cloned().fold(0.0, f64::max);
    if loudest <= 0.0 {
        return None;
    }
    let threshold = loudest * 1e-3;
    let first = energy.iter().position(|&e| e >= threshold)?;
    let last = energy.iter().rposition(|&e| e >= threshold)?;
    Some((first * FRAME, ((last + 1) * FRAME).min(samples.len())))
}

/// The model's 1 s window of a 16 kHz clip: the spoken part ([`speech_span`]) centred in 1 s
/// of silence when it fits; the loudest second when it does not (a longer recording). What the
/// page, `mpqlab eval` and the test split all feed the model.
pub fn fit_clip(samples: &[f32]) -> Vec<f32> {
    place_clip(samples, None)
}

/// [`fit_clip`] with the spoken part at `offset` samples into the window (clamped so that it
/// fits); `None` centres it. Training draws the offset (time-shift augmentation).
pub fn place_clip(samples: &[f32], offset: Option<usize>) -> Vec<f32> {
    apply_fit(samples, fit_plan(samples, offset))
}

/// Where [`place_clip`] takes a window from: samples `start..end` of the clip, written at
/// `at` of the 1 s window. Computed on an original and applied to its decoded copy too, so both
/// windows cover the same stretch of the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FitPlan {
    pub start: usize,
    pub end: usize,
    pub at: usize,
}

/// The [`FitPlan`] of a clip (see [`place_clip`]).
pub fn fit_plan(samples: &[f32], offset: Option<usize>) -> FitPlan {
    let (start, end) = speech_span(samples).unwrap_or((0, samples.len().min(CLIP_SAMPLES)));
    if end - start > CLIP_SAMPLES {
        let (a, b) = mpq_metrics::audio::loudest_window(&samples[start..end], CLIP_SAMPLES);
        return FitPlan { start: start + a, end: start + b, at: 0 };
    }
    let room = CLIP_SAMPLES - (end - start);
    FitPlan { start, end, at: offset.unwrap_or(room / 2).min(room) }
}

/// A decoded 16 kHz clip with the codec's delay (`AudioReport::delay_ms`, positive when the
/// decoded clip trails) taken off: its first samples dropped, or silence put in front when it
/// leads. What the model hears of a decoded clip, aligned with its original.
pub fn without_delay(samples: &[f32], delay_ms: f64) -> Vec<f32> {
    let lag = (delay_ms * SAMPLE_RATE as f64 / 1000.0).round() as isize;
    if lag >= 0 {
        samples[(lag as usize).min(samples.len())..].to_vec()
    } else {
        [vec![0.0; lag.unsigned_abs()], samples.to_vec()].concat()
    }
}

/// The 1 s window `plan` cuts from `samples` (what lies beyond the clip's end is silence).
pub fn apply_fit(samples: &[f32], plan: FitPlan) -> Vec<f32> {
    let mut out = vec![0f32; CLIP_SAMPLES];
    let src = &samples[plan.start.min(samples.len())..plan.end.min(samples.len())];
    let n = src.len().min(CLIP_SAMPLES - plan.at);
    out[plan.at..plan.at + n].copy_from_slice(&src[..n]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_model_is_small() {
        let c = KwsCnnConfig::default();
        assert!(c.parameters() * 2 < 1 << 20, "{} parameters", c.parameters());
        assert_eq!(LogMel::KWS.frames(CLIP_SAMPLES), FRAMES);
        assert_eq!(label_of("go"), Some(11));
        assert_eq!(KWS_CLASSES[SILENCE as usize], "silence");
    }

    #[test]
    fn clips_are_fitted_into_one_second() {
        let word: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
        let mut clip = vec![0.0; 3000];
        clip.extend(&word);
        clip.extend(vec![0.0; 1000]);
        let w = fit_clip(&clip);
        assert_eq!(w.len(), CLIP_SAMPLES);
        let (a, b) = speech_span(&w).unwrap();
        assert!(a.abs_diff(6000) <= 160 && b.abs_diff(10000) <= 160, "{a}..{b}");
        // The span is found on a 10 ms grid: the word starts within a frame of the offset.
        let at0 = place_clip(&clip, Some(0));
        let lead = at0.iter().position(|&v| v != 0.0).unwrap();
        assert!(lead < 160 && at0[lead..lead + 3999] == word[1..4000], "lead {lead}");
        // Longer than a second: the loudest second; digital silence: silence.
        let long: Vec<f32> = (0..40000).map(|i| if (20000..30000).contains(&i) { 0.5 } else { 0.01 }).collect();
        let w = fit_clip(&long);
        assert!(w.iter().filter(|&&v| v == 0.5).count() == 10000);
        assert!(fit_clip(&[0.0; 100]).iter().all(|&v| v == 0.0));
        assert!(fit_clip(&[]).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn the_bundled_model_loads_and_gives_probabilities() {
        let model = KwsCnn::load_bundled(&crate::cpu_device()).unwrap();
        let p = model.classify(&vec![0.0; 16000]).unwrap();
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(model.predict_probs(&[0.0; 10], 1).is_err());
    }
}
