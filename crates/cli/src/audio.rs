//! Audio on the command line: the audio lab's codecs and signal metrics (`compress` and `eval`
//! take audio when the codec is an audio codec).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use mpq_core::{Audio, Codec, Media, Params};
use mpq_metrics::audio::AudioReport;

/// Reads an audio file (the sniffing loader the page uses), with the file's name in errors.
pub(crate) fn read_audio(path: &Path) -> Result<Audio> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    mpq_core::limits::check_file_size(meta.len().min(usize::MAX as u64) as usize).with_context(|| format!("{}", path.display()))?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    mpq_codecs::audio::load(&bytes).with_context(|| format!("{}", path.display()))
}

/// Encodes, decodes and measures one clip.
pub(crate) fn evaluate_audio(codec: &dyn Codec, params: &Params, audio: &Audio) -> Result<(Vec<u8>, Audio, AudioReport)> {
    let media = Media::Audio(audio.clone());
    let t = Instant::now();
    let encoded = codec.encode(&media, params)?;
    let encode_ms = crate::ms_since(t);
    let t = Instant::now();
    let decoded = match codec.decode(&encoded)? {
        Media::Audio(a) => a,
        other => anyhow::bail!("{} decoded to {:?}, not audio", codec.id(), other.modality()),
    };
    let decode_ms = crate::ms_since(t);
    let report = AudioReport::measure(codec.id(), params, audio, &decoded, encoded.len(), encode_ms, decode_ms)?;
    Ok((encoded, decoded, report))
}

/// What the keyword model hears in the original and in the decoded clip: its top classes for
/// each, whether its answer changed, the KL divergence and the feature distance
/// (`mpq_metrics::perception`). Both windows cover the same stretch of the recording: the
/// original's 1 s window (`kws_cnn::fit_plan`), cut from the decoded clip after its delay.
pub(crate) fn kws_verdict(original: &Audio, decoded: &Audio, delay_ms: f64) -> Result<serde_json::Value> {
    use mpq_models::kws_cnn::{self, KWS_CLASSES, KwsCnn, top_classes};
    let model = KwsCnn::load_bundled(&mpq_models::cpu_device())?;
    let t = Instant::now();
    let heard = mpq_models::classifier::block_on(kws_cnn::listen_async(&model, original, decoded, delay_ms))?;
    let infer_ms = crate::ms_since(t);
    let verdict = mpq_metrics::perception::compare(&heard.original, &heard.decoded, None)?;
    let top = |p: &[f32]| -> Vec<serde_json::Value> {
        top_classes(p, 3).into_iter().map(|(class, p)| serde_json::json!({"class": class, "p": p})).collect()
    };
    Ok(serde_json::json!({
        "model": "kws_cnn",
        "original": KWS_CLASSES[verdict.reference_class],
        "decoded": KWS_CLASSES[verdict.class],
        "changed": !verdict.top1_agree,
        "original_top": top(&heard.original.probs),
        "decoded_top": top(&heard.decoded.probs),
        "kl": verdict.kl,
        "feature_distance": verdict.feature_distance,
        "infer_ms": infer_ms,
    }))
}
