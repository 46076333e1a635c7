//! The model lab's worker side: the bundled models with their weights stored in each format,
//! run through our WGSL kernels on the browser's WebGPU (or their CPU references); the kernels
//! checked against their references and timed. All numeric work is `mpq_models::quantized` and
//! `mpq_gpu` code, the same as `mpqlab quant`, `cargo test -p mpq-gpu` and `mpqlab bench gpu`.

use mpq_core::experiment::image::Backend;
use mpq_core::target::Target;
use mpq_core::{Error, Result};
use mpq_gpu::Format;
use mpq_models::ModelId;
use mpq_models::quantized::{self, variants};
use serde::Serialize;

#[cfg(feature = "gpu")]
use super::kernels;
use super::{Event, ModelInfo, QuantRow, Request};
use crate::bridge::worker::Ctx;
use crate::js;
use crate::machine::{classifier, parse_model, subset};

pub async fn handle<W: Serialize + From<Event>>(ctx: Ctx<W>, request: Request) -> Result<()> {
    match request {
        Request::Catalog => {
            let models = ModelId::ALL
                .iter()
                .map(|m| ModelInfo { id: m.id().into(), name: m.name().into(), dataset_name: m.task().name().into() })
                .collect();
            ctx.event(Event::Catalog { models });
            Ok(())
        }
        Request::Evaluate { model, on_gpu, items, search, target } => evaluate(ctx, &model, on_gpu, items, search, target).await,
        #[cfg(feature = "gpu")]
        Request::CheckKernels => kernels::kernel_check(ctx).await,
        #[cfg(feature = "gpu")]
        Request::BenchKernels { sizes, batch, repeats, baseline } => kernels::kernel_bench(ctx, &sizes, batch, repeats, baseline).await,
        #[cfg(not(feature = "gpu"))]
        Request::CheckKernels | Request::BenchKernels { .. } => Err(crate::machine::no_gpu_module()),
    }
}

/// Every weight format (and searched scales with `search`) of one bundled model over its test
/// items; a row per format as it is ready.
async fn evaluate<W: Serialize + From<Event>>(ctx: Ctx<W>, model: &str, on_gpu: bool, items: u32, search: bool, target: Option<Target>) -> Result<()> {
    let model = parse_model(model)?;
    let items = items.clamp(1, 1000) as usize;
    ctx.progress("loading the model and its test items", 0, 1);
    // The f32 reference is burn's own model on the CPU (flex), as in `mpqlab quant`.
    let c = classifier(model, Backend::Cpu).await?;
    let set = subset(model.task()).await?.take(items);
    #[cfg(feature = "gpu")]
    let g = if on_gpu { Some(kernels::gpu().await?) } else { None };
    #[cfg(not(feature = "gpu"))]
    let g: Option<(std::rc::Rc<quantized::Gpu>, String)> = if on_gpu { return Err(crate::machine::no_gpu_module()) } else { None };
    #[cfg(feature = "gpu")]
    if let Some((g, name)) = &g {
        ctx.event(Event::Adapter(kernels::adapter_info(g, name)));
    }
    let backend = match &g {
        Some((g, _)) => quantized::Backend::Gpu(g.as_ref()),
        None => quantized::Backend::Cpu,
    };
    let run_on = match &g {
        Some((_, name)) => format!("WebGPU: {name}"),
        None => "CPU reference".to_string(),
    };
    let vs = variants(&Format::ALL, search);
    let t0 = js::now_ms();
    let label = model.name();
    ctx.progress(&format!("{label}: {}", vs[0].name()), 0, vs.len() as u32 + 1);
    let rows = quantized::evaluate_each_async(&c, &vs, target, &set, backend, |done, total, row: &quantized::QuantRow| {
        let next = match vs.get(done + 1) {
            Some(v) => v.name(),
            None if target.is_some() && done + 1 == vs.len() => "a format per group of rows for the target".into(),
            None => "f16+lossless".into(),
        };
        ctx.progress(&format!("{label}: {next}"), done as u32 + 1, total as u32);
        ctx.event(Event::QuantRow(QuantRow {
            variant: row.variant.clone(),
            backend: run_on.clone(),
            bits_per_weight: row.bits_per_weight,
            weight_bytes: row.weight_bytes,
            bytes_vs_f16: row.bytes_vs_f16,
            accuracy: row.accuracy,
            reference_accuracy: row.reference_accuracy,
            top1_agreement: row.top1_agreement,
            mean_kl: row.mean_kl,
            weight_rel_rmse: row.weight_rel_rmse,
            target: row.target.clone(),
        }));
    })
    .await
    .map_err(|e| Error::Invalid(e.to_string()))?;
    let title = format!("{} — accuracy vs bits per weight ({} test items)", model.name(), set.len());
    ctx.event(Event::QuantDone { svg: quantized::plot_svg(&title, &rows), elapsed_ms: js::now_ms() - t0 });
    Ok(())
}
