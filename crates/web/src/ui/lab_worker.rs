//! A lab page's own worker, the one job it runs and the input it holds (the image and audio
//! labs bring it in line with their experiment a job at a time): submitting, cancelling a job
//! no longer wanted, forgetting the input when the worker restarts, the catalog asked for
//! once, and the running job's notices.

use crate::bridge::page::{Bridge, Incoming};
use crate::bridge::{JobId, Notice, Protocol, WorkerModule};

pub struct LabWorker<P: Protocol, J, I> {
    bridge: Bridge<P>,
    job: Option<(JobId, J)>,
    generation: u32,
    /// The input the worker holds, as far as the page knows.
    held: Option<I>,
}

impl<P: Protocol, J: Clone, I: PartialEq> LabWorker<P, J, I> {
    /// `route` gets the worker's messages (called from its event handlers, outside any borrow).
    pub fn new(route: impl Fn(u32, Incoming) + 'static) -> Self {
        LabWorker { bridge: Bridge::new(route), job: None, generation: 0, held: None }
    }

    /// The page's next jobs need `module`: call it before [`holds`](Self::holds), so that a
    /// worker replaced by one with the module is seen to hold nothing (it is replaced at once
    /// when idle, as it is when `ready` said so).
    pub fn require(&mut self, module: WorkerModule) {
        self.bridge.require(module);
    }

    /// Whether the worker holds `input` (a restarted one holds nothing).
    pub fn holds(&mut self, input: &I) -> bool {
        if self.bridge.generation() != self.generation {
            self.generation = self.bridge.generation();
            self.held = None;
        }
        self.held.as_ref() == Some(input)
    }

    /// The worker has loaded `input`.
    pub fn loaded(&mut self, input: I) {
        self.held = Some(input);
    }

    /// Whether the page can send its next job: the worker is free and the lab's catalog is
    /// here. While the catalog is missing it is asked for once (`catalog()`), unless that `failed`.
    pub fn ready(&mut self, have_catalog: bool, failed: bool, catalog: impl FnOnce() -> (P::Request, J)) -> bool {
        if !self.is_idle() {
            return false;
        }
        if !have_catalog && !failed {
            let (request, job) = catalog();
            self.submit(request, job);
        }
        have_catalog
    }

    pub fn submit(&mut self, request: P::Request, job: J) {
        let id = self.bridge.submit(request);
        self.job = Some((id, job));
    }

    /// The job running, if any.
    pub fn job(&self) -> Option<&J> {
        self.job.as_ref().map(|(_, j)| j)
    }

    pub fn is_idle(&self) -> bool {
        self.bridge.is_idle()
    }

    /// Stops the running job (its worker is terminated and a fresh one started).
    pub fn cancel(&mut self) {
        if let Some((id, _)) = self.job.take() {
            self.bridge.cancel(id);
        }
    }

    /// Stops the running job when `stale(job)` says it is no longer wanted.
    pub fn cancel_if(&mut self, stale: impl Fn(&J) -> bool) -> bool {
        let cancel = self.job().is_some_and(stale);
        if cancel {
            self.cancel();
        }
        cancel
    }

    /// The running job's notices, each with the job; one that is done or failed ends it, and
    /// a crash is said in the banner (what the page shows is kept).
    pub fn notices(&mut self, generation: u32, incoming: Incoming) -> Vec<(J, Notice<P::Event>)> {
        let mut out = Vec::new();
        for notice in self.bridge.handle(generation, incoming) {
            let Some((id, job)) = self.job.clone() else { continue };
            if notice.job() != id {
                continue;
            }
            match &notice {
                Notice::Done { .. } => self.job = None,
                Notice::Failed { message, crashed, .. } => {
                    self.job = None;
                    if *crashed {
                        super::show_error(&format!("{message} — the worker was restarted; what the page shows is kept."));
                    }
                }
                _ => {}
            }
            out.push((job, notice));
        }
        out
    }
}
