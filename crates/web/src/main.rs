//! The wasm entry Trunk builds. On the page it starts the UI; inside the worker it does
//! nothing at start (www/worker.js calls `worker_handle` for each message).

fn main() {
    mpq_web::start();
}
