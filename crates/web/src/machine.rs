//! What the labs' worker sides share: the bundled models (loaded once per backend and worker),
//! their test subsets (fetched once) and burn's WebGPU device. Plain services: no lab is named
//! here.

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::Device;
use mpq_core::experiment::image::Backend;
use mpq_core::{Error, Image, Result};
use mpq_models::data::{LabeledImages, decode_subset};
use mpq_models::verdict::DatasetItem;
use mpq_models::{Classifier, ModelId, Task};

use crate::js;

thread_local! {
    static MODELS: RefCell<Vec<(ModelId, Backend, Rc<Classifier>)>> = const { RefCell::new(Vec::new()) };
    #[cfg(feature = "gpu")]
    static GPU: RefCell<Option<Device>> = const { RefCell::new(None) };
    static SUBSETS: RefCell<Vec<(Task, Rc<LabeledImages>)>> = const { RefCell::new(Vec::new()) };
}

pub fn model_error(e: mpq_models::ModelError) -> Error {
    Error::Invalid(e.to_string())
}

/// Does this worker's browser have the WebGPU API at all (it may still offer no adapter)?
pub fn has_webgpu() -> bool {
    !js::get(&js::get(&js_sys::global(), "navigator"), "gpu").is_undefined()
}

/// What a GPU request says in the CPU-only worker module. The page's bridge runs every request
/// that needs WebGPU (`labs::*::module`) in the GPU module where the browser has WebGPU, so
/// this is said where it has none (or through a bug).
#[cfg(not(feature = "gpu"))]
pub fn no_gpu_module() -> Error {
    if has_webgpu() {
        Error::Invalid("this worker runs the CPU-only module, which has no WebGPU (a page bug: it should have started the WebGPU module)".into())
    } else {
        Error::Invalid("this browser has no WebGPU (navigator.gpu is missing); use the CPU backend".into())
    }
}

/// burn's WebGPU device: not in the CPU-only worker module.
#[cfg(not(feature = "gpu"))]
pub async fn gpu_device() -> Result<Device> {
    Err(no_gpu_module())
}

/// burn's WebGPU device, set up on first use (burn needs the asynchronous setup in a browser).
#[cfg(feature = "gpu")]
pub async fn gpu_device() -> Result<Device> {
    if let Some(d) = GPU.with(|g| g.borrow().clone()) {
        return Ok(d);
    }
    if !has_webgpu() {
        return Err(Error::Invalid("this browser has no WebGPU (navigator.gpu is missing); use the CPU backend".into()));
    }
    let device = Device::wgpu_options().init_async().await.map_err(|e| Error::Invalid(format!("WebGPU could not start: {e}")))?;
    GPU.with(|g| *g.borrow_mut() = Some(device.clone()));
    Ok(device)
}

/// A bundled model on a backend, loaded once per worker.
pub async fn classifier(model: ModelId, backend: Backend) -> Result<Rc<Classifier>> {
    if let Some(c) = MODELS.with(|m| m.borrow().iter().find(|e| e.0 == model && e.1 == backend).map(|e| e.2.clone())) {
        return Ok(c);
    }
    let device = match backend {
        Backend::Cpu => mpq_models::cpu_device(),
        Backend::WebGpu => gpu_device().await?,
    };
    let c = Rc::new(Classifier::load_bundled(model, &device).map_err(model_error)?);
    MODELS.with(|m| m.borrow_mut().push((model, backend, c.clone())));
    Ok(c)
}

/// A task's committed test subset, fetched from the page's `datasets/` folder once.
pub async fn subset(task: Task) -> Result<Rc<LabeledImages>> {
    if let Some(s) = SUBSETS.with(|s| s.borrow().iter().find(|e| e.0 == task).map(|e| e.1.clone())) {
        return Ok(s);
    }
    let url = format!("datasets/{}", task.subset_file());
    let bytes = js::fetch_bytes(&url).await.map_err(|e| Error::Invalid(format!("cannot fetch {url}: {e}")))?;
    let set = Rc::new(decode_subset(&bytes).map_err(|e| Error::Invalid(e.to_string()))?);
    SUBSETS.with(|s| s.borrow_mut().push((task, set.clone())));
    Ok(set)
}

pub fn parse_model(id: &str) -> Result<ModelId> {
    ModelId::parse(id).ok_or_else(|| Error::Invalid(format!("unknown model '{id}'")))
}

pub fn parse_task(id: &str) -> Result<Task> {
    Task::parse(id).ok_or_else(|| Error::Invalid(format!("unknown data set '{id}'")))
}

/// Item `index` of `task`'s subset as an image (gray or RGB), with its label.
pub async fn item_image(task: Task, index: usize) -> Result<(Image, DatasetItem)> {
    let set = subset(task).await?;
    let img = set.to_image(index).map_err(|_| Error::Invalid(format!("{} has {} test items here, so there is no item {index}", task.name(), set.len())))?;
    Ok((img, DatasetItem { task, index, label: set.labels[index] as usize }))
}
