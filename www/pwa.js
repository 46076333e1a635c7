// The page's side of offline use (www/sw.js): registers the service worker once the page's own
// loading is over (so the first visit's first screen does not share the network with it), asks
// it to save the whole build for offline use, shows how far that got, and offers a new build
// when one is deployed. Plain JavaScript at the platform's edge: the UI module does not need to
// know about any of it.
const status = document.getElementById('offline-status');
const notice = document.getElementById('update');
const root = document.documentElement;

// A short badge (the header must not reflow while it changes); the details in its title.
function show(text, state, title = text) {
  if (!status) return;
  status.textContent = text;
  status.title = title;
  status.dataset.state = state;
}

function offerUpdate() {
  if (!notice) return;
  notice.hidden = false;
  root.dataset.update = 'available';
}

async function main() {
  if (!('serviceWorker' in navigator)) {
    show('', 'unsupported');
    return;
  }
  const sw = navigator.serviceWorker;
  let registration = null;
  // A page that had a controller when it loaded reloads when a new build takes over (the
  // experiment is in the link); the first install's `claim` changes the controller too, and
  // that page keeps running.
  let reloadOnChange = Boolean(sw.controller);
  sw.addEventListener('controllerchange', () => {
    if (reloadOnChange) {
      root.dataset.update = 'reloading';
      location.reload();
    } else {
      reloadOnChange = true;
      ask();
    }
  });
  sw.addEventListener('message', (event) => {
    const msg = event.data || {};
    if (msg.type === 'build') {
      root.dataset.build = msg.id;
      if (msg.done === msg.total) show('offline ✓', 'done', 'Saved: this page works offline, in every lab.');
    } else if (msg.type === 'fill') {
      if (msg.state === 'done') show('offline ✓', 'done', 'Saved: this page works offline, in every lab.');
      else if (msg.state === 'running') show(`offline ${Math.floor((100 * msg.done) / msg.total)} %`, 'running', 'Saving this page for offline use…');
      else show('offline ✗', msg.state, `Not saved for offline use: ${msg.error || msg.state}`);
    } else if (msg.type === 'stale') {
      registration?.update().catch(() => {});
    }
  });

  // Not while the first screen loads: after the worker module is ready and a side shows its
  // first result (or 20 s, if that never comes), and a moment without new downloads. Then the
  // service worker's install fetches the shell again (revalidations, mostly), and `fill` the rest
  // of the build, so a classroom's slow Wi-Fi serves the first comparison first.
  await until(() => {
    const worker = document.querySelector('[data-testid=worker-status]');
    return worker && ['ready', 'error'].includes(worker.dataset.state);
  }, 20_000);
  await until(() => document.querySelector('[data-testid$="stage-0"][data-state=done], [data-testid$="stage-1"][data-state=done], [data-testid=lab-status]'), 20_000);
  await quiet(1500, 10_000);
  try {
    registration = await sw.register('sw.js', { scope: './' });
  } catch (e) {
    show('offline ✗', 'error', `Offline use is unavailable here: ${e.message || e}`);
    console.warn('mpqlab: no service worker:', e);
    return;
  }
  const watch = (w) => {
    if (!w) return;
    w.addEventListener('statechange', () => { if (w.state === 'installed' && sw.controller) offerUpdate(); });
  };
  if (registration.waiting && sw.controller) offerUpdate();
  watch(registration.installing);
  registration.addEventListener('updatefound', () => watch(registration.installing));
  document.getElementById('update-reload')?.addEventListener('click', () => {
    reloadOnChange = true;
    if (registration.waiting) registration.waiting.postMessage({ type: 'skip-waiting' });
    else location.reload();
  });
  // New builds are looked for on every load (the browser does that) and when the page comes
  // back into view or has been open for a while.
  document.addEventListener('visibilitychange', () => { if (!document.hidden) registration.update().catch(() => {}); });
  setInterval(() => registration.update().catch(() => {}), 15 * 60_000);

  function ask() {
    if (!sw.controller) return;
    sw.controller.postMessage({ type: 'build' });
    sw.controller.postMessage({ type: 'fill' });
  }
  await sw.ready;
  if (sw.controller) ask();
}

/** Resolves when `ok()` holds (checked on every DOM change), or after `ms`. */
function until(ok, ms) {
  return new Promise((resolve) => {
    if (ok()) return resolve();
    const observer = new MutationObserver(() => { if (ok()) { observer.disconnect(); resolve(); } });
    observer.observe(document.body, { subtree: true, attributes: true, childList: true, attributeFilter: ['data-state'] });
    setTimeout(() => { observer.disconnect(); resolve(); }, ms);
  });
}

/** Resolves once the page has fetched nothing new for `ms` (or after `max`). */
function quiet(ms, max) {
  return new Promise((resolve) => {
    let timer = setTimeout(done, ms);
    const observer = new PerformanceObserver(() => { clearTimeout(timer); timer = setTimeout(done, ms); });
    observer.observe({ type: 'resource' });
    const cap = setTimeout(done, max);
    function done() { observer.disconnect(); clearTimeout(timer); clearTimeout(cap); resolve(); }
  });
}

main();
