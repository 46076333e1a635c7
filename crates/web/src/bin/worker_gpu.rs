//! The WebGPU worker module (feature `gpu`): the worker module plus burn's WebGPU backend and
//! our kernels on wgpu. The page fetches it only when a job needs WebGPU; its workers take every
//! lab's jobs, as `mpq-worker`'s do.

fn main() {
    #[cfg(target_arch = "wasm32")]
    mpq_web::worker_main::boot();
}
