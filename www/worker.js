// The lab's Web Worker: loads the same wasm module as the page and hands it each message,
// one at a time, in order. All the logic is in Rust (crates/web/src/worker.rs).
import init, { worker_handle } from './mpq-web.js';

const ready = init();
let queue = Promise.resolve();

self.onmessage = (event) => {
  const msg = event.data;
  queue = queue
    .then(() => ready)
    .then(() => worker_handle(msg))
    .catch((err) => {
      // A trap in wasm leaves the module unusable: say so, and let the page restart us.
      self.postMessage({ kind: 'error', job: msg && msg.job, fatal: true,
                         message: 'internal error: ' + (err && err.message ? err.message : String(err)) });
    });
};
