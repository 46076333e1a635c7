// mpqlab's service worker: the page offline, one build at a time.
//
// scripts/pwa.mjs writes BUILD below at build time: the build's id and the SHA-256 of every file
// the page may load. A new build therefore has a new sw.js, which is how the browser sees an
// update. Each build has its own cache (`mpqlab-<id>`):
//   * install: the shell (page, UI module, scripts, styles, icons) is fetched and precached;
//   * the rest (the worker module, gallery, test sets) is cached when first used, and `fill`
//     (posted by www/pwa.js once the page has drawn its first results) saves all of it in the
//     background, so that a page loaded once works offline in every lab — all but the WebGPU
//     worker module (BUILD.onUse), which is saved only when a user's job has needed WebGPU;
//   * every file is checked against its hash before it is served or cached. Trunk writes stable
//     file names (Trunk.toml), so after a new build is deployed the old names hold new bytes:
//     a file fetched for this build that does not match is refused (503, and the page is told to
//     offer the update) instead of mixing an old UI module with a new worker module;
//   * the new build waits until the page's "update" button says `skip-waiting`; on activation
//     the other builds' caches are deleted, and pages reload (www/pwa.js), the experiment being
//     in the link.
/*BUILD*/const BUILD = { id: 'unbuilt', shell: [], onUse: [], files: {} };/*END*/

const CACHE = `mpqlab-${BUILD.id}`;
const SCOPE = new URL(self.registration.scope);

/** The path of a URL inside this scope ('' → index.html), or null when it is not ours. */
function ownPath(url) {
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return null;
  const rel = decodeURIComponent(url.pathname.slice(SCOPE.pathname.length));
  const path = rel === '' ? 'index.html' : rel;
  return Object.hasOwn(BUILD.files, path) ? path : null;
}

const key = (path) => new URL(path, SCOPE).href;

async function sha256(buf) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

class Stale extends Error {}

/** Fetches `path` from the network and returns it only when it is this build's file. */
async function fetchVerified(path) {
  const r = await fetch(key(path), { cache: 'no-cache' });
  if (!r.ok) throw new Error(`HTTP ${r.status} for ${path}`);
  const body = await r.arrayBuffer();
  if ((await sha256(body)) !== BUILD.files[path]) throw new Stale(`${path} is not build ${BUILD.id}'s`);
  // The body is decoded already: keep only its type, not the network's encoding and length.
  const type = r.headers.get('content-type');
  return new Response(body, { headers: type ? { 'content-type': type } : {} });
}

async function notify(message) {
  for (const c of await self.clients.matchAll({ includeUncontrolled: true })) c.postMessage(message);
}

/** A single `bytes=a-b` range of a cached file (media elements ask for them). */
async function ranged(response, header) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const body = await response.arrayBuffer();
  if (!m || (m[1] === '' && m[2] === '')) return new Response(body, { headers: response.headers });
  const n = body.byteLength;
  let start = m[1] === '' ? Math.max(0, n - Number(m[2])) : Number(m[1]);
  let end = m[1] !== '' && m[2] !== '' ? Math.min(n - 1, Number(m[2])) : n - 1;
  if (start >= n || start > end) return new Response(null, { status: 416, headers: { 'content-range': `bytes */${n}` } });
  const headers = new Headers(response.headers);
  headers.set('content-range', `bytes ${start}-${end}/${n}`);
  headers.set('content-length', String(end - start + 1));
  return new Response(body.slice(start, end + 1), { status: 206, headers });
}

async function serve(path, request) {
  const cache = await caches.open(CACHE);
  let response = await cache.match(key(path));
  if (!response) {
    try {
      response = await fetchVerified(path);
    } catch (e) {
      if (e instanceof Stale) {
        notify({ type: 'stale', path });
        return new Response(`mpqlab was updated while this page was open, and ${path} now belongs to the new version: reload the page to use it.`,
          { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      }
      throw e; // offline and not cached: the page shows the network error
    }
    await cache.put(key(path), response.clone());
  }
  const range = request.headers.get('range');
  return range ? ranged(response, range) : response;
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    for (const path of BUILD.shell) await cache.put(key(path), await fetchVerified(path));
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('mpqlab-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const path = ownPath(new URL(request.url));
  if (path !== null) event.respondWith(serve(path, request));
});

/** What of this build is cached: { done, total, missing }, over the files `fill` saves (all but
 *  those saved only when used: the WebGPU worker module). */
async function saved() {
  const cache = await caches.open(CACHE);
  const cached = new Set((await cache.keys()).map((r) => r.url));
  const paths = Object.keys(BUILD.files).filter((p) => !BUILD.onUse.includes(p));
  const missing = paths.filter((p) => !cached.has(key(p)));
  return { done: paths.length - missing.length, total: paths.length, missing };
}

let filling = null;

/** Saves every file of this build that is not cached yet, telling the pages how far it got. */
function fill() {
  filling ??= (async () => {
    const cache = await caches.open(CACHE);
    const { missing, total } = await saved();
    let done = total - missing.length;
    for (const path of missing) {
      try {
        if (!(await cache.match(key(path)))) await cache.put(key(path), await fetchVerified(path));
      } catch (e) {
        notify({ type: 'fill', state: e instanceof Stale ? 'stale' : 'failed', done, total, error: String(e.message || e) });
        if (e instanceof Stale) notify({ type: 'stale', path });
        return;
      }
      done += 1;
      notify({ type: 'fill', state: done === total ? 'done' : 'running', done, total });
    }
    notify({ type: 'fill', state: 'done', done, total });
  })().finally(() => { filling = null; });
  return filling;
}

self.addEventListener('message', (event) => {
  const msg = event.data || {};
  if (msg.type === 'skip-waiting') self.skipWaiting();
  else if (msg.type === 'fill') event.waitUntil(fill());
  else if (msg.type === 'build') {
    event.waitUntil(saved().then(({ done, total }) => event.source.postMessage({ type: 'build', id: BUILD.id, done, total })));
  }
});
