//! A wgpu device and the quantized matmul kernels on it. Native: any adapter (a real GPU, or
//! Mesa's lavapipe CPU Vulkan driver in CI); on the web: WebGPU.

use std::collections::HashMap;
use std::sync::Mutex;

use wgpu::util::DeviceExt;

use crate::formats::{Format, QuantMatrix, blocks_per_row};

#[derive(Debug, Clone, PartialEq)]
pub enum GpuError {
    NoAdapter(String),
    Device(String),
    TooLarge(String),
    Readback(String),
    /// The caller's input does not fit the matrix (a bad shape).
    Input(String),
}

impl std::fmt::Display for GpuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GpuError::NoAdapter(e) => write!(f, "no GPU adapter: {e}"),
            GpuError::Device(e) => write!(f, "GPU device error: {e}"),
            GpuError::TooLarge(e) => write!(f, "too large for this GPU: {e}"),
            GpuError::Readback(e) => write!(f, "GPU readback failed: {e}"),
            GpuError::Input(e) => write!(f, "bad input for the GPU kernel: {e}"),
        }
    }
}
impl std::error::Error for GpuError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    MatVec,
    MatMul,
}

pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pipelines: Mutex<HashMap<(Format, Kind), wgpu::ComputePipeline>>,
}

/// WGSL source of one kernel for one format: the shared part, the format's accessors, the kernel.
pub fn shader_source(format: Format, kind: Kind) -> String {
    let fmt = match format {
        Format::F32 => include_str!("kernels/f32.wgsl"),
        Format::F16 => include_str!("kernels/f16.wgsl"),
        Format::Q8_0 => include_str!("kernels/q8_0.wgsl"),
        Format::Q4_0 => include_str!("kernels/q4_0.wgsl"),
        Format::Q3_0 => include_str!("kernels/q3_0.wgsl"),
    };
    let kernel = match kind {
        Kind::MatVec => include_str!("kernels/matvec.wgsl"),
        Kind::MatMul => include_str!("kernels/matmul.wgsl"),
    };
    format!("{}\n{fmt}\n{kernel}", include_str!("kernels/common.wgsl"))
}

/// A weight matrix uploaded once, reused across calls.
pub struct GpuMatrix {
    pub format: Format,
    pub rows: usize,
    pub cols: usize,
    weights: wgpu::Buffer,
    scales: wgpu::Buffer,
}

impl Gpu {
    /// Takes an adapter and device wgpu offers (the high-performance one if several).
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
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("mpqlab"),
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::Device(e.to_string()))?;
        Ok(Gpu { device, queue, info, limits, pipelines: Mutex::new(HashMap::new()) })
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
                eprintln!("adapter: {} ({:?}, {:?})", g.info.name, g.info.device_type, g.info.backend);
                Some(g)
            }
            Err(e) => {
                assert!(std::env::var("MPQ_REQUIRE_GPU").as_deref() != Ok("1"), "MPQ_REQUIRE_GPU=1 but {e}");
                eprintln!("skipping GPU test: {e}");
                None
            }
        }
    }

    fn pipeline(&self, format: Format, kind: Kind) -> wgpu::ComputePipeline {
        let mut cache = self.pipelines.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry((format, kind))
            .or_insert_with(|| {
                let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(format.name()),
                    source: wgpu::ShaderSource::Wgsl(shader_source(format, kind).into()),
                });
                self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(format.name()),
                    layout: None,
                    module: &module,
                    entry_point: Some("main"),
                    compilation_options: Default::default(),
                    cache: None,
                })
            })
            .clone()
    }

    fn check_size(&self, bytes: usize, what: &str) -> Result<(), GpuError> {
        let max = self.limits.max_storage_buffer_binding_size as usize;
        if bytes > max {
            return Err(GpuError::TooLarge(format!("{what} needs {bytes} bytes; this adapter binds at most {max}")));
        }
        Ok(())
    }

    pub fn upload(&self, m: &QuantMatrix) -> Result<GpuMatrix, GpuError> {
        self.check_size(m.data.len() * 4, "the weight matrix")?;
        let storage = wgpu::BufferUsages::STORAGE;
        let weights = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("weights"),
            contents: bytemuck::cast_slice(&m.data),
            usage: storage,
        });
        // WGSL needs a binding even for formats without scales: one zero word.
        let scale_words: &[u32] = if m.scales.is_empty() { &[0] } else { &m.scales };
        let scales = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("scales"),
            contents: bytemuck::cast_slice(scale_words),
            usage: storage,
        });
        Ok(GpuMatrix { format: m.format, rows: m.rows, cols: m.cols, weights, scales })
    }

    /// y = W·x (batch 1) when `batch == 1`, else Y = X·Wᵀ with X `batch × cols`.
    /// `repeats` dispatches run back to back (for timing); the result is the last one's.
    /// Blocks until the result is read back (native only: the browser cannot block, see
    /// [`Self::run_async`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run(&self, w: &GpuMatrix, x: &[f32], batch: usize, repeats: u32) -> Result<Vec<f32>, GpuError> {
        pollster::block_on(self.run_async(w, x, batch, repeats))
    }

    /// [`Self::run`] as a future, for WebGPU: the result is copied to a mappable buffer and
    /// the future resolves when the browser has mapped it (natively the device is polled to
    /// completion first, so the future is ready when first polled).
    pub async fn run_async(&self, w: &GpuMatrix, x: &[f32], batch: usize, repeats: u32) -> Result<Vec<f32>, GpuError> {
        if batch == 0 || batch.checked_mul(w.cols) != Some(x.len()) {
            return Err(GpuError::Input(format!(
                "{} inputs are not {batch} rows of {} (the matrix is {}×{})",
                x.len(),
                w.cols,
                w.rows,
                w.cols
            )));
        }
        let kind = if batch == 1 { Kind::MatVec } else { Kind::MatMul };
        let out_len = batch * w.rows;
        self.check_size(out_len * 4, "the output")?;
        self.check_size(x.len() * 4, "the input")?;
        let (gx, gy) = match kind {
            Kind::MatVec => (w.rows.min(65535) as u32, w.rows.div_ceil(65535) as u32),
            Kind::MatMul => (w.rows.div_ceil(16) as u32, batch.div_ceil(16) as u32),
        };
        let max_groups = self.limits.max_compute_workgroups_per_dimension;
        if gx > max_groups || gy > max_groups {
            return Err(GpuError::TooLarge(format!(
                "{} rows × batch {batch} needs {gx}×{gy} workgroups; this adapter allows {max_groups} per dimension",
                w.rows
            )));
        }
        let dims = [w.rows as u32, w.cols as u32, batch as u32, blocks_per_row(w.cols) as u32];
        let dims = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("dims"),
            contents: bytemuck::cast_slice(&dims),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let xb = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("x"),
            contents: bytemuck::cast_slice(x),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let size = (out_len * 4) as u64;
        let yb = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("y"),
            size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let pipeline = self.pipeline(w.format, kind);
        let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: w.weights.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 1, resource: w.scales.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 2, resource: xb.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 3, resource: yb.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 4, resource: dims.as_entire_binding() },
            ],
        });
        let mut enc = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind, &[]);
            for _ in 0..repeats.max(1) {
                pass.dispatch_workgroups(gx, gy, 1);
            }
        }
        enc.copy_buffer_to_buffer(&yb, 0, &readback, 0, size);
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
        let out = bytemuck::cast_slice::<u8, f32>(&view).to_vec();
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
