//! The worker's model lab: the bundled models with their weights stored in each format, run
//! through our WGSL kernels on the browser's WebGPU (or through their CPU references); our
//! kernels checked against the CPU references on this browser's adapter; and the kernels timed.
//! All numeric work is `mpq_models::quantized` and `mpq_gpu` code, the same as `mpqlab quant`,
//! `cargo test -p mpq-gpu` and `mpqlab bench gpu` run natively.

use std::cell::RefCell;
use std::rc::Rc;

use mpq_core::{Error, Result};
use mpq_gpu::{Format, Gpu, check, bench};
use mpq_models::quantized::{self, QuantRow, variants};
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};

use crate::js::{self, obj};
use crate::machine::{Backend, classifier, parse_model, subset};
use crate::worker::{post, progress};

thread_local! {
    /// Our kernels' WebGPU device (separate from burn's: each owns its device), and the
    /// adapter's name as the browser gives it.
    static GPU: RefCell<Option<(Rc<Gpu>, String)>> = const { RefCell::new(None) };
}

async fn gpu() -> Result<(Rc<Gpu>, String)> {
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
    let options = obj(&[("powerPreference", "high-performance".into())]);
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

fn adapter_json(g: &Gpu, name: &str) -> String {
    json!({
        "name": name, "vendor": g.info.vendor, "device": g.info.device,
        "device_type": format!("{:?}", g.info.device_type), "backend": format!("{:?}", g.info.backend),
        "driver": g.info.driver, "driver_info": g.info.driver_info,
        "max_storage_binding": g.limits.max_storage_buffer_binding_size,
    })
    .to_string()
}

fn gpu_error(e: mpq_gpu::GpuError) -> Error {
    Error::Invalid(e.to_string())
}

/// `quant-eval {job, model, backend, items, search}`: every weight format (and searched scales
/// with `search`) of one bundled model over its test items; a `quant-row` per row as it is
/// ready, then `quant-done`.
pub async fn evaluate(job: f64, msg: &JsValue) -> Result<()> {
    let model = parse_model(&js::get_str(msg, "model"))?;
    let on_gpu = Backend::parse(&js::get_str(msg, "backend"))? == Backend::WebGpu;
    let items = js::get_u32(msg, "items").clamp(1, 1000) as usize;
    let search = js::get(msg, "search").as_bool() == Some(true);
    progress(job, "loading the model and its test items", 0, 1);
    // The f32 reference is burn's own model on the CPU (flex), as in `mpqlab quant`.
    let c = classifier(model, Backend::Cpu).await?;
    let set = subset(model.task()).await?.take(items);
    let g = if on_gpu { Some(gpu().await?) } else { None };
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
    progress(job, &format!("{label}: {}", vs[0].name()), 0, vs.len() as u32 + 1);
    let rows = quantized::evaluate_each_async(&c, &vs, &set, backend, |done, total, row: &QuantRow| {
        let next = vs.get(done + 1).map(|v| v.name()).unwrap_or_else(|| "f16+lossless".into());
        progress(job, &format!("{label}: {next}"), done as u32 + 1, total as u32);
        let mut row = row.to_json();
        row["backend"] = run_on.clone().into();
        post(&obj(&[("kind", "quant-row".into()), ("job", job.into()), ("row", row.to_string().into())]), &[]);
    })
    .await
    .map_err(|e| Error::Invalid(e.to_string()))?;
    let title = format!("{} — accuracy vs bits per weight ({} test items)", model.name(), set.len());
    post(
        &obj(&[
            ("kind", "quant-done".into()),
            ("job", job.into()),
            ("svg", quantized::plot_svg(&title, &rows).into()),
            ("elapsed_ms", (js::now_ms() - t0).into()),
            ("adapter", g.as_ref().map(|(g, name)| adapter_json(g, name)).unwrap_or_default().into()),
        ]),
        &[],
    );
    Ok(())
}

/// `kernel-check {job}`: [`check::check_all`] on this browser's WebGPU; a `check-row` per
/// kernel run, then `check-done` with the adapter.
pub async fn kernel_check(job: f64) -> Result<()> {
    progress(job, "starting WebGPU", 0, 1);
    let (g, name) = gpu().await?;
    post(&obj(&[("kind", "adapter".into()), ("job", job.into()), ("adapter", adapter_json(&g, &name).into())]), &[]);
    let checks = check::check_all(&g, |k, total, c| {
        progress(job, "checking kernels", k as u32 + 1, total as u32);
        let row = json!({
            "format": c.format.name(), "scale": c.scale.name(),
            "kind": match c.kind { mpq_gpu::Kind::MatVec => "matvec", mpq_gpu::Kind::MatMul => "matmul" },
            "rows": c.rows, "cols": c.cols, "batch": c.batch,
            "max_abs_error": c.max_abs_error, "share_of_tolerance": c.worst_share_of_tolerance, "passed": c.passed,
        });
        post(&obj(&[("kind", "check-row".into()), ("job", job.into()), ("row", row.to_string().into())]), &[]);
    })
    .await
    .map_err(gpu_error)?;
    let failed = checks.iter().filter(|c| !c.passed).count();
    post(
        &obj(&[
            ("kind", "check-done".into()),
            ("job", job.into()),
            ("total", (checks.len() as u32).into()),
            ("failed", (failed as u32).into()),
        ]),
        &[],
    );
    Ok(())
}

/// `kernel-bench {job, sizes, batch, repeats, formats}`: times our kernels for each n×n size
/// and format; a `bench-kernel` row per timing, then `bench-kernel-done`.
pub async fn kernel_bench(job: f64, msg: &JsValue) -> Result<()> {
    let sizes = bench::parse_sizes(&js::get_str(msg, "sizes")).map_err(gpu_error)?;
    let batch = js::get_u32(msg, "batch").clamp(1, 256) as usize;
    let repeats = js::get_u32(msg, "repeats").clamp(1, 100);
    let formats: Vec<Format> = js::get_str(msg, "formats").split(',').filter_map(Format::parse).collect();
    let formats = if formats.is_empty() { Format::ALL.to_vec() } else { formats };
    progress(job, "starting WebGPU", 0, 1);
    let (g, name) = gpu().await?;
    post(&obj(&[("kind", "adapter".into()), ("job", job.into()), ("adapter", adapter_json(&g, &name).into())]), &[]);
    let total = (sizes.len() * formats.len()) as u32;
    let now = js::now_ms;
    let mut k = 0;
    for &n in &sizes {
        for &format in &formats {
            progress(job, &format!("{n}×{n} {}", format.name()), k, total);
            let t = bench::time_format(&g, format, n, n, batch, repeats, &now).await.map_err(gpu_error)?;
            let row = json!({
                "adapter": name, "format": t.format.name(), "rows": t.rows, "cols": t.cols, "batch": t.batch,
                "ms": t.ms, "gflops": t.gflops, "weight_gbps": t.weight_gbps, "weight_bytes": t.weight_bytes,
            });
            post(&obj(&[("kind", "bench-kernel".into()), ("job", job.into()), ("row", row.to_string().into())]), &[]);
            k += 1;
        }
    }
    post(&obj(&[("kind", "bench-kernel-done".into()), ("job", job.into())]), &[]);
    Ok(())
}
