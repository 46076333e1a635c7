//! The page ↔ worker bridge, the same for every lab: job ids, progress, results, errors,
//! cancel (terminate and respawn) and crashes.
//!
//! * [`JobMessage`] goes to a worker, [`FromWorker`] comes back: typed envelopes around each
//!   lab's own request and event enums (carried by serde-wasm-bindgen, byte buffers as
//!   transferables: see `wire`).
//! * [`JobTracker`] is the page side's bookkeeping as plain Rust: what is queued, what runs,
//!   which worker instance a message came from, what to do on a cancel or a crash. It is
//!   tested natively; `page::Bridge` executes its [`Action`]s with a real `Worker`.
//! * `worker` is the worker side: it says [`FromWorker::Ready`] once its module is
//!   instantiated, runs one job at a time and reports progress, events and the outcome.
//!
//! A worker takes work only after it said it is ready; until then jobs queue on the page. One
//! job runs per worker at a time. Cancelling the running job terminates the worker (the only
//! way to stop wasm mid-way) and starts a fresh one, which then takes the jobs still queued.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

#[cfg(target_arch = "wasm32")]
pub mod wire;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod page;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod worker;

/// A job's id, unique per [`JobTracker`] (so per page-side bridge).
pub type JobId = u32;

/// Page → worker: run `request` as job `job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobMessage<R> {
    pub job: JobId,
    pub request: R,
}

/// Worker → page. `Crashed` is also written by `www/worker.js` itself when the module traps,
/// as the literal `{ Crashed: { message } }` (the test below pins that shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromWorker<E> {
    /// The module is instantiated: the worker takes jobs from now on.
    Ready,
    Progress { job: JobId, stage: String, done: f64, total: f64 },
    /// One of the lab's own events (a result, a row, a point).
    Event { job: JobId, event: E },
    /// The job finished; its events have all been sent.
    Done { job: JobId },
    /// The job failed with a message for people; the worker is still usable.
    Failed { job: JobId, message: String },
    /// The worker is unusable (a trap, out of memory): the page restarts it.
    Crashed { message: String },
}

/// A lab's messages as the bridge carries them: the lab's own request and event enums, and
/// how they are wrapped into the worker module's one request and event type (the registry in
/// `labs` implements this for each lab).
pub trait Protocol: 'static {
    type Request: Clone + 'static;
    type Event: 'static;
    type WireRequest: Serialize;
    type WireEvent: serde::de::DeserializeOwned;
    fn wrap(request: Self::Request) -> Self::WireRequest;
    /// `None`: an event of another lab (a bug; the bridge reports it as a failure).
    fn unwrap(event: Self::WireEvent) -> Option<Self::Event>;
    /// Named in messages ("the image lab's worker").
    const NAME: &'static str;
}

/// What the tracker asks its owner to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action<R> {
    /// Start worker instance `generation` (messages from other instances are ignored).
    Spawn { generation: u32 },
    /// Post this job to the current worker.
    Post { job: JobId, request: R },
    /// Stop the current worker at once.
    Terminate,
}

/// What the tracker tells its owner about a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice<E> {
    Progress { job: JobId, stage: String, done: f64, total: f64 },
    Event { job: JobId, event: E },
    Done { job: JobId },
    /// The job will not finish: it failed, its worker crashed (`crashed`), or the worker
    /// could not start. Its earlier events stand.
    Failed { job: JobId, message: String, crashed: bool },
}

impl<E> Notice<E> {
    pub fn job(&self) -> JobId {
        match self {
            Notice::Progress { job, .. } | Notice::Event { job, .. } | Notice::Done { job } | Notice::Failed { job, .. } => *job,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum WorkerState {
    /// No worker (none yet, or the last one could not start): the next job spawns one.
    None,
    /// Spawned, not ready yet.
    Starting,
    Ready,
}

/// The page side of one worker: queue, running job, worker instance. Plain data, no browser.
#[derive(Debug)]
pub struct JobTracker<R> {
    generation: u32,
    state: WorkerState,
    running: Option<JobId>,
    queue: VecDeque<(JobId, R)>,
    next_job: JobId,
}

impl<R> Default for JobTracker<R> {
    fn default() -> Self {
        JobTracker { generation: 0, state: WorkerState::None, running: None, queue: VecDeque::new(), next_job: 1 }
    }
}

impl<R> JobTracker<R> {
    /// The current worker instance (0 before the first spawn).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The job the worker is running, if any.
    pub fn running(&self) -> Option<JobId> {
        self.running
    }

    /// Nothing running and nothing queued.
    pub fn is_idle(&self) -> bool {
        self.running.is_none() && self.queue.is_empty()
    }

    /// Is `job` queued or running?
    pub fn is_pending(&self, job: JobId) -> bool {
        self.running == Some(job) || self.queue.iter().any(|(j, _)| *j == job)
    }

    /// Starts a worker now (before any job) so that it is ready when the first one comes.
    pub fn warm_up(&mut self) -> Vec<Action<R>> {
        if self.state == WorkerState::None { vec![self.spawn()] } else { Vec::new() }
    }

    fn spawn(&mut self) -> Action<R> {
        self.generation += 1;
        self.state = WorkerState::Starting;
        self.running = None;
        Action::Spawn { generation: self.generation }
    }

    /// Queues a job; it is posted as soon as the worker is ready and free.
    pub fn submit(&mut self, request: R) -> (JobId, Vec<Action<R>>) {
        let job = self.next_job;
        self.next_job += 1;
        self.queue.push_back((job, request));
        let mut actions = self.warm_up();
        actions.extend(self.next());
        (job, actions)
    }

    fn next(&mut self) -> Option<Action<R>> {
        if self.state != WorkerState::Ready || self.running.is_some() {
            return None;
        }
        let (job, request) = self.queue.pop_front()?;
        self.running = Some(job);
        Some(Action::Post { job, request })
    }

    /// Cancels a job: a queued one is dropped; the running one stops with its worker, and a
    /// fresh worker takes the rest of the queue. Unknown or finished jobs: nothing to do.
    pub fn cancel(&mut self, job: JobId) -> Vec<Action<R>> {
        self.queue.retain(|(j, _)| *j != job);
        if self.running != Some(job) {
            return Vec::new();
        }
        self.restart()
    }

    /// Cancels everything: the queue is dropped; a running job stops with its worker.
    pub fn cancel_all(&mut self) -> Vec<Action<R>> {
        self.queue.clear();
        if self.running.is_some() { self.restart() } else { Vec::new() }
    }

    fn restart(&mut self) -> Vec<Action<R>> {
        vec![Action::Terminate, self.spawn()]
    }

    /// A message from worker instance `generation`. Messages of older instances (terminated,
    /// their last messages still in flight) and of jobs no longer running are ignored.
    pub fn receive<E>(&mut self, generation: u32, msg: FromWorker<E>) -> (Vec<Notice<E>>, Vec<Action<R>>) {
        if generation != self.generation {
            return (Vec::new(), Vec::new());
        }
        let current = |job: JobId, running: Option<JobId>| running == Some(job);
        let mut notices = Vec::new();
        let mut actions = Vec::new();
        match msg {
            FromWorker::Ready => {
                if self.state == WorkerState::Starting {
                    self.state = WorkerState::Ready;
                }
            }
            FromWorker::Progress { job, stage, done, total } if current(job, self.running) => {
                notices.push(Notice::Progress { job, stage, done, total });
            }
            FromWorker::Event { job, event } if current(job, self.running) => notices.push(Notice::Event { job, event }),
            FromWorker::Done { job } if current(job, self.running) => {
                self.running = None;
                notices.push(Notice::Done { job });
            }
            FromWorker::Failed { job, message } if current(job, self.running) => {
                self.running = None;
                notices.push(Notice::Failed { job, message, crashed: false });
            }
            FromWorker::Crashed { message } => return self.crashed(message),
            _ => {}
        }
        actions.extend(self.next());
        (notices, actions)
    }

    /// The worker died (a trap reported by worker.js, or the `Worker`'s error event). A running
    /// job fails and a fresh worker takes the queue; a worker that died before it was ever ready
    /// could not start at all, so every queued job fails too and none is respawned until the
    /// next job comes (no restart loop).
    pub fn crashed<E>(&mut self, message: String) -> (Vec<Notice<E>>, Vec<Action<R>>) {
        let mut notices = Vec::new();
        let never_started = self.state == WorkerState::Starting;
        if let Some(job) = self.running.take() {
            notices.push(Notice::Failed { job, message: message.clone(), crashed: true });
        }
        let mut actions = vec![Action::Terminate];
        if never_started {
            for (job, _) in self.queue.drain(..) {
                notices.push(Notice::Failed { job, message: message.clone(), crashed: true });
            }
            self.state = WorkerState::None;
        } else {
            actions.push(self.spawn());
        }
        (notices, actions)
    }

    /// Like [`crashed`](Self::crashed) for a message of instance `generation` only.
    pub fn crashed_from<E>(&mut self, generation: u32, message: String) -> (Vec<Notice<E>>, Vec<Action<R>>) {
        if generation != self.generation || self.state == WorkerState::None {
            return (Vec::new(), Vec::new());
        }
        self.crashed(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type T = JobTracker<&'static str>;

    fn posted(actions: &[Action<&'static str>]) -> Vec<(JobId, &'static str)> {
        actions.iter().filter_map(|a| if let Action::Post { job, request } = a { Some((*job, *request)) } else { None }).collect()
    }

    #[test]
    fn jobs_wait_for_ready_then_run_one_at_a_time() {
        let mut t = T::default();
        let (a, actions) = t.submit("a");
        assert_eq!(actions, vec![Action::Spawn { generation: 1 }]);
        let (b, actions) = t.submit("b");
        assert!(actions.is_empty(), "nothing is posted before the worker is ready");
        let (_, actions) = t.receive::<()>(1, FromWorker::Ready);
        assert_eq!(posted(&actions), vec![(a, "a")]);
        assert_eq!(t.running(), Some(a));
        let (n, actions) = t.receive::<()>(1, FromWorker::Progress { job: a, stage: "x".into(), done: 1.0, total: 2.0 });
        assert_eq!(n.len(), 1);
        assert!(actions.is_empty());
        let (n, actions) = t.receive::<u8>(1, FromWorker::Event { job: a, event: 7 });
        assert_eq!(n, vec![Notice::Event { job: a, event: 7 }]);
        assert!(actions.is_empty());
        let (n, actions) = t.receive::<()>(1, FromWorker::Done { job: a });
        assert_eq!(n, vec![Notice::Done { job: a }]);
        assert_eq!(posted(&actions), vec![(b, "b")]);
        let (n, actions) = t.receive::<()>(1, FromWorker::Failed { job: b, message: "bad".into() });
        assert_eq!(n, vec![Notice::Failed { job: b, message: "bad".into(), crashed: false }]);
        assert!(actions.is_empty());
        assert!(t.is_idle());
    }

    #[test]
    fn cancel_terminates_respawns_and_keeps_the_queue() {
        let mut t = T::default();
        let (a, _) = t.submit("a");
        let (b, _) = t.submit("b");
        let (c, _) = t.submit("c");
        t.receive::<()>(1, FromWorker::Ready);
        assert!(t.cancel(c).is_empty(), "a queued job is just dropped");
        assert_eq!(t.cancel(a), vec![Action::Terminate, Action::Spawn { generation: 2 }]);
        // The old worker's last messages are ignored.
        let (n, actions) = t.receive::<()>(1, FromWorker::Done { job: a });
        assert!(n.is_empty() && actions.is_empty());
        let (_, actions) = t.receive::<()>(1, FromWorker::Ready);
        assert!(actions.is_empty(), "a Ready from the terminated worker does not count");
        let (_, actions) = t.receive::<()>(2, FromWorker::Ready);
        assert_eq!(posted(&actions), vec![(b, "b")]);
        assert!(t.cancel(a).is_empty(), "cancelling a finished job does nothing");
        assert_eq!(t.cancel_all(), vec![Action::Terminate, Action::Spawn { generation: 3 }]);
        assert!(t.is_idle());
    }

    #[test]
    fn a_crash_fails_the_running_job_and_a_fresh_worker_takes_the_queue() {
        let mut t = T::default();
        let (a, _) = t.submit("a");
        let (b, _) = t.submit("b");
        t.receive::<()>(1, FromWorker::Ready);
        let (n, actions) = t.receive::<()>(1, FromWorker::Crashed { message: "trap".into() });
        assert_eq!(n, vec![Notice::Failed { job: a, message: "trap".into(), crashed: true }]);
        assert_eq!(actions, vec![Action::Terminate, Action::Spawn { generation: 2 }]);
        // worker.js reports the same trap a second time: the old instance is ignored.
        let (n, _) = t.receive::<()>(1, FromWorker::Crashed { message: "trap".into() });
        assert!(n.is_empty());
        let (_, actions) = t.receive::<()>(2, FromWorker::Ready);
        assert_eq!(posted(&actions), vec![(b, "b")]);
    }

    #[test]
    fn a_worker_that_cannot_start_fails_its_jobs_without_a_restart_loop() {
        let mut t = T::default();
        let (a, _) = t.submit("a");
        let (b, _) = t.submit("b");
        let (n, actions) = t.crashed_from::<()>(1, "no module".into());
        assert_eq!(n.iter().map(Notice::job).collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(actions, vec![Action::Terminate]);
        assert!(t.is_idle());
        assert!(t.crashed_from::<()>(1, "again".into()).0.is_empty(), "no worker, nothing to report");
        let (_, actions) = t.submit("c");
        assert_eq!(actions, vec![Action::Spawn { generation: 2 }], "the next job tries again");
    }

    #[test]
    fn the_crash_message_shape_matches_worker_js() {
        let v = serde_json::to_value(FromWorker::<()>::Crashed { message: "x".into() }).unwrap();
        assert_eq!(v, serde_json::json!({ "Crashed": { "message": "x" } }));
        let v = serde_json::to_value(FromWorker::<()>::Ready).unwrap();
        assert_eq!(v, serde_json::json!("Ready"));
    }
}
