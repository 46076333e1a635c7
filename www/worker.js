// A lab's Web Worker. The page first posts a compiled worker module and its wasm-bindgen glue
// ({ module, glue }: './mpq-worker.js' for the CPU module, './mpq-worker-gpu.js' for the one
// with WebGPU); this imports the glue, instantiates the module (its main then posts Ready), and
// hands every later message to the module, one at a time and in order. Each module is compiled
// once by the page and shared by every worker that runs it.
//
// A trap leaves the module unusable: it is reported as { Crashed: { message } } (the shape of
// mpq_web::bridge::FromWorker::Crashed, pinned by a test there) and the page starts a new worker.
const GLUES = ['./mpq-worker.js', './mpq-worker-gpu.js'];

let started = null;
let queue = Promise.resolve();

function crashed(err) {
  const message = 'internal error: ' + (err && err.message ? err.message : String(err));
  self.postMessage({ Crashed: { message } });
}

self.onmessage = (event) => {
  if (started === null) {
    const { module, glue } = event.data;
    // Only this build's own glue files are imported.
    const url = GLUES.includes(glue) ? glue : GLUES[0];
    started = import(url).then(async (m) => {
      await m.default({ module_or_path: module });
      return m.worker_receive;
    });
    started.catch(crashed);
    return;
  }
  const msg = event.data;
  queue = queue.then(() => started).then((receive) => receive(msg)).catch(crashed);
};
