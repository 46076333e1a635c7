//! A wgpu device and the quantized matmul kernels on it. Native: any adapter (a real GPU, or
//! Mesa's lavapipe CPU Vulkan driver in CI); on the web: WebGPU.

use std::collections::HashMap;
use std::sync::Mutex;

use wgpu::util::DeviceExt;

use crate::formats::{Format, QuantMatrix, blocks_per_row};
use crate::kernel::{Activations, Generation, GpuError, Kind, PackedDot, Reduction, Variant, kernel_source, shader_source_v1};
use crate::layout;

pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// The optional features granted (subgroups, timestamp queries).
    pub features: wgpu::Features,
    /// Whether (and how) `dot4I8Packed` runs here: the int8-activation path.
    pub packed_dot: PackedDot,
    /// Pipelines by their WGSL source (each variant's constants are part of its source).
    pipelines: Mutex<HashMap<String, wgpu::ComputePipeline>>,
}

/// How this device runs `dot4I8Packed` ([`PackedDot`]): the WGSL language feature says whether
/// shaders may use it; natively the Vulkan device says whether naga can emit the instruction.
fn packed_dot(instance: &wgpu::Instance, adapter: &wgpu::Adapter) -> PackedDot {
    if !instance.wgsl_language_features().contains(wgpu::WgslLanguageFeatures::Packed4x8IntegerDotProduct) {
        return PackedDot::Absent;
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = adapter;
        PackedDot::Browser
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        // wgpu-hal enables integer dot products exactly for Vulkan ≥ 1.3 (where the feature is
        // required) or the extension; it exposes the device but not that decision.
        // SAFETY: the hal adapter is only read here, while `adapter` is alive.
        let native = unsafe { adapter.as_hal::<wgpu::hal::api::Vulkan>() }.is_some_and(|a| {
            let caps = a.physical_device_capabilities();
            let v = caps.properties().api_version;
            let (major, minor) = (v >> 22 & 0x7f, v >> 12 & 0x3ff);
            (major, minor) >= (1, 3) || caps.supports_extension(c"VK_KHR_shader_integer_dot_product")
        });
        if native { PackedDot::Native } else { PackedDot::Polyfilled }
    }
}

/// Rows `row0 .. row0 + rows` of a matrix in their own buffers.
struct Slab {
    row0: usize,
    rows: usize,
    weights: wgpu::Buffer,
    scales: wgpu::Buffer,
}

/// A weight matrix uploaded once, reused across calls.
pub struct GpuMatrix {
    pub format: Format,
    pub rows: usize,
    pub cols: usize,
    pub generation: Generation,
    slabs: Vec<Slab>,
}

impl GpuMatrix {
    /// Buffers the matrix is split into (more than one when it exceeds a storage binding).
    pub fn slabs(&self) -> usize {
        self.slabs.len()
    }
}

/// Everything one product needs, recorded once and dispatched any number of times (the bench
/// puts many into one pass).
pub struct Prepared {
    pipeline: wgpu::ComputePipeline,
    /// One bind group and workgroup grid per slab.
    dispatches: Vec<(wgpu::BindGroup, [u32; 3])>,
    y: wgpu::Buffer,
    out_bytes: u64,
    _keep: Vec<wgpu::Buffer>,
}

impl Prepared {
    /// A single-dispatch kernel (the bench's streaming read).
    pub(crate) fn single(pipeline: wgpu::ComputePipeline, bind: wgpu::BindGroup, grid: [u32; 3], out: wgpu::Buffer, out_bytes: u64) -> Prepared {
        Prepared { pipeline, dispatches: vec![(bind, grid)], y: out, out_bytes, _keep: Vec::new() }
    }

    /// The output buffer (the bench reads a word back to wait for the GPU).
    pub(crate) fn y_buffer(&self) -> &wgpu::Buffer {
        &self.y
    }

    /// Records one product into `pass`.
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        for (bind, [x, y, z]) in &self.dispatches {
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups(*x, *y, *z);
        }
    }
}

/// Rows the V2 layout pads to and slabs are made of: a multiple of every variant's rows per
/// workgroup (2 or 4).
const ROW_GROUP: usize = 4;

/// The largest number of workgroups along x: 65535 (WebGPU's default limit) and beyond that z.
const MAX_X: u32 = 65535;

impl Gpu {
    /// Takes an adapter and device wgpu offers (the high-performance one if several), with
    /// subgroups and timestamp queries where the adapter has them.
    pub async fn new() -> Result<Gpu, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let features = adapter.features() & (wgpu::Features::SUBGROUP | wgpu::Features::TIMESTAMP_QUERY);
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("mpqlab"),
                required_limits: limits.clone(),
                required_features: features,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::Device(e.to_string()))?;
        let packed_dot = packed_dot(&instance, &adapter);
        Ok(Gpu { device, queue, info, limits, features, packed_dot, pipelines: Mutex::new(HashMap::new()) })
    }

    /// Blocking constructor for native code and tests.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking() -> Result<Gpu, GpuError> {
        pollster::block_on(Gpu::new())
    }

    /// For tests: the adapter wgpu finds, or `None` (said on stderr) when there is none —
    /// unless `MPQ_REQUIRE_GPU=1` (set by scripts/test.sh: CI has lavapipe), which makes a
    /// missing adapter a panic so GPU tests cannot pass by skipping.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn for_tests() -> Option<Gpu> {
        match Gpu::new_blocking() {
            Ok(g) => {
                eprintln!("adapter: {} ({:?}, {:?}), {:?}", g.info.name, g.info.device_type, g.info.backend, g.features);
                Some(g)
            }
            Err(e) => {
                assert!(std::env::var("MPQ_REQUIRE_GPU").as_deref() != Ok("1"), "MPQ_REQUIRE_GPU=1 but {e}");
                eprintln!("skipping GPU test: {e}");
                None
            }
        }
    }

    /// Whether the device has subgroup operations (wgpu's WebGPU backend never offers them:
    /// wgpu 30 keeps `SUBGROUP` native-only, gfx-rs/wgpu#5555).
    pub fn has_subgroups(&self) -> bool {
        self.features.contains(wgpu::Features::SUBGROUP)
    }

    /// Whether passes can carry GPU timestamps.
    pub fn has_timestamps(&self) -> bool {
        self.features.contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    /// The reductions this device can run, the preferred one first.
    pub fn reductions(&self) -> Vec<Reduction> {
        if self.has_subgroups() { vec![Reduction::Subgroup, Reduction::Workgroup] } else { vec![Reduction::Workgroup] }
    }

    /// Compiles (once per distinct source) a compute pipeline.
    pub(crate) fn pipeline_for(&self, label: &str, source: String) -> wgpu::ComputePipeline {
        let mut cache = self.pipelines.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache.get(&source) {
            return p.clone();
        }
        let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.clone().into()),
        });
        let p = self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(label),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        cache.insert(source, p.clone());
        p
    }

    /// The most bytes one storage binding (and buffer) may hold on this device.
    pub fn max_binding(&self) -> usize {
        (self.limits.max_storage_buffer_binding_size as u64).min(self.limits.max_buffer_size) as usize
    }

    fn check_size(&self, bytes: usize, what: &str) -> Result<(), GpuError> {
        let max = self.max_binding();
        if bytes > max {
            return Err(GpuError::TooLarge(format!("{what} needs {bytes} bytes; this adapter binds at most {max}")));
        }
        Ok(())
    }

    pub(crate) fn storage(&self, label: &str, words: &[u32]) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(words),
            usage: wgpu::BufferUsages::STORAGE,
        })
    }

    /// Uploads `m` for the bandwidth kernels ([`crate::layout`]), split into slabs of whole
    /// row groups where it exceeds one storage binding.
    pub fn upload(&self, m: &QuantMatrix) -> Result<GpuMatrix, GpuError> {
        self.upload_in_slabs(m, self.max_binding())
    }

    /// [`Self::upload`] with slabs of at most `max` bytes (at most one binding): tests split
    /// small matrices this way to check the slab path.
    pub fn upload_in_slabs(&self, m: &QuantMatrix, max: usize) -> Result<GpuMatrix, GpuError> {
        let max = max.min(self.max_binding());
        let group = ROW_GROUP;
        let row_bytes = layout::units_per_row(m.format, m.cols) * layout::words_per_unit(m.format) * 16;
        let per_slab = (max / row_bytes.max(1)) / group * group;
        if per_slab == 0 {
            return Err(GpuError::TooLarge(format!(
                "{group} rows of {} weights need {} bytes; this adapter binds at most {max}",
                m.cols,
                group * row_bytes
            )));
        }
        let padded = m.rows.next_multiple_of(group);
        let mut slabs = Vec::new();
        let mut row0 = 0;
        while row0 < padded {
            let rows = per_slab.min(padded - row0);
            let (words, scales) = layout::pack_rows(m, row0, rows);
            slabs.push(Slab {
                row0,
                rows: rows.min(m.rows.saturating_sub(row0)),
                weights: self.storage("weights", &words),
                scales: self.storage("scales", &scales),
            });
            row0 += rows;
        }
        Ok(GpuMatrix { format: m.format, rows: m.rows, cols: m.cols, generation: Generation::V2, slabs })
    }

    /// Uploads `m` as it is laid out in memory, for the v1 kernels (the bench's baseline).
    pub fn upload_v1(&self, m: &QuantMatrix) -> Result<GpuMatrix, GpuError> {
        self.check_size(m.data.len() * 4, "the weight matrix")?;
        // WGSL needs a binding even for formats without scales: one zero word.
        let scale_words: &[u32] = if m.scales.is_empty() { &[0] } else { &m.scales };
        let slab = Slab { row0: 0, rows: m.rows, weights: self.storage("weights", &m.data), scales: self.storage("scales", scale_words) };
        Ok(GpuMatrix { format: m.format, rows: m.rows, cols: m.cols, generation: Generation::V1, slabs: vec![slab] })
    }

    /// Checks a product's shapes and records its pipeline, buffers and bind groups.
    pub fn prepare(&self, w: &GpuMatrix, x: &[f32], batch: usize, reduction: Reduction) -> Result<Prepared, GpuError> {
        self.prepare_with(w, x, batch, reduction, Activations::F32)
    }

    /// [`Self::prepare`] with a choice of inputs: [`Activations::Int8`] quantises x to Q8_0
    /// blocks here (once per prepared product, as llama.cpp quantises activations in a pass of
    /// its own before the matvec; the bench times the matvec only) for the int8 kernels.
    pub fn prepare_with(&self, w: &GpuMatrix, x: &[f32], batch: usize, reduction: Reduction, activations: Activations) -> Result<Prepared, GpuError> {
        if activations == Activations::Int8 {
            if matches!(w.format, Format::F32 | Format::F16) || w.generation != Generation::V2 {
                return Err(GpuError::Input(format!("int8 inputs need a block format and the v2 kernels, not {} {}", w.format.name(), w.generation.name())));
            }
            if !self.packed_dot.available() {
                return Err(GpuError::Device("this adapter's WGSL has no dot4I8Packed (packed_4x8_integer_dot_product)".into()));
            }
        }
        if batch == 0 || batch.checked_mul(w.cols) != Some(x.len()) {
            return Err(GpuError::Input(format!(
                "{} inputs are not {batch} rows of {} (the matrix is {}×{})",
                x.len(),
                w.cols,
                w.rows,
                w.cols
            )));
        }
        let out_len = batch * w.rows;
        self.check_size(out_len * 4, "the output")?;
        let out_bytes = (out_len * 4) as u64;
        let y = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("y"),
            size: out_bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let max_groups = self.limits.max_compute_workgroups_per_dimension;
        let too_many = |gx: u32, gy: u32, gz: u32| {
            (gx > max_groups || gy > max_groups || gz > max_groups).then(|| {
                GpuError::TooLarge(format!(
                    "{} rows × batch {batch} needs {gx}×{gy}×{gz} workgroups; this adapter allows {max_groups} per dimension",
                    w.rows
                ))
            })
        };
        let mut keep = Vec::new();
        let mut dispatches = Vec::new();
        let pipeline;
        match w.generation {
            Generation::V1 => {
                let kind = if batch == 1 { Kind::MatVec } else { Kind::MatMul };
                self.check_size(x.len() * 4, "the input")?;
                let (gx, gy) = match kind {
                    Kind::MatVec => (w.rows.min(65535) as u32, w.rows.div_ceil(65535) as u32),
                    Kind::MatMul => (w.rows.div_ceil(16) as u32, batch.div_ceil(16) as u32),
                };
                if let Some(e) = too_many(gx, gy, 1) {
                    return Err(e);
                }
                pipeline = self.pipeline_for(w.format.name(), shader_source_v1(w.format, kind));
                let dims = [w.rows as u32, w.cols as u32, batch as u32, blocks_per_row(w.cols) as u32];
                let dims = self.uniform(&dims);
                let xb = self.storage("x", bytemuck::cast_slice(x));
                let s = &w.slabs[0];
                let bind = self.bind(&pipeline, &[&s.weights, &s.scales, &xb, &y, &dims]);
                dispatches.push((bind, [gx, gy, 1]));
                keep.extend([dims, xb]);
            }
            Generation::V2 => {
                let v = Variant::choose(w.format, w.cols, batch, reduction, activations);
                debug_assert_eq!(ROW_GROUP % v.rows as usize, 0);
                let padded = layout::padded_cols(w.format, w.cols);
                self.check_size(batch * padded * 4, "the input")?;
                pipeline = self.pipeline_for(w.format.name(), kernel_source(&v, w.cols));
                // f32 inputs: x padded; int8 inputs: codes (bound where x is) and their scales.
                let (xb, xs) = match activations {
                    Activations::F32 => (self.storage("x", bytemuck::cast_slice(&layout::pad_input(x, batch, w.cols, padded))), None),
                    Activations::Int8 => {
                        let (codes, scales) = layout::quantize_input(x, batch, w.cols, layout::padded_blocks(w.format, w.cols));
                        (self.storage("x codes", &codes), Some(self.storage("x scales", bytemuck::cast_slice(&scales))))
                    }
                };
                for s in &w.slabs {
                    let groups = s.rows.div_ceil(v.rows as usize) as u32;
                    let (gx, gz) = (groups.clamp(1, MAX_X), groups.div_ceil(MAX_X).max(1));
                    let gy = batch.div_ceil(v.inputs as usize) as u32;
                    if let Some(e) = too_many(gx, gy, gz) {
                        return Err(e);
                    }
                    let dims = self.uniform(&[s.rows as u32, s.row0 as u32, w.rows as u32, batch as u32, 0, 0, 0, 0]);
                    let bind = match &xs {
                        None => self.bind(&pipeline, &[&s.weights, &s.scales, &xb, &y, &dims]),
                        Some(xs) => self.bind(&pipeline, &[&s.weights, &s.scales, &xb, &y, &dims, xs]),
                    };
                    dispatches.push((bind, [gx, gy, gz]));
                    keep.push(dims);
                }
                keep.push(xb);
                keep.extend(xs);
            }
        }
        Ok(Prepared { pipeline, dispatches, y, out_bytes, _keep: keep })
    }

    fn uniform(&self, words: &[u32]) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("dims"),
            contents: bytemuck::cast_slice(words),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    pub(crate) fn bind(&self, pipeline: &wgpu::ComputePipeline, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &pipeline.get_bind_group_layout(0), entries: &entries })
    }

    /// y = W·x (batch 1) when `batch == 1`, else Y = X·Wᵀ with X `batch × cols`.
    /// `repeats` products run back to back; the result is the last one's.
    /// Blocks until the result is read back (native only: the browser cannot block, see
    /// [`Self::run_async`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run(&self, w: &GpuMatrix, x: &[f32], batch: usize, repeats: u32) -> Result<Vec<f32>, GpuError> {
        pollster::block_on(self.run_async(w, x, batch, repeats))
    }

    /// [`Self::run`] as a future, with the device's preferred reduction.
    pub async fn run_async(&self, w: &GpuMatrix, x: &[f32], batch: usize, repeats: u32) -> Result<Vec<f32>, GpuError> {
        self.run_with(w, x, batch, repeats, self.reductions()[0]).await
    }

    /// [`Self::run_async`] with a chosen reduction. For WebGPU the result is copied to a
    /// mappable buffer and the future resolves when the browser has mapped it (natively the
    /// device is polled to completion first, so the future is ready when first polled).
    pub async fn run_with(&self, w: &GpuMatrix, x: &[f32], batch: usize, repeats: u32, reduction: Reduction) -> Result<Vec<f32>, GpuError> {
        self.run_variant(w, x, batch, repeats, reduction, Activations::F32).await
    }

    /// [`Self::run_with`] with a choice of inputs ([`Self::prepare_with`]).
    pub async fn run_variant(
        &self,
        w: &GpuMatrix,
        x: &[f32],
        batch: usize,
        repeats: u32,
        reduction: Reduction,
        activations: Activations,
    ) -> Result<Vec<f32>, GpuError> {
        let p = self.prepare_with(w, x, batch, reduction, activations)?;
        let mut enc = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            for _ in 0..repeats.max(1) {
                p.record(&mut pass);
            }
        }
        let bytes = self.read_back(enc, &p.y, p.out_bytes).await?;
        Ok(bytemuck::cast_slice::<u8, f32>(&bytes).to_vec())
    }

    /// Finishes `enc` with a copy of `src`'s first `size` bytes to a mappable buffer, submits
    /// it and returns those bytes once mapped.
    pub(crate) async fn read_back(&self, mut enc: wgpu::CommandEncoder, src: &wgpu::Buffer, size: u64) -> Result<Vec<u8>, GpuError> {
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        enc.copy_buffer_to_buffer(src, 0, &readback, 0, size);
        self.queue.submit([enc.finish()]);
        let slice = readback.slice(..);
        let mapped = Oneshot::default();
        let sender = mapped.clone();
        slice.map_async(wgpu::MapMode::Read, move |r| sender.send(r));
        // Natively nothing maps the buffer unless the device is polled; in the browser the
        // event loop does it (and `poll` would do nothing).
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::Wait { submission_index: None, timeout: None })
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        mapped.await.map_err(|e| GpuError::Readback(e.to_string()))?;
        let view = slice.get_mapped_range().map_err(|e| GpuError::Readback(e.to_string()))?;
        let out = view.to_vec();
        drop(view);
        readback.unmap();
        Ok(out)
    }
}

/// A one-value channel whose receiving end is a future: `map_async`'s callback sends, the
/// caller awaits. Written here to avoid an executor/channel dependency for one use.
struct Oneshot<T>(std::sync::Arc<Mutex<(Option<T>, Option<std::task::Waker>)>>);

impl<T> Default for Oneshot<T> {
    fn default() -> Self {
        Oneshot(std::sync::Arc::new(Mutex::new((None, None))))
    }
}
impl<T> Clone for Oneshot<T> {
    fn clone(&self) -> Self {
        Oneshot(self.0.clone())
    }
}
impl<T> Oneshot<T> {
    fn send(&self, v: T) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        s.0 = Some(v);
        if let Some(w) = s.1.take() {
            w.wake();
        }
    }
}
impl<T> std::future::Future for Oneshot<T> {
    type Output = T;
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<T> {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match s.0.take() {
            Some(v) => std::task::Poll::Ready(v),
            None => {
                s.1 = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        }
    }
}
