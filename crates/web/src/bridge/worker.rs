//! The worker side of the bridge: one job at a time (www/worker.js awaits each), its progress,
//! events and outcome posted back in [`FromWorker`] envelopes.

use std::future::Future;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};

use super::wire;
use super::{FromWorker, JobId, JobMessage};

fn post<E: Serialize>(msg: &FromWorker<E>) {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let sent = wire::to_js(msg).and_then(|value| {
        let transfer = wire::transferables(&value);
        scope.post_message_with_transfer(&value, &transfer).map_err(|e| crate::js::error_text(&e))
    });
    if let Err(e) = sent {
        web_sys::console::error_1(&format!("mpqlab worker: {e}").into());
    }
}

/// Tells the page that this worker takes jobs now.
pub fn ready() {
    post(&FromWorker::<()>::Ready);
}

/// A panic is a bug: say what it was before the trap ends the module (worker.js then reports
/// the trap too; the page restarts the worker on the first of the two).
pub fn report_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("internal error: {info}");
        web_sys::console::error_1(&message.clone().into());
        post(&FromWorker::<()>::Crashed { message });
    }));
}

/// What a job's handler reports through: progress and the lab's events (wrapped in `W`, the
/// worker module's one event type).
pub struct Ctx<W> {
    job: JobId,
    _wire: PhantomData<fn(W)>,
}

impl<W> Clone for Ctx<W> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<W> Copy for Ctx<W> {}

impl<W: Serialize> Ctx<W> {
    pub fn job(&self) -> JobId {
        self.job
    }

    pub fn progress(&self, stage: &str, done: u32, total: u32) {
        post(&FromWorker::<()>::Progress { job: self.job, stage: stage.to_string(), done: done as f64, total: total as f64 });
    }

    pub fn event(&self, event: impl Into<W>) {
        post(&FromWorker::Event { job: self.job, event: event.into() });
    }
}

/// Runs one message from the page with `handle` and posts its outcome. A message that does
/// not decode fails its job (when its id can be read) with the reason.
pub async fn receive<R, W, F, Fut>(data: JsValue, handle: F)
where
    R: DeserializeOwned,
    W: Serialize,
    F: FnOnce(Ctx<W>, R) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let job_id = crate::js::get(&data, "job").as_f64().unwrap_or(f64::NAN);
    let msg: JobMessage<R> = match wire::from_js(data) {
        Ok(m) => m,
        Err(message) => {
            if job_id.is_finite() {
                post(&FromWorker::<()>::Failed { job: job_id as JobId, message });
            } else {
                web_sys::console::error_1(&format!("mpqlab worker: {message}").into());
            }
            return;
        }
    };
    let ctx = Ctx { job: msg.job, _wire: PhantomData };
    match handle(ctx, msg.request).await {
        Ok(()) => post(&FromWorker::<()>::Done { job: msg.job }),
        Err(message) => post(&FromWorker::<()>::Failed { job: msg.job, message }),
    }
}
