//! The audio lab's rate–perception sweep: one codec setting applied to every 1 s window of the
//! keyword test subset, each decoded window measured against its original (kbps, SNR,
//! segmental SNR, STOI, log-mel distance: `mpq_metrics::audio::AudioReport`) and judged by the
//! keyword model against its verdict on the original (accuracy, agreement, KL, feature
//! distance), pooled into one [`SweepPoint`] with [`AudioPointMetrics`]. `mpqlab sweep --model
//! kws-cnn` and the page's audio sweep call [`KwsSweep::run_point`], so both give the same
//! numbers.
//!
//! [`AudioPointMetrics`]: mpq_metrics::sweep::AudioPointMetrics

use mpq_core::{Audio, Codec, Error, Media, Params};
use mpq_metrics::audio::AudioReport;
use mpq_metrics::perception::{Prediction, compare};
use mpq_metrics::sweep::{AudioPointAccumulator, SweepPoint};

use crate::ModelError;
use crate::kws_cnn::{self, CLIP_SAMPLES, KwsClips, KwsCnn, SAMPLE_RATE};

/// The default audio sweep of the page and of `mpqlab sweep --model kws-cnn` (defined with the
/// audio lab's link format, whose default it is).
pub use mpq_core::experiment::audio::DEFAULT_SWEEP as DEFAULT_AUDIO_SWEEPS;

/// One point of an audio sweep's plan: a codec and all its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedPoint {
    pub codec: String,
    /// The swept parameter (`bitrate`), the fixed settings (`rate=8000`) or empty (defaults).
    pub param: String,
    /// The swept value (0 for a one-point spec).
    pub value: f64,
    pub params: Params,
    /// A sweep at equal sizes (`opus:kbps=6,12`): each window aimed at this size.
    pub target: Option<mpq_core::target::Target>,
}

/// Every point of `specs` (see [`AudioSweepSpec`]), in order, each codec and value checked
/// against the registry before any work, so a typo fails at once. A codec without parameters
/// (`mulaw`) or with fixed settings (`bandlimit:rate=8000`) is one point.
///
/// [`AudioSweepSpec`]: mpq_core::experiment::audio::AudioSweepSpec
pub fn plan(specs: &[String]) -> Result<Vec<PlannedPoint>, Error> {
    use mpq_core::experiment::audio::AudioSweepSpec;
    let mut out = Vec::new();
    for spec in specs {
        let parsed = AudioSweepSpec::parse(spec)?;
        let codec = mpq_codecs::codec(parsed.codec())?;
        if codec.modality() != mpq_core::Modality::Audio {
            return Err(Error::Invalid(format!("{} is not an audio codec: the keyword sweep takes audio codecs", codec.id())));
        }
        // `opus:bitrate=12000` reads as fixed settings but is also a one-value range of a
        // numeric parameter: as a range its point is named `bitrate` = 12000 (like the others
        // of a range); a choice (`bandlimit:rate=8000`) stays fixed settings.
        let parsed = match parsed {
            AudioSweepSpec::Fixed(..) => match mpq_core::sweep::CodecSweep::parse(spec) {
                Ok(sweep) if sweep.resolved_values(&codec.params()).is_ok() => AudioSweepSpec::Range(sweep),
                _ => parsed,
            },
            other => other,
        };
        match parsed {
            AudioSweepSpec::Defaults(id) => out.push(PlannedPoint { codec: id, param: String::new(), value: 0.0, params: Params::new(), target: None }),
            AudioSweepSpec::Fixed(id, params) => {
                mpq_core::codec::ResolvedParams::resolve(&id, &codec.params(), &params)?;
                let param = params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
                out.push(PlannedPoint { codec: id, param, value: 0.0, params, target: None });
            }
            AudioSweepSpec::Range(sweep) => {
                for value in sweep.resolved_values(&codec.params())? {
                    let params = sweep.params_for(&codec.params(), value)?;
                    out.push(PlannedPoint { codec: sweep.codec.clone(), param: sweep.param.clone(), value, params, target: sweep.target_at(value) });
                }
            }
        }
    }
    if out.is_empty() {
        return Err(Error::Invalid("pick at least one codec to sweep".into()));
    }
    Ok(out)
}

/// Windows per model call (and between progress reports).
pub const BATCH: usize = 40;

/// The windows of a test subset, their labels and the model's view of the originals.
pub struct KwsSweep<'a> {
    model: &'a KwsCnn,
    set: &'a KwsClips,
    count: usize,
    reference: Vec<Prediction>,
    clock: fn() -> f64,
}

impl<'a> KwsSweep<'a> {
    /// The first `count` windows of `set` (all when it has fewer), and the model run on them once.
    pub fn new(model: &'a KwsCnn, set: &'a KwsClips, count: usize) -> Result<Self, ModelError> {
        let count = count.min(set.len());
        if count == 0 {
            return Err(ModelError::Input("the keyword sweep needs at least one window".into()));
        }
        if set.clips[..count].iter().any(|c| c.len() != CLIP_SAMPLES) {
            return Err(ModelError::Input(format!("every window of a keyword subset is {CLIP_SAMPLES} samples")));
        }
        let reference = model.predictions(&set.clips[..count])?;
        Ok(KwsSweep { model, set, count, reference, clock: crate::sweep::default_clock })
    }

    /// Times with this clock (ms; the page passes `performance.now`).
    pub fn with_clock(mut self, clock: fn() -> f64) -> Self {
        self.clock = clock;
        self
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The model's accuracy on the uncompressed windows.
    pub fn reference_accuracy(&self) -> f64 {
        let right = self
            .reference
            .iter()
            .zip(&self.set.labels)
            .filter(|(p, y)| mpq_metrics::perception::argmax(&p.probs) == **y as usize)
            .count();
        right as f64 / self.count as f64
    }

    /// One codec setting over every window (with `target`, each window at the setting the
    /// size search finds for it). `progress(done, point so far)` is called after each batch;
    /// returning `false` stops the point early (cancel) and returns what was done.
    #[allow(clippy::too_many_arguments)]
    pub fn run_point(
        &self,
        codec: &dyn Codec,
        params: &Params,
        target: Option<mpq_core::target::Target>,
        param: &str,
        value: f64,
        mut progress: impl FnMut(usize, &SweepPoint) -> bool,
    ) -> Result<SweepPoint, ModelError> {
        let mut acc = AudioPointAccumulator::new(codec.id(), codec.name(), param, value);
        let input_err = |e: Error| ModelError::Input(format!("{}: {e}", codec.id()));
        for start in (0..self.count).step_by(BATCH) {
            let end = (start + BATCH).min(self.count);
            let mut reports = Vec::with_capacity(end - start);
            let mut windows = Vec::with_capacity(end - start);
            for window in &self.set.clips[start..end] {
                let original = Audio::new(SAMPLE_RATE, 1, window.clone()).map_err(input_err)?;
                let t0 = (self.clock)();
                let media = Media::Audio(original.clone());
                let (params, encoded) = match target {
                    None => (params.clone(), codec.encode(&media, params).map_err(input_err)?),
                    Some(t) => {
                        let (p, bytes, _) = mpq_core::target::aim(codec, params, &media, t).map_err(input_err)?;
                        (p, bytes)
                    }
                };
                let params = &params;
                let t1 = (self.clock)();
                let decoded = codec.decode(&encoded).map_err(input_err)?.into_audio().map_err(input_err)?;
                let t2 = (self.clock)();
                let report = AudioReport::measure(codec.id(), params, &original, &decoded, encoded.len(), t1 - t0, t2 - t1)
                    .map_err(input_err)?;
                // The decoded window as the model hears it: mono, 16 kHz, the codec's delay
                // taken off, cut or padded to the original's second.
                let aligned = kws_cnn::without_delay(&kws_cnn::model_samples(&decoded), report.delay_ms);
                windows.push(kws_cnn::apply_fit(&aligned, kws_cnn::FitPlan { start: 0, end: CLIP_SAMPLES, at: 0 }));
                reports.push(report);
            }
            let preds = self.model.predictions(&windows)?;
            for (k, (report, pred)) in reports.iter().zip(&preds).enumerate() {
                let i = start + k;
                let verdict = compare(&self.reference[i], pred, Some(self.set.labels[i] as usize)).map_err(input_err)?;
                acc.add_item(report, &verdict);
            }
            if !progress(end, &acc.finish()) {
                break;
            }
        }
        Ok(acc.finish())
    }
}
