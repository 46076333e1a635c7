//! The worker module trunk builds (feature `worker`): every lab's worker side. The page compiles
//! it once and posts it to each worker (www/worker.js), which instantiates it; `main` then runs
//! and tells the page the worker is ready.

fn main() {
    #[cfg(target_arch = "wasm32")]
    mpq_web::worker_main::boot();
}
