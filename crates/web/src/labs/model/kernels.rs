//! The model lab's WebGPU half (only in the page's GPU worker module, feature `gpu`): our
//! kernels' device on the browser's WebGPU, the kernels checked against their CPU references
//! and timed (`mpq_gpu::check`, `mpq_gpu::bench`, as `cargo test -p mpq-gpu` and `mpqlab bench
//! gpu`), and the adapter the quantized nets run on.

use std::cell::RefCell;
use std::rc::Rc;

use mpq_core::{Error, Result};
use mpq_gpu::{Format, Gpu, bench, check};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

use super::{AdapterInfo, BenchInfo, CheckRow, Event, KernelTiming};
use crate::bridge::worker::Ctx;
use crate::js;

thread_local! {
    /// Our kernels' WebGPU device (separate from burn's: each owns its device), and the
    /// adapter's name as the browser gives it.
    static GPU: RefCell<Option<(Rc<Gpu>, String)>> = const { RefCell::new(None) };
}

pub async fn gpu() -> Result<(Rc<Gpu>, String)> {
    if let Some(g) = GPU.with(|g| g.borrow().clone()) {
        return Ok(g);
    }
    let navigator_gpu = js::get(&js::get(&js_sys::global(), "navigator"), "gpu");
    if navigator_gpu.is_undefined() {
        return Err(Error::Invalid("this browser has no WebGPU (navigator.gpu is missing); the model lab can still run the CPU references".into()));
    }
    let g = Rc::new(Gpu::new().await.map_err(|e| match e {
        // wgpu lists every native backend it lacks; on the web only this matters.
        mpq_gpu::GpuError::NoAdapter(_) => Error::Invalid(
            "WebGPU could not start: this browser offers no GPU adapter (its GPU may be blocked or switched off); the kernels' CPU reference still runs".into(),
        ),
        e => Error::Invalid(format!("WebGPU could not start: {e}")),
    })?);
    let name = if g.info.name.is_empty() { browser_adapter_name(&navigator_gpu).await } else { g.info.name.clone() };
    GPU.with(|c| *c.borrow_mut() = Some((g.clone(), name.clone())));
    Ok((g, name))
}

/// wgpu names a WebGPU adapter by its `description`, which browsers often leave empty
/// (Chromium's SwiftShader does); vendor and architecture are usually there. Asks the browser.
async fn browser_adapter_name(navigator_gpu: &JsValue) -> String {
    let unnamed = || "an unnamed WebGPU adapter".to_string();
    let Ok(request) = js::get(navigator_gpu, "requestAdapter").dyn_into::<js_sys::Function>() else { return unnamed() };
    let options = js::obj(&[("powerPreference", "high-performance".into())]);
    let Ok(promise) = request.call1(navigator_gpu, &options).and_then(|p| p.dyn_into::<js_sys::Promise>()) else {
        return unnamed();
    };
    let Ok(adapter) = wasm_bindgen_futures::JsFuture::from(promise).await else { return unnamed() };
    let info = js::get(&adapter, "info");
    let parts: Vec<String> = ["vendor", "architecture", "device", "description"]
        .iter()
        .filter_map(|k| js::get(&info, k).as_string())
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() { unnamed() } else { parts.join(" ") }
}

pub fn adapter_info(g: &Gpu, name: &str) -> AdapterInfo {
    AdapterInfo {
        name: name.into(),
        vendor: g.info.vendor,
        device: g.info.device,
        device_type: format!("{:?}", g.info.device_type),
        backend: format!("{:?}", g.info.backend),
        driver: g.info.driver.clone(),
        driver_info: g.info.driver_info.clone(),
        max_storage_binding: g.limits.max_storage_buffer_binding_size as u64,
    }
}

/// The device for a kernel job, with the adapter told to the page first.
async fn start<W: Serialize + From<Event>>(ctx: &Ctx<W>) -> Result<(Rc<Gpu>, String)> {
    ctx.progress("starting WebGPU", 0, 1);
    let (g, name) = gpu().await?;
    ctx.event(Event::Adapter(adapter_info(&g, &name)));
    Ok((g, name))
}

fn gpu_error(e: mpq_gpu::GpuError) -> Error {
    Error::Invalid(e.to_string())
}

/// [`check::check_all`] on this browser's WebGPU; a row per kernel run.
pub async fn kernel_check<W: Serialize + From<Event>>(ctx: Ctx<W>) -> Result<()> {
    let (g, _) = start(&ctx).await?;
    let checks = check::check_all(&g, |k, total, c| {
        ctx.progress("checking kernels", k as u32 + 1, total as u32);
        ctx.event(Event::CheckRow(CheckRow {
            format: c.format.name().into(),
            inputs: c.activations.name().into(),
            scale: c.scale.name().into(),
            kind: match c.kind {
                mpq_gpu::Kind::MatVec => "matvec",
                mpq_gpu::Kind::MatMul => "matmul",
            }
            .into(),
            rows: c.rows as u32,
            cols: c.cols as u32,
            batch: c.batch as u32,
            max_abs_error: c.max_abs_error,
            share_of_tolerance: c.worst_share_of_tolerance,
            passed: c.passed,
        }));
    })
    .await
    .map_err(gpu_error)?;
    let failed = checks.iter().filter(|c| !c.passed).count() as u32;
    ctx.event(Event::CheckDone { total: checks.len() as u32, failed });
    Ok(())
}

/// Times our kernels for each n×n size and format ([`bench::run`], as `mpqlab bench gpu`).
pub async fn kernel_bench<W: Serialize + From<Event>>(ctx: Ctx<W>, sizes: &str, batch: u32, repeats: u32, baseline: bool) -> Result<()> {
    let spec = bench::BenchSpec {
        sizes: bench::parse_sizes(sizes).map_err(gpu_error)?,
        batch: batch.clamp(1, 256) as usize,
        repeats: repeats.clamp(1, 100),
        baseline,
        int8: true,
        formats: Format::ALL.to_vec(),
    };
    let (g, name) = start(&ctx).await?;
    let now = js::now_ms;
    let (mut rows_sent, mut skipped_sent, mut info_sent) = (0, 0, false);
    bench::run(
        &g,
        &spec,
        &now,
        |what, k, total| ctx.progress(what, k as u32, total as u32),
        |run| {
            if !info_sent {
                info_sent = true;
                ctx.event(Event::BenchInfo(BenchInfo {
                    adapter: name.clone(),
                    clock: run.clock.name().into(),
                    subgroups: run.subgroups,
                    packed_dot: run.packed_dot.map(|p| p.name().to_string()),
                    peak_gbps: run.peak.map(|p| p.0),
                    ceiling_gbps: run.ceiling.gbps,
                    ceiling_bytes: run.ceiling.bytes as u64,
                }));
            }
            for t in &run.rows[rows_sent..] {
                let (of_ceiling, of_peak) = bench::shares(t.weight_gbps, &run.ceiling, run.peak);
                ctx.event(Event::BenchRow(KernelTiming {
                    adapter: name.clone(),
                    format: t.format.name().into(),
                    kernels: t.generation.name().into(),
                    inputs: t.activations.name().into(),
                    rows: t.rows as u32,
                    cols: t.cols as u32,
                    batch: t.batch as u32,
                    ms: t.ms,
                    gflops: t.gflops,
                    weight_gbps: t.weight_gbps,
                    weight_bytes: t.weight_bytes as u64,
                    copies: t.copies as u32,
                    share_of_ceiling: of_ceiling,
                    share_of_peak: of_peak,
                    vs_f32: run.vs_f32(t),
                    vs_v1: if t.generation == mpq_gpu::Generation::V2 { run.vs_v1(t) } else { None },
                    vs_f32_inputs: run.vs_f32_inputs(t),
                }));
            }
            rows_sent = run.rows.len();
            for s in &run.skipped[skipped_sent..] {
                ctx.event(Event::BenchSkipped(s.clone()));
            }
            skipped_sent = run.skipped.len();
        },
    )
    .await
    .map_err(gpu_error)?;
    Ok(())
}
