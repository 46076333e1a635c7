//! The image lab's rate–perception sweep and CPU ↔ WebGPU check, on the worker. Everything
//! numeric is `mpq_models`/`mpq_metrics` code, the same as `mpqlab sweep` runs natively; only
//! the codec calls differ (the browser's own encoders exist only here).

use mpq_core::experiment::image::Backend;
use mpq_core::sweep::CodecSweep;
use mpq_core::target::{Aim, Target};
use mpq_core::{Error, Image, Media, Result, codec::ResolvedParams};
use mpq_metrics::perception::{argmax, feature_distance};
use mpq_metrics::sweep::PointAccumulator;
use mpq_models::sweep::{ItemCodec, RoundTrip, SweepRunner};
use serde::Serialize;

use super::worker::{PageCodec, decoded_by_browser};
use super::{AgreementReport, Event, browser_codec};
use crate::bridge::worker::Ctx;
use crate::machine::{self, classifier, model_error, parse_model, subset};
use crate::js;

/// One codec setting as the page runs it (ours or the browser's), timed with the page clock.
struct PageItemCodec<'a> {
    id: &'a str,
    codec: &'a PageCodec,
    params: ResolvedParams,
    /// A sweep at equal sizes: each item aimed at this size (`params` then holds the fixed
    /// settings only).
    target: Option<Target>,
}

impl PageItemCodec<'_> {
    /// The item's stream: at `params`, or at the setting the search finds for `target`.
    async fn encoded(&self, item: &Image) -> Result<Vec<u8>> {
        let Some(target) = self.target else { return self.codec.encode(item, &self.params).await };
        let id = self.id;
        let specs = self.codec.params();
        let mut search =
            Aim::new(&self.codec.name(), id, self.codec.lossless(), &specs, self.codec.rate_param(), self.params.as_params(), &Media::Image(item.clone()), target)?;
        while let Some(p) = search.next() {
            search.record(self.codec.encode(item, &ResolvedParams::resolve(id, &specs, &p)?).await?);
        }
        Ok(search.finish().1)
    }
}

impl ItemCodec for PageItemCodec<'_> {
    async fn round_trip(&self, item: &Image) -> Result<RoundTrip> {
        let t = js::now_ms();
        let encoded = self.encoded(item).await?;
        let encode_ms = js::now_ms() - t;
        let t = js::now_ms();
        let decoded = self.codec.decode(&encoded).await?;
        let decode_ms = js::now_ms() - t;
        Ok(RoundTrip { bytes: encoded.len(), decoded, encode_ms, decode_ms })
    }

    /// The browser's encoders (and its AVIF decoder) are asynchronous: a whole batch is started
    /// at once so their calls overlap (each item is then timed as the batch's mean).
    async fn round_trip_batch(&self, items: &[Image]) -> Result<Vec<RoundTrip>> {
        let n = items.len().max(1) as f64;
        if self.target.is_some() {
            // Each item its own search: one at a time.
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(self.round_trip(item).await?);
            }
            return Ok(out);
        }
        let t = js::now_ms();
        let encoded = match self.codec {
            PageCodec::Browser(bc) => {
                let encoded = bc.encode_many(items, self.params.int("quality")).await?;
                let encode_ms = (js::now_ms() - t) / n;
                let mut out = Vec::with_capacity(encoded.len());
                for e in encoded {
                    let t = js::now_ms();
                    let decoded = bc.decode(&e)?;
                    out.push(RoundTrip { bytes: e.len(), decoded, encode_ms, decode_ms: js::now_ms() - t });
                }
                return Ok(out);
            }
            PageCodec::Ours(c) if decoded_by_browser(c.id()) => {
                let mut v = Vec::with_capacity(items.len());
                for item in items {
                    v.push(self.codec.encode(item, &self.params).await?);
                }
                v
            }
            PageCodec::Ours(_) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.round_trip(item).await?);
                }
                return Ok(out);
            }
        };
        let encode_ms = (js::now_ms() - t) / n;
        let t = js::now_ms();
        let decoded = browser_codec::decode_many_with_browser(&encoded, self.codec.mime()).await?;
        let decode_ms = (js::now_ms() - t) / n;
        Ok(encoded.iter().zip(decoded).map(|(e, d)| RoundTrip { bytes: e.len(), decoded: d.to_rgb8(), encode_ms, decode_ms }).collect())
    }
}

/// This worker's share of a sweep: the codec settings over the model's test items, the points
/// whose index in plan order is `shard` modulo `shards`. Each point is an event as soon as it
/// is done; the page merges them in index order and builds the CSV, JSON and SVG itself (each
/// point depends on no other, so the merged result equals a one-worker run and `mpqlab sweep`).
pub async fn sweep<W: Serialize + From<Event>>(
    ctx: Ctx<W>,
    model: &str,
    backend: Backend,
    items: u32,
    specs: &[String],
    shard: u32,
    shards: u32,
) -> Result<()> {
    let model = parse_model(model)?;
    let (shard, shards) = (shard as usize, (shards as usize).max(1));
    if shard >= shards {
        return Err(Error::Invalid(format!("shard {shard} of {shards} does not exist")));
    }
    if specs.is_empty() {
        return Err(Error::Invalid("pick at least one codec to sweep".into()));
    }
    let mut plan = Vec::new();
    for spec in specs {
        let sweep = CodecSweep::parse(spec)?;
        let codec = PageCodec::find(&sweep.codec)?;
        let values = sweep.resolved_values(&codec.params())?;
        plan.push((sweep, codec, values));
    }
    // (index in plan order, which codec, which value): this worker's share.
    let mine: Vec<(usize, usize, f64)> = plan
        .iter()
        .enumerate()
        .flat_map(|(c, p)| p.2.iter().map(move |&v| (c, v)))
        .enumerate()
        .filter(|(index, _)| index % shards == shard)
        .map(|(index, (c, v))| (index, c, v))
        .collect();
    let t_all = js::now_ms();
    ctx.progress("loading the model and the test items", 0, 1);
    let c = classifier(model, backend).await?;
    let set = subset(model.task()).await?;
    let runner = SweepRunner::new(&c, &set, items.max(1) as usize).await.map_err(model_error)?.with_clock(js::now_ms);
    let n = runner.len();
    let total = (mine.len() * n) as u32;
    for (k, &(index, c, value)) in mine.iter().enumerate() {
        let (sweep, codec, _) = &plan[c];
        let params = sweep.params_for(&codec.params(), value)?;
        let resolved = ResolvedParams::resolve(&sweep.codec, &codec.params(), &params)?;
        let label = format!("{} {}={}", sweep.codec, sweep.param, value);
        let before = (k * n) as u32;
        ctx.progress(&label, before, total);
        let point = PointAccumulator::new(&sweep.codec, &codec.name(), &sweep.param, value);
        let item_codec = PageItemCodec { id: &sweep.codec, codec, params: resolved, target: sweep.target_at(value) };
        let point = runner
            .run_point(&item_codec, point, |done| ctx.progress(&label, before + done as u32, total))
            .await
            .map_err(model_error)?;
        ctx.event(Event::SweepPoint { index: index as u32, point });
    }
    ctx.event(Event::SweepDone { items: n as u32, elapsed_ms: js::now_ms() - t_all, stage_times: runner.stage_times() });
    Ok(())
}

/// The same test items through the CPU and the WebGPU backend: the largest probability
/// difference, top-1 agreement and time per item.
pub async fn agreement<W: Serialize + From<Event>>(ctx: Ctx<W>, model: &str, items: u32) -> Result<()> {
    let model = parse_model(model)?;
    if !machine::has_webgpu() {
        return Err(Error::Invalid("this browser has no WebGPU, so there is nothing to compare the CPU with".into()));
    }
    let set = subset(model.task()).await?.take(items.clamp(1, 1000) as usize);
    let mut runs = Vec::new();
    for (k, backend) in [Backend::Cpu, Backend::WebGpu].into_iter().enumerate() {
        ctx.progress(&format!("running on {}", backend.id()), k as u32, 2);
        let c = classifier(model, backend).await?;
        // A first call warms up (shader compilation on WebGPU); the second is timed.
        c.predict_async(&set.pixels[..set.pixels.len() / set.len()], 1).await.map_err(model_error)?;
        let t = js::now_ms();
        let p = c.predict_async(&set.pixels, set.len()).await.map_err(model_error)?;
        runs.push((p, js::now_ms() - t));
    }
    let (cpu, gpu) = (&runs[0].0, &runs[1].0);
    let mut max_abs = 0f64;
    let mut same_top1 = 0;
    let mut max_feature = 0f64;
    for (a, b) in cpu.iter().zip(gpu) {
        for (x, y) in a.probs.iter().zip(&b.probs) {
            max_abs = max_abs.max((x - y).abs() as f64);
        }
        same_top1 += usize::from(argmax(&a.probs) == argmax(&b.probs));
        max_feature = max_feature.max(feature_distance(&a.features, &b.features).unwrap_or(f64::INFINITY));
    }
    let n = set.len() as f64;
    ctx.event(Event::Agreement(AgreementReport {
        model: model.id().into(),
        items: set.len() as u32,
        max_abs_prob_diff: max_abs,
        top1_agreement: same_top1 as f64 / n,
        max_feature_distance: max_feature,
        cpu_ms_per_item: runs[0].1 / n,
        webgpu_ms_per_item: runs[1].1 / n,
    }));
    Ok(())
}
