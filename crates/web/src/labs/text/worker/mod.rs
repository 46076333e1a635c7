//! The text lab's worker side: the catalog, one codec's run (the steps of `mpqlab eval TEXT -c
//! CODEC`), a share of an `lm` encode or decode, assembling an `lm` stream, decompressing a
//! dropped stream, the surprisal view's costs and a checkpoint's plot point. Everything is
//! `mpq_codecs` / `mpq_metrics` / `mpq_models` code, the same the CLI runs.

use mpq_codecs::text::lm::{self, bundled};
use mpq_core::codec::ResolvedParams;
use mpq_core::{Error, Media, Modality, Params, Result, Text};
use mpq_metrics::text::TextReport;
use mpq_models::lm_eval::{ClozeItem, checkpoint_point};
use serde::Serialize;
use serde_bytes::ByteBuf;

use super::{ByteCost, CodecInfo, Event, PLOT_CLOZE, PLOT_TEXT, Point, Ran, Request, SURPRISAL_BYTES, share};

mod perception;
use crate::bridge::worker::Ctx;
use crate::js;

pub async fn handle<W: Serialize + From<Event>>(ctx: Ctx<W>, request: Request) -> Result<()> {
    match request {
        Request::Catalog => {
            let codecs = mpq_codecs::registry_for(Modality::Text)
                .iter()
                .map(|c| CodecInfo { id: c.id().into(), name: c.name().into(), params: c.params(), extension: c.extension().into(), mime: c.mime().into() })
                .collect();
            let checkpoints = bundled::names().into_iter().map(String::from).collect();
            ctx.event(Event::Catalog { codecs, checkpoints });
            Ok(())
        }
        Request::Run { codec, params, text } => run(&ctx, &codec, &params, text),
        Request::LmEncode { model, chunk_len, text, shard, shards } => lm_encode(&ctx, &model, chunk_len as usize, &text, shard as usize, shards as usize),
        Request::LmAssemble { model, text_len, chunk_len, chunks } => {
            let (net, fingerprint) = bundled::checkpoint(&model)?;
            let chunks: Vec<Vec<u8>> = chunks.into_iter().map(ByteBuf::into_vec).collect();
            if chunks.len() != lm::chunk_count(text_len as usize, chunk_len as usize) {
                return Err(Error::Invalid(format!("{} coded chunks for a text of {text_len} bytes in chunks of {chunk_len}", chunks.len())));
            }
            ctx.event(Event::Stream(ByteBuf::from(lm::assemble(net, *fingerprint, text_len as usize, chunk_len as usize, &chunks))));
            Ok(())
        }
        Request::LmDecode { stream, shard, shards } => lm_decode(&ctx, &stream, shard as usize, shards as usize),
        Request::Decompress { stream, codec } => {
            let id = match codec {
                Some(id) => id,
                None => mpq_codecs::text::sniff(&stream)
                    .ok_or_else(|| Error::UnknownFormat(": not a stream of a text codec this page knows by its first bytes (a Brotli stream has none: pick brotli)".into()))?
                    .to_string(),
            };
            let codec = mpq_codecs::codec(&id)?;
            if codec.modality() != Modality::Text {
                return Err(Error::Invalid(format!("{id} is not a text codec")));
            }
            ctx.progress(&format!("decompressing ({id})"), 0, 1);
            let text = codec.decode(&stream)?.into_text()?.bytes;
            ctx.event(Event::Decompressed { codec: id, text });
            Ok(())
        }
        Request::Surprisal { model, text } => {
            let (net, _) = bundled::checkpoint(&model)?;
            ctx.progress("measuring each byte's cost", 0, 1);
            let costs = lm::surprisal(net, &text[..text.len().min(SURPRISAL_BYTES)]);
            ctx.event(Event::Surprisal(costs.into_iter().map(|c| ByteCost { bits: c.bits, guesses: c.guesses }).collect()));
            Ok(())
        }
        Request::Point { model } => point(&ctx, &model).await,
        Request::Classify { task, method, query } => perception::classify(&ctx, &task, &method, &query),
        Request::ClassifyEval { task, method, shard, shards } => perception::evaluate(&ctx, &task, &method, shard as usize, shards as usize),
        Request::Lossy { text, strategy, fraction, target } => perception::lossy(&ctx, &text, &strategy, fraction, target),
        Request::LossyPoint { strategy, fraction } => perception::lossy_point(&ctx, &strategy, fraction).await,
        Request::Logs { text } => perception::logs(&ctx, text),
    }
}

/// Encodes, decodes and measures one text with one codec, as `mpqlab eval` does.
fn run<W: Serialize + From<Event>>(ctx: &Ctx<W>, id: &str, params: &Params, text: Vec<u8>) -> Result<()> {
    mpq_core::limits::check_text_len(text.len())?;
    let codec = mpq_codecs::codec(id)?;
    if codec.modality() != Modality::Text {
        return Err(Error::Invalid(format!("{id} is not a text codec")));
    }
    let resolved = ResolvedParams::resolve(codec.id(), &codec.params(), params)?;
    let media = Media::Text(Text { bytes: text });
    ctx.progress("encoding", 0, 2);
    let t = js::now_ms();
    let encoded = codec.encode_resolved(&media, &resolved)?;
    let encode_ms = js::now_ms() - t;
    ctx.progress("decoding", 1, 2);
    let t = js::now_ms();
    let decoded = codec.decode(&encoded)?.into_text()?.bytes;
    let decode_ms = js::now_ms() - t;
    let Media::Text(original) = media else { unreachable!("made above") };
    let report = TextReport::measure(codec.id(), resolved.as_params(), &original.bytes, &decoded, encoded.len(), encode_ms, decode_ms);
    ctx.event(Event::Ran(Box::new(Ran { report, encoded, decoded })));
    Ok(())
}

/// This worker's chunks of an `lm` encode, with progress in bytes of text.
fn lm_encode<W: Serialize + From<Event>>(ctx: &Ctx<W>, model: &str, chunk_len: usize, text: &[u8], shard: usize, shards: usize) -> Result<()> {
    lm::check_encode(text.len(), chunk_len)?;
    let (net, _) = bundled::checkpoint(model)?;
    let mine: Vec<usize> = share(lm::chunk_count(text.len(), chunk_len), shard, shards).collect();
    let total: usize = mine.iter().map(|&i| (text.len() - i * chunk_len).min(chunk_len)).sum();
    let mut done = 0usize;
    let mut out = Vec::new();
    ctx.progress("encoding", 0, total as u32);
    for i in mine {
        let part = &text[i * chunk_len..((i + 1) * chunk_len).min(text.len())];
        let coded = lm::encode_chunk_with(net, part, &mut |n| ctx.progress("encoding", (done + n) as u32, total as u32));
        done += part.len();
        ctx.progress("encoding", done as u32, total as u32);
        out.push((i as u32, ByteBuf::from(coded)));
    }
    ctx.event(Event::LmChunks(out));
    Ok(())
}

/// This worker's chunks of an `lm` decode (the stream parsed and checked by each worker).
fn lm_decode<W: Serialize + From<Event>>(ctx: &Ctx<W>, bytes: &[u8], shard: usize, shards: usize) -> Result<()> {
    let stream = lm::parse(bytes)?;
    let (net, _) = lm::checkpoint_for(&stream, lm::MAX_TEXT_BYTES)?;
    let mine: Vec<usize> = share(stream.chunks.len(), shard, shards).collect();
    let total: usize = mine.iter().map(|&i| stream.chunk_text_len(i)).sum();
    let mut done = 0usize;
    let mut out = Vec::new();
    ctx.progress("decoding", 0, total as u32);
    for i in mine {
        let len = stream.chunk_text_len(i);
        let text = lm::decode_chunk_with(net, stream.chunks[i], len, &mut |n| ctx.progress("decoding", (done + n) as u32, total as u32));
        done += len;
        ctx.progress("decoding", done as u32, total as u32);
        out.push((i as u32, ByteBuf::from(text)));
    }
    ctx.event(Event::LmDecoded { chunk_count: stream.chunks.len() as u32, chunks: out });
    Ok(())
}

/// A file of the page's own (the gallery's held-out sample, its cloze items).
async fn fetch(url: &'static str) -> Result<Vec<u8>> {
    js::fetch_bytes(url).await.map_err(|e| Error::Invalid(format!("cannot fetch {url}: {e}")))
}

/// One checkpoint's bits per byte on the plot's text and its cloze accuracy.
async fn point<W: Serialize + From<Event>>(ctx: &Ctx<W>, model: &str) -> Result<()> {
    ctx.progress("fetching the held-out text", 0, 1);
    let text = fetch(PLOT_TEXT).await?;
    let items: Vec<ClozeItem> = serde_json::from_slice(&fetch(PLOT_CLOZE).await?).map_err(|e| Error::Invalid(format!("{PLOT_CLOZE}: {e}")))?;
    let p = checkpoint_point(model, &text, &items, &mut |done, total| ctx.progress("coding the text, then the cloze items", done as u32, total as u32))?;
    ctx.event(Event::Point(Point { model: p.model, bits_per_byte: p.bits_per_byte, cloze_accuracy: p.cloze_accuracy, text_bytes: p.text_bytes, cloze_items: p.cloze_items }));
    Ok(())
}
