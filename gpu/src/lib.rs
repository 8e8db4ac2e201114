//! The pool-compute layer's GPU backend: [`Gpu`] runs `quarry-core`'s [`Backend`] passes (the
//! whole-pool dot products behind the class probabilities, Core-Set's k-center greedy) as WGSL
//! compute shaders on `wgpu`, natively on Vulkan and in the browser's learner worker on WebGPU.
//!
//! Contracts:
//! - The learner's 8-bit rows go to the GPU once each ([`mirror`]), in chunks below the
//!   device's storage-binding limit; a refresh uploads only rows that arrived since the last.
//! - Dot products are exact (integer arithmetic), so probabilities match the CPU's bit for bit;
//!   k-center distances are `f32` (see [`Backend::k_center`] for what that allows).
//! - Any error, validation failure or device loss marks the backend broken: every later pass is
//!   declined and the learner's CPU kernels run ([`Gpu::is_broken`]). Nothing panics.
//! - Natively every future completes before it returns (the device is polled to completion), so
//!   [`quarry_core::compute::now`] can run them; in the browser they are awaited.

mod check;
mod dots;
mod io;
mod kcenter;
mod mirror;

use std::sync::{Arc, Mutex};

use quarry_core::compute::{Backend, Vectors};
use quarry_core::store::{CompactRows, Rows};

pub use check::self_check;

/// The largest row length the backend takes: the integer dot products stay within `i32`.
pub const MAX_DIM: usize = 2048;

/// Why no GPU backend could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpuError {
    /// No adapter at all (no WebGPU in this browser, no Vulkan driver).
    NoAdapter(String),
    /// Only a software (fallback) adapter, and fallback adapters were not allowed.
    Fallback(String),
    /// The adapter would not give a device.
    NoDevice(String),
    /// The start-up self-check disagreed with the CPU or failed.
    SelfCheck(String),
}

impl std::fmt::Display for GpuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GpuError::NoAdapter(why) => write!(f, "no GPU adapter: {why}"),
            GpuError::Fallback(name) => write!(f, "only a software adapter ({name})"),
            GpuError::NoDevice(why) => write!(f, "the GPU adapter gave no device: {why}"),
            GpuError::SelfCheck(why) => write!(f, "the GPU self-check failed: {why}"),
        }
    }
}

impl std::error::Error for GpuError {}

/// A GPU device with the kernels built and the learner's rows mirrored on it.
pub struct Gpu {
    name: String,
    fallback: bool,
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// Why the backend was retired, once it is.
    broken: Arc<Mutex<Option<String>>>,
    kernels: kernels::Kernels,
    mirror: Option<mirror::Mirror>,
    /// Bytes of rows per chunk (one storage binding).
    chunk_bytes: u64,
    /// At most this many rows per chunk (tests).
    chunk_rows_cap: Option<usize>,
}

mod kernels {
    /// The compiled pipelines.
    pub(crate) struct Kernels {
        pub dots: wgpu::ComputePipeline,
        pub update: wgpu::ComputePipeline,
        pub pick: wgpu::ComputePipeline,
        pub copy: wgpu::ComputePipeline,
    }

    const COMMON: &str = include_str!("wgsl/common.wgsl");

    fn pipeline(device: &wgpu::Device, source: &str, entry: &str) -> wgpu::ComputePipeline {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(entry),
            source: wgpu::ShaderSource::Wgsl(format!("{COMMON}\n{source}").into()),
        });
        device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
    }

    impl Kernels {
        pub(crate) fn new(device: &wgpu::Device) -> Kernels {
            let kcenter = include_str!("wgsl/kcenter.wgsl");
            Kernels {
                dots: pipeline(device, include_str!("wgsl/dots.wgsl"), "dots"),
                update: pipeline(device, kcenter, "update"),
                pick: pipeline(device, kcenter, "pick"),
                copy: pipeline(device, kcenter, "copy_centre"),
            }
        }
    }
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu")
            .field("name", &self.name)
            .field("fallback", &self.fallback)
            .field("broken", &self.is_broken())
            .finish_non_exhaustive()
    }
}

impl Gpu {
    /// The first adapter the platform offers (high performance preferred), with a device whose
    /// storage limits are raised to the adapter's. A software adapter (lavapipe, SwiftShader)
    /// is refused unless `allow_fallback`. Run [`self_check`] before trusting it.
    ///
    /// # Errors
    /// [`GpuError::NoAdapter`], [`GpuError::Fallback`] or [`GpuError::NoDevice`].
    pub async fn new(allow_fallback: bool) -> Result<Gpu, GpuError> {
        let instance = wgpu::Instance::default();
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let fallback = info.device_type == wgpu::DeviceType::Cpu;
        // Browsers may keep the adapter's description to themselves.
        let name = match info.name.trim() {
            "" if fallback => "software adapter".to_string(),
            "" => "default adapter".to_string(),
            named => named.to_string(),
        };
        if fallback && !allow_fallback {
            return Err(GpuError::Fallback(name));
        }
        let offered = adapter.limits();
        let required_limits = wgpu::Limits {
            max_storage_buffer_binding_size: offered.max_storage_buffer_binding_size,
            max_buffer_size: offered.max_buffer_size,
            ..wgpu::Limits::default()
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("quarry"),
                required_limits,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoDevice(e.to_string()))?;
        let broken = Arc::new(Mutex::new(None));
        let flag = broken.clone();
        device.on_uncaptured_error(Arc::new(move |e| fault(&flag, e.to_string())));
        let flag = broken.clone();
        device.set_device_lost_callback(move |_, why| fault(&flag, format!("device lost: {why}")));
        let limits = device.limits();
        let chunk_bytes = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let kernels = kernels::Kernels::new(&device);
        if let Some(e) = scope.pop().await {
            return Err(GpuError::NoDevice(format!(
                "the kernels did not build: {e}"
            )));
        }
        Ok(Gpu {
            name,
            fallback,
            device,
            queue,
            broken,
            kernels,
            mirror: None,
            chunk_bytes,
            chunk_rows_cap: None,
        })
    }

    /// The adapter's name, as the side panel shows it ("WebGPU: <name>").
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the adapter is a software one.
    pub fn is_fallback(&self) -> bool {
        self.fallback
    }

    /// Whether an error or a device loss has retired the backend (every pass is then declined).
    pub fn is_broken(&self) -> bool {
        self.fault().is_some()
    }

    /// Why the backend was retired (`None` while it works).
    pub fn fault(&self) -> Option<String> {
        self.broken
            .lock()
            .map_or(Some("poisoned".into()), |f| f.clone())
    }

    /// Retires the backend for `why`: later passes are declined.
    pub fn retire(&self, why: &str) {
        fault(&self.broken, why.to_string());
    }

    /// Caps each chunk of mirrored rows at `rows` rows (tests: many chunks on a small pool).
    /// Drops the mirror.
    pub fn limit_chunk_rows(&mut self, rows: usize) {
        self.chunk_rows_cap = Some(rows.max(1));
        self.mirror = None;
    }

    /// Forgets the mirrored rows: the next pass uploads its store afresh (a new learner).
    pub fn forget(&mut self) {
        self.mirror = None;
    }

    /// Whether a pass over `store` with vectors of length `dim` can run here.
    fn takes(&self, store: &CompactRows, dim: usize) -> bool {
        !self.is_broken() && dim > 0 && dim <= MAX_DIM && store.cols() == dim
    }

    /// A pass's result; a `None` from it (an error inside) retires the backend.
    fn settle<T>(&self, pass: &str, out: Option<T>) -> Option<T> {
        if out.is_none() || self.is_broken() {
            self.retire(&format!("the {pass} pass failed"));
            return None;
        }
        out
    }
}

impl Backend for Gpu {
    async fn dots(
        &mut self,
        store: &CompactRows,
        rows: &[usize],
        vectors: &Vectors,
    ) -> Option<Vec<i32>> {
        if rows.is_empty() || vectors.count() == 0 {
            return Some(Vec::new());
        }
        if !self.takes(store, vectors.dim()) {
            return None;
        }
        let out = dots::run(self, store, rows, vectors).await;
        self.settle("dot product", out)
    }

    async fn k_center(
        &mut self,
        store: &CompactRows,
        rows: &[usize],
        centres: &[usize],
        want: usize,
    ) -> Option<Vec<usize>> {
        let want = want.min(rows.len());
        if want == 0 {
            return Some(Vec::new());
        }
        if !self.takes(store, store.cols()) || centres.is_empty() {
            return None;
        }
        let out = kcenter::run(self, store, rows, centres, want).await;
        self.settle("k-center", out)
    }
}

/// Records the first reason the backend broke.
fn fault(flag: &Mutex<Option<String>>, why: String) {
    if let Ok(mut f) = flag.lock() {
        f.get_or_insert(why);
    }
}
