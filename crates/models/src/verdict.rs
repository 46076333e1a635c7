//! A model's verdict on one compressed input against its original: the page's judgement under
//! each side of the image lab, and what `mpqlab run` prints for a link.

use mpq_core::Image;
use mpq_metrics::perception::{Verdict, argmax, compare, feature_distance, top_classes};

use crate::sweep::task_pixels;
use crate::{Classifier, ModelError, Task};

/// A test item of a bundled data set, as a lab input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DatasetItem {
    pub task: Task,
    pub index: usize,
    pub label: usize,
}

/// Photos are shrunk to at most this many pixels per side before the convolution blocks run
/// on them (time grows with the area; the artefacts that matter survive a 2–3× shrink).
pub const FEATURE_SIDE: u32 = 256;

/// How many top classes a verdict lists.
const TOP: usize = 5;

/// The verdict of `c` on `decoded` against `original`. For a test item of the model's own
/// task: its top classes on both, whether the answer changed, KL and feature distance (one
/// model call on both images). For anything else (a photo, or another task's item): the feature
/// distance of the convolution blocks only, with the reason. `clock` times the inference (ms);
/// `backend` names where it ran.
pub async fn judge(
    c: &Classifier,
    backend: &str,
    original: &Image,
    item: Option<&DatasetItem>,
    decoded: &Image,
    clock: fn() -> f64,
) -> Result<Verdict, ModelError> {
    let model = c.id();
    let task = model.task();
    let names = task.classes();
    let invalid = |e: mpq_core::Error| ModelError::Input(e.to_string());
    match item {
        Some(item) if item.task == task => {
            let mut pixels = task_pixels(original, task)?;
            pixels.extend(task_pixels(decoded, task)?);
            let t = clock();
            let p = c.predict_async(&pixels, 2).await?;
            let infer_ms = clock() - t;
            let verdict = compare(&p[0], &p[1], Some(item.label)).map_err(invalid)?;
            Ok(Verdict::Classes {
                model: model.id().into(),
                model_name: model.name().into(),
                backend: backend.into(),
                infer_ms,
                batch: 2,
                item: item.index,
                true_class: names[item.label].into(),
                reference_class: names[argmax(&p[0].probs)].into(),
                class: names[argmax(&p[1].probs)].into(),
                reference_top: top_classes(&p[0], names, TOP),
                top: top_classes(&p[1], names, TOP),
                verdict,
            })
        }
        _ => {
            let (a, pa) = features_input(original, task)?;
            let (b, pb) = features_input(decoded, task)?;
            let t = clock();
            let fa = c.conv_features_async(&pa, a.width() as usize, a.height() as usize).await?;
            let fb = c.conv_features_async(&pb, b.width() as usize, b.height() as usize).await?;
            let infer_ms = clock() - t;
            let d = feature_distance(&fa, &fb).map_err(invalid)?;
            let why = match item {
                Some(other) => format!(
                    "This is a {} item; the {} knows only {} classes, so only its feature distance is shown.",
                    other.task.name(),
                    model.name(),
                    task.name()
                ),
                None => format!(
                    "A photo is not one of the {}'s {} classes, so its labels would mean nothing; the feature distance compares what its convolution layers see.",
                    model.name(),
                    task.name()
                ),
            };
            Ok(Verdict::Features {
                model: model.id().into(),
                model_name: model.name().into(),
                backend: backend.into(),
                infer_ms,
                feature_distance: d,
                width: a.width(),
                height: a.height(),
                why,
            })
        }
    }
}

fn features_input(img: &Image, task: Task) -> Result<(Image, Vec<u8>), ModelError> {
    let small = mpq_codecs::image::webp_down::fit_within(img, FEATURE_SIDE).map_err(|e| ModelError::Input(e.to_string()))?;
    let pixels = task_pixels(&small, task)?;
    Ok((small, pixels))
}
