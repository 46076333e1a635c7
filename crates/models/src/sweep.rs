//! Rate–perception sweeps: one codec setting applied to every item of a test split, the model
//! run on the originals and on the decoded items, and everything pooled into one
//! [`SweepPoint`]. The CLI (`mpqlab sweep`) and the page's worker both call
//! [`SweepRunner::run_point`]; only the codec call differs ([`ItemCodec`]: the browser's own
//! encoders are asynchronous), so both give the same numbers for the same settings.

use std::future::Future;

use mpq_core::{Error, Image, PixelFormat};
use mpq_metrics::perception::{Prediction, compare};
use mpq_metrics::sweep::{PointAccumulator, SweepPoint};

use crate::data::LabeledImages;
use crate::{Classifier, ModelError, Task};

/// The default sweep of the page and of `mpqlab sweep`: 8 points per codec, from almost
/// nothing left to nearly transparent.
pub const DEFAULT_CODEC_SWEEPS: [&str; 3] =
    ["jpeg:quality=1..95:8", "avif:quality=1..90:8,speed=10", "webp-ll-down:scale=10..100:8"];

/// Items per model call (and between progress reports).
pub const BATCH: usize = 100;

/// One item through a codec and back, as the caller runs it.
pub struct RoundTrip {
    pub bytes: usize,
    pub decoded: Image,
    pub encode_ms: f64,
    pub decode_ms: f64,
}

/// A codec setting that can round-trip one item (the CLI wraps `mpq_core::Codec`, the page
/// also the browser's canvas encoders).
pub trait ItemCodec {
    fn round_trip(&self, item: &Image) -> impl Future<Output = Result<RoundTrip, Error>>;

    /// Every item of a batch. By default one after another; the page overrides it where the
    /// browser can overlap the calls (its own encoders and decoders are asynchronous), and
    /// then reports each item's time as the batch's time divided by its size.
    fn round_trip_batch(&self, items: &[Image]) -> impl Future<Output = Result<Vec<RoundTrip>, Error>> {
        async move {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(self.round_trip(item).await?);
            }
            Ok(out)
        }
    }
}

/// The items of a test split as images, their labels, and the model's view of the originals.
pub struct SweepRunner<'a> {
    classifier: &'a Classifier,
    items: Vec<Image>,
    labels: Vec<usize>,
    reference: Vec<Prediction>,
    clock: fn() -> f64,
    times: std::cell::Cell<StageTimes>,
}

pub use mpq_metrics::sweep::StageTimes;

/// A monotonic clock in ms for [`SweepRunner`]: `Instant` natively; on the web there is no
/// `Instant`, so the page passes `performance.now` through [`SweepRunner::with_clock`].
pub(crate) fn default_clock() -> f64 {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        static START: OnceLock<std::time::Instant> = OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64() * 1e3
    }
    #[cfg(target_arch = "wasm32")]
    {
        0.0
    }
}

impl<'a> SweepRunner<'a> {
    /// Prepares the first `count` items of `set` (the model's own test subset) and runs the
    /// model on the originals once.
    pub async fn new(classifier: &'a Classifier, set: &LabeledImages, count: usize) -> Result<Self, ModelError> {
        let task = classifier.task();
        if set.rows != task.side() || set.cols != task.side() || set.channels != task.channels() {
            return Err(ModelError::Input(format!(
                "the items are {}×{}×{}, the model takes {}×{}×{}",
                set.rows,
                set.cols,
                set.channels,
                task.side(),
                task.side(),
                task.channels()
            )));
        }
        let count = count.min(set.len());
        let set = set.take(count);
        let format = if task.channels() == 1 { PixelFormat::Gray8 } else { PixelFormat::Rgb8 };
        let side = task.side() as u32;
        let items = (0..count)
            .map(|i| Image::new(side, side, format, set.image(i).to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ModelError::Input(e.to_string()))?;
        let reference = classifier.predict_async(&set.pixels, count).await?;
        Ok(Self {
            classifier,
            items,
            labels: set.labels.iter().map(|&l| l as usize).collect(),
            reference,
            clock: default_clock,
            times: Default::default(),
        })
    }

    /// Times the stages with this clock (ms) instead of the default one.
    pub fn with_clock(mut self, clock: fn() -> f64) -> Self {
        self.clock = clock;
        self
    }

    /// Where the time of the points run so far went.
    pub fn stage_times(&self) -> StageTimes {
        self.times.get()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// The model's predictions on the original items.
    pub fn reference(&self) -> &[Prediction] {
        &self.reference
    }

    /// Runs one codec setting over every item. `progress(done)` hears after each batch.
    pub async fn run_point<C: ItemCodec>(
        &self,
        codec: &C,
        point: PointAccumulator,
        mut progress: impl FnMut(usize),
    ) -> Result<SweepPoint, ModelError> {
        let mut point = point;
        let task = self.classifier.task();
        let item_bytes = task.item_bytes();
        for (b, batch) in self.items.chunks(BATCH).enumerate() {
            let start = b * BATCH;
            let mut pixels = Vec::with_capacity(batch.len() * item_bytes);
            let mut times = self.times.get();
            let t0 = (self.clock)();
            let trips = codec.round_trip_batch(batch).await.map_err(|e| ModelError::Input(e.to_string()))?;
            let t1 = (self.clock)();
            times.codec_ms += t1 - t0;
            if trips.len() != batch.len() {
                return Err(ModelError::Input(format!("the codec returned {} items for {}", trips.len(), batch.len())));
            }
            for (item, trip) in batch.iter().zip(&trips) {
                let decoded = task_pixels(&trip.decoded, task)?;
                if decoded.len() != item_bytes {
                    return Err(ModelError::Input(format!(
                        "the codec returned {}×{} for a {}×{} item",
                        trip.decoded.width(),
                        trip.decoded.height(),
                        item.width(),
                        item.height()
                    )));
                }
                pixels.extend_from_slice(&decoded);
            }
            let t2 = (self.clock)();
            let predictions = self.classifier.predict_async(&pixels, batch.len()).await?;
            let t3 = (self.clock)();
            times.model_ms += t3 - t2;
            for (i, (trip, prediction)) in trips.iter().zip(&predictions).enumerate() {
                let k = start + i;
                let original = self.items[k].data();
                let decoded = &pixels[i * item_bytes..(i + 1) * item_bytes];
                let squared_error: f64 =
                    original.iter().zip(decoded).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum();
                let verdict = compare(&self.reference[k], prediction, Some(self.labels[k]))
                    .map_err(|e| ModelError::Input(e.to_string()))?;
                point.add_item(
                    trip.bytes,
                    task.side() * task.side(),
                    squared_error,
                    item_bytes,
                    &verdict,
                    trip.encode_ms,
                    trip.decode_ms,
                );
            }
            times.metrics_ms += (t2 - t1) + ((self.clock)() - t3);
            self.times.set(times);
            progress(start + batch.len());
        }
        Ok(point.finish())
    }
}

/// A decoded image in the task's layout: gray (BT.601 luma, rounded, for colour output of a
/// gray item: the browser's canvas encoders always return RGBA) or interleaved RGB.
pub fn task_pixels(img: &Image, task: Task) -> Result<Vec<u8>, ModelError> {
    Ok(match (task.channels(), img.format()) {
        (1, PixelFormat::Gray8) => img.data().to_vec(),
        (1, _) => img
            .to_rgb8()
            .data()
            .chunks_exact(3)
            .map(|p| (0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64).round() as u8)
            .collect(),
        (3, _) => img.to_rgb8().into_data(),
        (c, _) => return Err(ModelError::Input(format!("unsupported channel count {c}"))),
    })
}
