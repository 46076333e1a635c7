//! Extra workers beside the lab's own: the sweep runs on several at once (one per core, plus
//! one: the browser's encoders and decoders run partly off the worker threads) and the model
//! lab has its own, so neither waits for the image lab. Each is the same `worker.js` module.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Event, MessageEvent, Worker};

/// A worker with its message and error handlers. Terminated when dropped; the handlers live as
/// long as it does. Dropping one from inside its own handler is fine: wasm-bindgen frees a
/// closure only once its running call has returned.
pub struct JobWorker {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl JobWorker {
    pub fn spawn(mut on_message: impl FnMut(JsValue) + 'static, mut on_error: impl FnMut(String) + 'static) -> Result<JobWorker, JsValue> {
        let opts = web_sys::WorkerOptions::new();
        opts.set_type(web_sys::WorkerType::Module);
        let worker = Worker::new_with_options("./worker.js", &opts)?;
        let on_msg = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| on_message(e.data()));
        worker.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
        let on_err = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            e.prevent_default();
            let msg = e
                .dyn_ref::<web_sys::ErrorEvent>()
                .map(|ev| ev.message())
                .unwrap_or_else(|| "the worker could not start".into());
            on_error(msg);
        });
        worker.set_onerror(Some(on_err.as_ref().unchecked_ref()));
        Ok(JobWorker { worker, _on_message: on_msg, _on_error: on_err })
    }

    pub fn post(&self, msg: &js_sys::Object) -> Result<(), JsValue> {
        self.worker.post_message(msg)
    }

    /// Stops it at once (the only way to stop wasm work mid-way); messages already queued for
    /// the page are still delivered, so handlers check the job they belong to.
    pub fn terminate(&self) {
        self.worker.terminate();
    }
}

impl Drop for JobWorker {
    fn drop(&mut self) {
        self.worker.terminate();
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
    }
}

/// How many sweep workers: one per core plus one (measured on 2 cores: two workers ran a
/// sweep 1.52× faster than one, three 1.61×), at least 2 and at most 6 (each holds a copy of
/// the module and the models).
pub fn sweep_workers() -> usize {
    let cores = web_sys::window().map(|w| w.navigator().hardware_concurrency()).unwrap_or(2.0);
    (cores as usize + 1).clamp(2, 6)
}
