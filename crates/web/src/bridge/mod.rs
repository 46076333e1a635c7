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

/// Which of the page's two worker modules a job needs (`labs::*::module` says it per request).
/// The GPU module holds everything the CPU module does plus burn's WebGPU backend and our WGSL
/// kernels on wgpu; it is ~3× the CPU module's size, so the page fetches it only for a job
/// that runs on WebGPU. Ordered: a worker with `Gpu` serves `Cpu` jobs too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum WorkerModule {
    #[default]
    Cpu,
    Gpu,
}

impl WorkerModule {
    /// The module's wasm-bindgen glue and wasm file, as trunk names them (`mpq-worker`,
    /// `mpq-worker-gpu` in crates/web/Cargo.toml).
    pub fn files(self) -> (&'static str, &'static str) {
        match self {
            WorkerModule::Cpu => ("./mpq-worker.js", "./mpq-worker_bg.wasm"),
            WorkerModule::Gpu => ("./mpq-worker-gpu.js", "./mpq-worker-gpu_bg.wasm"),
        }
    }
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
    /// The worker module `request` needs.
    fn module(request: &Self::Request) -> WorkerModule;
    /// Named in messages ("the image lab's worker").
    const NAME: &'static str;
}

/// What the tracker asks its owner to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action<R> {
    /// Start worker instance `generation` running `module` (messages from other instances are
    /// ignored).
    Spawn { generation: u32, module: WorkerModule },
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
    /// The module the current worker instance runs.
    module: WorkerModule,
    /// The module this tracker's jobs have needed so far: a worker with less is replaced (once
    /// it is idle) by one with this, and a worker keeps it (no switching back and forth).
    wanted: WorkerModule,
}

impl<R> Default for JobTracker<R> {
    fn default() -> Self {
        JobTracker {
            generation: 0,
            state: WorkerState::None,
            running: None,
            queue: VecDeque::new(),
            next_job: 1,
            module: WorkerModule::Cpu,
            wanted: WorkerModule::Cpu,
        }
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

    /// The module the current worker instance runs (or the last one ran).
    pub fn module(&self) -> WorkerModule {
        self.module
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
        self.module = self.wanted;
        Action::Spawn { generation: self.generation, module: self.module }
    }

    /// Queues a job that needs `module`; it is posted as soon as a worker with that module is
    /// ready and free (a worker with less is replaced first, once its running job is done).
    pub fn submit(&mut self, request: R, module: WorkerModule) -> (JobId, Vec<Action<R>>) {
        let job = self.next_job;
        self.next_job += 1;
        self.queue.push_back((job, request));
        self.wanted = self.wanted.max(module);
        let mut actions = self.warm_up();
        actions.extend(self.next());
        (job, actions)
    }

    /// The next jobs will need `module`: an idle worker with less is replaced now, so that a
    /// page which keeps input in its worker sees the new instance (its generation) before it
    /// decides what to send. A busy one is replaced when its job is done.
    pub fn require(&mut self, module: WorkerModule) -> Vec<Action<R>> {
        self.wanted = self.wanted.max(module);
        self.next()
    }

    fn next(&mut self) -> Vec<Action<R>> {
        if self.state == WorkerState::None || self.running.is_some() {
            return Vec::new();
        }
        if self.module < self.wanted {
            return self.restart();
        }
        if self.state != WorkerState::Ready {
            return Vec::new();
        }
        let Some((job, request)) = self.queue.pop_front() else { return Vec::new() };
        self.running = Some(job);
        vec![Action::Post { job, request }]
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
        if never_started {
            // A module that cannot load (offline before the GPU module was ever fetched, say)
            // is not asked for again by itself: the next job that needs it tries again.
            self.wanted = WorkerModule::Cpu;
        }
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
        let (a, actions) = t.submit("a", WorkerModule::Cpu);
        assert_eq!(actions, vec![Action::Spawn { generation: 1, module: WorkerModule::Cpu }]);
        let (b, actions) = t.submit("b", WorkerModule::Cpu);
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
        let (a, _) = t.submit("a", WorkerModule::Cpu);
        let (b, _) = t.submit("b", WorkerModule::Cpu);
        let (c, _) = t.submit("c", WorkerModule::Cpu);
        t.receive::<()>(1, FromWorker::Ready);
        assert!(t.cancel(c).is_empty(), "a queued job is just dropped");
        assert_eq!(t.cancel(a), vec![Action::Terminate, Action::Spawn { generation: 2, module: WorkerModule::Cpu }]);
        // The old worker's last messages are ignored.
        let (n, actions) = t.receive::<()>(1, FromWorker::Done { job: a });
        assert!(n.is_empty() && actions.is_empty());
        let (_, actions) = t.receive::<()>(1, FromWorker::Ready);
        assert!(actions.is_empty(), "a Ready from the terminated worker does not count");
        let (_, actions) = t.receive::<()>(2, FromWorker::Ready);
        assert_eq!(posted(&actions), vec![(b, "b")]);
        assert!(t.cancel(a).is_empty(), "cancelling a finished job does nothing");
        assert_eq!(t.cancel_all(), vec![Action::Terminate, Action::Spawn { generation: 3, module: WorkerModule::Cpu }]);
        assert!(t.is_idle());
    }

    #[test]
    fn a_crash_fails_the_running_job_and_a_fresh_worker_takes_the_queue() {
        let mut t = T::default();
        let (a, _) = t.submit("a", WorkerModule::Cpu);
        let (b, _) = t.submit("b", WorkerModule::Cpu);
        t.receive::<()>(1, FromWorker::Ready);
        let (n, actions) = t.receive::<()>(1, FromWorker::Crashed { message: "trap".into() });
        assert_eq!(n, vec![Notice::Failed { job: a, message: "trap".into(), crashed: true }]);
        assert_eq!(actions, vec![Action::Terminate, Action::Spawn { generation: 2, module: WorkerModule::Cpu }]);
        // worker.js reports the same trap a second time: the old instance is ignored.
        let (n, _) = t.receive::<()>(1, FromWorker::Crashed { message: "trap".into() });
        assert!(n.is_empty());
        let (_, actions) = t.receive::<()>(2, FromWorker::Ready);
        assert_eq!(posted(&actions), vec![(b, "b")]);
    }

    #[test]
    fn a_worker_that_cannot_start_fails_its_jobs_without_a_restart_loop() {
        let mut t = T::default();
        let (a, _) = t.submit("a", WorkerModule::Cpu);
        let (b, _) = t.submit("b", WorkerModule::Cpu);
        let (n, actions) = t.crashed_from::<()>(1, "no module".into());
        assert_eq!(n.iter().map(Notice::job).collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(actions, vec![Action::Terminate]);
        assert!(t.is_idle());
        assert!(t.crashed_from::<()>(1, "again".into()).0.is_empty(), "no worker, nothing to report");
        let (_, actions) = t.submit("c", WorkerModule::Cpu);
        assert_eq!(actions, vec![Action::Spawn { generation: 2, module: WorkerModule::Cpu }], "the next job tries again");
    }

    #[test]
    fn a_gpu_job_waits_for_the_running_one_then_gets_a_gpu_worker_which_stays() {
        use WorkerModule::{Cpu, Gpu};
        let mut t = T::default();
        let (a, _) = t.submit("a", Cpu);
        t.receive::<()>(1, FromWorker::Ready);
        assert_eq!(t.module(), Cpu);
        let (g, actions) = t.submit("g", Gpu);
        assert!(actions.is_empty(), "the running CPU job is not killed for it");
        let (_, actions) = t.receive::<()>(1, FromWorker::Done { job: a });
        assert_eq!(actions, vec![Action::Terminate, Action::Spawn { generation: 2, module: Gpu }]);
        let (_, actions) = t.receive::<()>(2, FromWorker::Ready);
        assert_eq!(posted(&actions), vec![(g, "g")]);
        t.receive::<()>(2, FromWorker::Done { job: g });
        // CPU jobs now run on the GPU worker; a cancel or a crash restarts with the GPU module.
        let (c, actions) = t.submit("c", Cpu);
        assert_eq!(posted(&actions), vec![(c, "c")]);
        assert_eq!(t.cancel(c), vec![Action::Terminate, Action::Spawn { generation: 3, module: Gpu }]);
    }

    #[test]
    fn require_replaces_an_idle_worker_at_once_and_a_busy_one_after_its_job() {
        use WorkerModule::{Cpu, Gpu};
        let mut t = T::default();
        assert!(t.require(Gpu).is_empty(), "no worker yet: the first spawn has the module");
        assert_eq!(t.warm_up(), vec![Action::Spawn { generation: 1, module: Gpu }]);
        let mut t = T::default();
        t.warm_up();
        t.receive::<()>(1, FromWorker::Ready);
        assert!(t.require(Cpu).is_empty());
        assert_eq!(t.require(Gpu), vec![Action::Terminate, Action::Spawn { generation: 2, module: Gpu }]);
        assert_eq!(t.generation(), 2, "a page holding input in the worker sees the new instance");
        let mut t = T::default();
        let (a, _) = t.submit("a", Cpu);
        t.receive::<()>(1, FromWorker::Ready);
        assert!(t.require(Gpu).is_empty(), "busy");
        let (_, actions) = t.receive::<()>(1, FromWorker::Done { job: a });
        assert_eq!(actions, vec![Action::Terminate, Action::Spawn { generation: 2, module: Gpu }]);
    }

    #[test]
    fn a_gpu_module_that_cannot_load_leaves_the_cpu_module_usable() {
        use WorkerModule::{Cpu, Gpu};
        let mut t = T::default();
        let (g, actions) = t.submit("g", Gpu);
        assert_eq!(actions, vec![Action::Spawn { generation: 1, module: Gpu }]);
        let (n, _) = t.crashed_from::<()>(1, "cannot load the WebGPU worker module: offline".into());
        assert_eq!(n.iter().map(Notice::job).collect::<Vec<_>>(), vec![g]);
        let (_, actions) = t.submit("c", Cpu);
        assert_eq!(actions, vec![Action::Spawn { generation: 2, module: Cpu }]);
    }

    #[test]
    fn the_crash_message_shape_matches_worker_js() {
        let v = serde_json::to_value(FromWorker::<()>::Crashed { message: "x".into() }).unwrap();
        assert_eq!(v, serde_json::json!({ "Crashed": { "message": "x" } }));
        let v = serde_json::to_value(FromWorker::<()>::Ready).unwrap();
        assert_eq!(v, serde_json::json!("Ready"));
    }
}
