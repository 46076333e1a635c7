//! The page side of the bridge: real `Worker`s running the shared worker modules.
//!
//! There are two worker modules ([`WorkerModule`]): the CPU one (codecs, metrics, models on
//! burn's CPU backend, the kernels' CPU references), fetched as the page starts, and the GPU
//! one (the same plus burn's WebGPU backend and our kernels on wgpu, ~3× the size), fetched
//! the first time a job needs WebGPU. Each is fetched and compiled once per page
//! ([`load_worker_module`], streaming compilation, with progress) and the compiled
//! `WebAssembly.Module` is posted to every worker the page starts with it, which instantiates
//! it: no worker downloads or compiles its own copy.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Event, MessageEvent, Worker};

use super::wire;
use super::{Action, FromWorker, JobId, JobMessage, JobTracker, Notice, Protocol, WorkerModule};

/// The build's sizes (scripts/build-web.sh). Trunk puts the modules at fixed names
/// ([`WorkerModule::files`]: Trunk.toml sets no file hashes).
const BUILD_INFO: &str = "./build.json";

#[wasm_bindgen(inline_js = r#"
// build.json, fetched once for the page (the modules' sizes, the build's id for the exports):
// a promise of its object, {} when it cannot be read.
let info = null;
export function build_info(infoUrl) {
  info ??= fetch(infoUrl).then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  return info;
}

// Fetches the worker module and compiles it while it downloads, reporting bytes as they
// arrive. With a compressed response the Content-Length is the compressed size, so the total
// comes from build.json (written by scripts/build-web.sh) instead.
export function load_worker_module(url, infoUrl, sizeKey, onProgress) {
  const info = build_info(infoUrl);
  return (async () => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
    let total = response.headers.get('content-encoding') ? 0 : Number(response.headers.get('content-length')) || 0;
    if (!total) total = Number((await info)[sizeKey]) || 0;
    let loaded = 0;
    const counting = new TransformStream({
      transform(chunk, controller) {
        loaded += chunk.byteLength;
        onProgress(loaded, total);
        controller.enqueue(chunk);
      },
    });
    const counted = new Response(response.body.pipeThrough(counting), { headers: { 'content-type': 'application/wasm' } });
    const module = await WebAssembly.compileStreaming(counted);
    onProgress(loaded, loaded);
    return module;
  })();
}
"#)]
extern "C" {
    fn load_worker_module(url: &str, info_url: &str, size_key: &str, on_progress: &Function) -> Promise;
    fn build_info(info_url: &str) -> Promise;
}

/// build.json's field `key` as text (the build's id), once the page's one fetch of it is done;
/// `None` when the file or the field is missing.
pub async fn build_field(key: &str) -> Option<String> {
    let info = wasm_bindgen_futures::JsFuture::from(build_info(BUILD_INFO)).await.ok()?;
    crate::js::get(&info, key).as_string()
}

thread_local! {
    /// Each compiled worker module (a promise of it), shared by every bridge; a module that
    /// failed to load is forgotten, so the next job that needs it tries again.
    static MODULES: RefCell<[Option<Promise>; 2]> = const { RefCell::new([None, None]) };
}

/// Starts fetching and compiling `module` (once); `on_progress(loaded, total)` is called as
/// bytes arrive (total 0 when unknown). Returns the promise of the compiled module, and whether
/// this call started the load (otherwise `on_progress` is dropped: the first caller's reports).
pub fn start_loading_module(module: WorkerModule, on_progress: impl FnMut(f64, f64) + 'static) -> (Promise, bool) {
    let slot = module as usize;
    if let Some(p) = MODULES.with(|m| m.borrow()[slot].clone()) {
        return (p, false);
    }
    let cb = Closure::<dyn FnMut(f64, f64)>::new(on_progress);
    let size_key = match module {
        WorkerModule::Cpu => "worker_wasm_bytes",
        WorkerModule::Gpu => "worker_gpu_wasm_bytes",
    };
    let promise = load_worker_module(module.files().1, BUILD_INFO, size_key, cb.as_ref().unchecked_ref());
    // The page loads the module once and reports progress until it is done: a page-long closure.
    cb.forget();
    let forget = Closure::<dyn FnMut(JsValue)>::new(move |_| MODULES.with(|m| m.borrow_mut()[slot] = None));
    let _ = promise.catch(&forget);
    forget.forget();
    MODULES.with(|m| m.borrow_mut()[slot] = Some(promise.clone()));
    (promise, true)
}

/// `module`, compiled: the shell shows its download (it started the CPU module's at start).
fn compiled(module: WorkerModule) -> Promise {
    crate::shell::load_worker_module(module)
}

/// What a worker delivers to its bridge's owner.
pub enum Incoming {
    Message(JsValue),
    /// The worker could not start or died (its `error` event, or the module failed to load).
    Error(String),
}

/// A `Worker` with its handlers; terminated when dropped. Dropping one from inside its own
/// handler is fine: wasm-bindgen frees a closure only after its running call returns.
struct JobWorker {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Drop for JobWorker {
    fn drop(&mut self) {
        self.worker.terminate();
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
    }
}

type Route = Rc<dyn Fn(u32, Incoming)>;

fn spawn(generation: u32, module: WorkerModule, route: &Route) -> Result<JobWorker, String> {
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let worker = Worker::new_with_options("./worker.js", &opts).map_err(|e| crate::js::error_text(&e))?;
    let r = route.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| r(generation, Incoming::Message(e.data())));
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let r = route.clone();
    let on_error = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
        e.prevent_default();
        let msg = e.dyn_ref::<web_sys::ErrorEvent>().map(|ev| ev.message()).unwrap_or_else(|| "the worker could not start".into());
        r(generation, Incoming::Error(msg));
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // The module arrives once compiled; until then the worker waits (and jobs queue here).
    let w = worker.clone();
    let r = route.clone();
    wasm_bindgen_futures::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(compiled(module)).await {
            Ok(compiled) => {
                let msg = crate::js::obj(&[("module", compiled), ("glue", module.files().0.into())]);
                if let Err(e) = w.post_message(&msg) {
                    r(generation, Incoming::Error(format!("cannot hand the module to a worker: {}", crate::js::error_text(&e))));
                }
            }
            Err(e) => {
                let which = if module == WorkerModule::Gpu { "the WebGPU worker module" } else { "the worker module" };
                r(generation, Incoming::Error(format!("cannot load {which}: {}", crate::js::error_text(&e))))
            }
        }
    });
    Ok(JobWorker { worker, _on_message: on_message, _on_error: on_error })
}

/// One worker and its jobs, for a lab's page. The owner routes [`Incoming`] messages back in
/// through [`Bridge::handle`] (the route given to [`Bridge::new`] is called from the worker's
/// event handlers, outside any borrow of the owner).
pub struct Bridge<P: Protocol> {
    tracker: JobTracker<P::Request>,
    worker: Option<JobWorker>,
    route: Route,
}

impl<P: Protocol> Bridge<P> {
    /// `route(generation, incoming)` must end in a call of [`handle`](Self::handle) on this bridge.
    pub fn new(route: impl Fn(u32, Incoming) + 'static) -> Self {
        Bridge { tracker: JobTracker::default(), worker: None, route: Rc::new(route) }
    }

    /// Starts the worker now, so that it is ready when the first job comes.
    pub fn warm_up(&mut self) {
        let actions = self.tracker.warm_up();
        self.run(actions);
    }

    pub fn submit(&mut self, request: P::Request) -> JobId {
        let module = available(P::module(&request));
        let (job, actions) = self.tracker.submit(request, module);
        self.run(actions);
        job
    }

    /// The next jobs need `module`: an idle worker without it is replaced now (its
    /// generation changes, so a page that keeps input in it sends the input again).
    pub fn require(&mut self, module: WorkerModule) {
        let actions = self.tracker.require(available(module));
        self.run(actions);
    }

    pub fn cancel(&mut self, job: JobId) {
        let actions = self.tracker.cancel(job);
        self.run(actions);
    }

    pub fn cancel_all(&mut self) {
        let actions = self.tracker.cancel_all();
        self.run(actions);
    }

    pub fn is_idle(&self) -> bool {
        self.tracker.is_idle()
    }

    /// The current worker instance: it changes when the worker is restarted (a cancel, a
    /// crash), and a restarted worker has lost whatever state the page gave the old one.
    pub fn generation(&self) -> u32 {
        self.tracker.generation()
    }

    pub fn running(&self) -> Option<JobId> {
        self.tracker.running()
    }

    pub fn is_pending(&self, job: JobId) -> bool {
        self.tracker.is_pending(job)
    }

    /// Stops the worker and forgets every job (the page no longer needs this worker).
    pub fn shut_down(&mut self) {
        self.tracker.cancel_all();
        self.worker = None;
    }

    /// A message or error from worker instance `generation`, as notices for the owner.
    pub fn handle(&mut self, generation: u32, incoming: Incoming) -> Vec<Notice<P::Event>> {
        let (notices, actions) = match incoming {
            Incoming::Error(message) => self.tracker.crashed_from(generation, format!("{}: {message}", P::NAME)),
            Incoming::Message(data) => match wire::from_js::<FromWorker<P::WireEvent>>(data) {
                Ok(msg) => {
                    let msg = match msg {
                        FromWorker::Event { job, event } => match P::unwrap(event) {
                            Some(event) => FromWorker::Event { job, event },
                            None => FromWorker::Failed { job, message: format!("{} sent another lab's event", P::NAME) },
                        },
                        FromWorker::Ready => FromWorker::Ready,
                        FromWorker::Progress { job, stage, done, total } => FromWorker::Progress { job, stage, done, total },
                        FromWorker::Done { job } => FromWorker::Done { job },
                        FromWorker::Failed { job, message } => FromWorker::Failed { job, message },
                        FromWorker::Crashed { message } => FromWorker::Crashed { message: format!("{} stopped: {message}", P::NAME) },
                    };
                    self.tracker.receive(generation, msg)
                }
                Err(e) => self.tracker.crashed_from(generation, format!("{}: {e}", P::NAME)),
            },
        };
        self.run(actions);
        notices
    }

    fn run(&mut self, actions: Vec<Action<P::Request>>) {
        for action in actions {
            match action {
                Action::Spawn { generation, module } => match spawn(generation, module, &self.route) {
                    Ok(w) => self.worker = Some(w),
                    Err(e) => {
                        self.worker = None;
                        self.report_later(generation, format!("cannot start a worker: {e}"));
                    }
                },
                Action::Terminate => self.worker = None,
                Action::Post { job, request } => {
                    let generation = self.tracker.generation();
                    let msg = JobMessage { job, request: P::wrap(request) };
                    let posted = wire::to_js(&msg).and_then(|value| {
                        let transfer = wire::transferables(&value);
                        let worker = self.worker.as_ref().ok_or("no worker")?;
                        worker.worker.post_message_with_transfer(&value, &transfer).map_err(|e| crate::js::error_text(&e))
                    });
                    if let Err(e) = posted {
                        self.report_later(generation, format!("cannot reach the worker: {e}"));
                    }
                }
            }
        }
    }

    /// Reports a failure through the owner's route, after the current call returns (the owner
    /// is borrowed now).
    fn report_later(&self, generation: u32, message: String) {
        let route = self.route.clone();
        wasm_bindgen_futures::spawn_local(async move { route(generation, Incoming::Error(message)) });
    }
}

/// The module to run `wanted` with here: without WebGPU in this browser the GPU module could
/// only say so, and the CPU module says it as well (the labs' WebGPU paths check
/// `navigator.gpu` first) without a 25 MB download.
fn available(wanted: WorkerModule) -> WorkerModule {
    if wanted == WorkerModule::Gpu && !crate::ui::has_webgpu() { WorkerModule::Cpu } else { wanted }
}

/// How many workers a pool should have: one per core plus one (measured on 2 cores: two sweep
/// workers ran 1.52× faster than one, three 1.61×), at least 2 and at most 6 (each holds an
/// instance of the worker module and its models).
pub fn pool_size() -> usize {
    let cores = web_sys::window().map(|w| w.navigator().hardware_concurrency()).unwrap_or(2.0);
    (cores as usize + 1).clamp(2, 6)
}
