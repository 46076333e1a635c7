//! Text on the command line: the text lab's codecs (`compress`, `decompress` and `eval` take
//! any file as text when the codec is a text codec; `eval FILE --all` gives the whole table).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mpq_core::{Codec, Media, Modality, Params, Text};
use mpq_metrics::text::TextReport;

/// Reads any file as text (bytes; invalid UTF-8 is text too), within the text limit.
pub(crate) fn read_text(path: &Path) -> Result<Text> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    mpq_core::limits::check_text_len(meta.len().min(usize::MAX as u64) as usize).with_context(|| format!("{}", path.display()))?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Text { bytes })
}

/// Encodes, decodes and compares one text: the same steps as the page's codec table.
pub(crate) fn evaluate_text(codec: &dyn Codec, params: &Params, text: &Text) -> Result<(Vec<u8>, TextReport)> {
    let media = Media::Text(text.clone());
    let t = Instant::now();
    let encoded = codec.encode(&media, params)?;
    let encode_ms = crate::ms_since(t);
    let t = Instant::now();
    let decoded = codec.decode(&encoded)?.into_text()?;
    let decode_ms = crate::ms_since(t);
    let report = TextReport::measure(codec.id(), params, &text.bytes, &decoded.bytes, encoded.len(), encode_ms, decode_ms);
    if !report.round_trip {
        bail!("{} did not give the text back ({} bytes decoded for {})", codec.id(), decoded.bytes.len(), text.bytes.len());
    }
    Ok((encoded, report))
}

/// The log codec's own account of a stream it wrote: the back-end and layout it kept, and what
/// it found (the templates, most used first, and the columns by kind), for `eval -c logs`.
pub(crate) fn logs_summary(text: &[u8], stream: &[u8]) -> Result<serde_json::Value> {
    Ok(serde_json::to_value(mpq_codecs::text::logs::summary(text, stream, 10)?)?)
}

/// Every text codec at its default settings on one text, in registry order.
pub(crate) fn evaluate_all(text: &Text) -> Result<Vec<TextReport>> {
    mpq_codecs::registry_for(Modality::Text)
        .iter()
        .map(|c| {
            let params = mpq_core::codec::ResolvedParams::resolve(c.id(), &c.params(), &Params::new())?.as_params().clone();
            evaluate_text(c.as_ref(), &params, text).map(|(_, r)| r)
        })
        .collect()
}

/// `mpqlab decompress IN [-c CODEC] [-o OUT]`: a text codec's stream back to its bytes; the
/// codec is told by the stream's magic bytes when not given (Brotli has none).
pub(crate) fn decompress(input: &Path, codec: Option<&str>, output: Option<&Path>) -> Result<()> {
    let meta = std::fs::metadata(input).with_context(|| format!("cannot read {}", input.display()))?;
    mpq_core::limits::check_file_size(meta.len().min(usize::MAX as u64) as usize).with_context(|| format!("{}", input.display()))?;
    let bytes = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let id = match codec {
        Some(id) => id.split(':').next().unwrap_or(id).to_string(),
        None => match mpq_codecs::text::sniff(&bytes) {
            Some(id) => id.to_string(),
            None => bail!("{}: not a stream of a text codec this build knows by its first bytes; give --codec (a Brotli stream has no magic bytes: -c brotli)", input.display()),
        },
    };
    let codec = mpq_codecs::codec(&id)?;
    if codec.modality() != Modality::Text {
        bail!("decompress takes text codecs; {} is an {:?} codec (use eval)", codec.id(), codec.modality());
    }
    let text = codec.decode(&bytes).with_context(|| format!("{}", input.display()))?.into_text()?;
    let output = match output {
        Some(o) => o.to_path_buf(),
        None => {
            let ext = input.extension().and_then(|e| e.to_str()).unwrap_or("");
            let o = if ext == codec.extension() { input.with_extension("") } else { input.with_extension(format!("{ext}.out")) };
            if o.exists() {
                bail!("{} exists; give --output to write elsewhere", o.display());
            }
            o
        }
    };
    if output == input {
        bail!("refusing to overwrite the input {}; give --output", input.display());
    }
    std::fs::write(&output, &text.bytes).with_context(|| format!("cannot write {}", output.display()))?;
    eprintln!("{} → {} ({} bytes, {})", input.display(), output.display(), text.bytes.len(), codec.id());
    Ok(())
}
