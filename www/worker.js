// A lab's Web Worker. The page first posts the compiled worker module ({ module }); this
// instantiates it (its main then posts Ready), and hands every later message to the module, one
// at a time and in order. The module is compiled once by the page and shared by every worker.
//
// A trap leaves the module unusable: it is reported as { Crashed: { message } } (the shape of
// mpq_web::bridge::FromWorker::Crashed, pinned by a test there) and the page starts a new worker.
import init, { worker_receive } from './mpq-worker.js';

let started = null;
let queue = Promise.resolve();

function crashed(err) {
  const message = 'internal error: ' + (err && err.message ? err.message : String(err));
  self.postMessage({ Crashed: { message } });
}

self.onmessage = (event) => {
  if (started === null) {
    started = init({ module_or_path: event.data.module });
    started.catch(crashed);
    return;
  }
  const msg = event.data;
  queue = queue.then(() => started).then(() => worker_receive(msg)).catch(crashed);
};
