// Offline use and updates (www/sw.js, www/pwa.js, scripts/pwa.mjs), on a copy of the built page
// served by its own server so that the test can deploy a new build under the same origin:
//   1. one visit online (the image lab), after which the service worker has saved the build;
//   2. the network cut (Playwright's offline): a reload works in every lab, with results, a
//      gallery item opened, an image sweep and a model-lab run;
//   3. a new build deployed (the wasm modules changed): the open page keeps running the old
//      build, offers the update, refuses a file of the new build it has not cached (no mix),
//      and after "Reload to update" runs only the new build's modules.
//
//   MPQ_URL=… node --test tests/e2e/offline.test.mjs   (MPQ_DIST: the built page, default dist/)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, execFileSync } from 'node:child_process';
import { ROOT, OUT, URL_, launch, ready, sideResult, markStale, unfoldPicker } from './lib.mjs';

const DIST = path.resolve(process.env.MPQ_DIST || path.join(ROOT, 'dist'));
let dir, server, url, context, page, consoleErrors;

function buildOf(d) {
  const sw = fs.readFileSync(path.join(d, 'sw.js'), 'utf8');
  return JSON.parse(/\/\*BUILD\*\/const BUILD = (.*?);\/\*END\*\//s.exec(sw)[1]);
}
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

/** A WebAssembly custom section (id 0) named `name`: valid anywhere after the header. */
function customSection(name, payload) {
  const leb = (n) => { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return Buffer.from(out); };
  const body = Buffer.concat([leb(name.length), Buffer.from(name), payload]);
  return Buffer.concat([Buffer.from([0]), leb(body.length), body]);
}

/** Deploys a new build into `dir`: the wasm modules changed, the page's SRI and sw.js redone. */
function deployNewBuild() {
  const mark = customSection('mpqlab-test-build', crypto.randomBytes(16));
  for (const f of ['mpq-ui_bg.wasm', 'mpq-worker_bg.wasm', 'mpq-worker-gpu_bg.wasm']) {
    fs.appendFileSync(path.join(dir, f), mark);
  }
  const ui = fs.readFileSync(path.join(dir, 'mpq-ui_bg.wasm'));
  const sri = 'sha384-' + crypto.createHash('sha384').update(ui).digest('base64');
  const index = path.join(dir, 'index.html');
  fs.writeFileSync(index, fs.readFileSync(index, 'utf8').replace(/(href="\/mpq-ui_bg\.wasm"[^>]*integrity=")[^"]*"/, `$1${sri}"`));
  execFileSync('node', [path.join(ROOT, 'scripts/pwa.mjs'), dir], { stdio: 'inherit' });
  // The server would send the old precompressed copies: the changed files go uncompressed.
  for (const f of ['mpq-ui_bg.wasm', 'mpq-worker_bg.wasm', 'mpq-worker-gpu_bg.wasm', 'index.html', 'sw.js', 'build.json']) {
    for (const ext of ['.br', '.gz']) fs.rmSync(path.join(dir, f + ext), { force: true });
  }
}

before(async () => {
  assert.ok(URL_, 'MPQ_URL must be set (the other tests\' server); this test serves its own copy of MPQ_DIST');
  assert.ok(fs.existsSync(path.join(DIST, 'sw.js')), `${DIST} has no sw.js: build the page first (scripts/build-web.sh)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpq-offline-'));
  fs.cpSync(DIST, dir, { recursive: true });
  server = spawn('node', [path.join(ROOT, 'tests/e2e/serve.mjs'), dir, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise((resolve, reject) => {
    server.stdout.on('data', (d) => { const m = /http:\/\/\S+/.exec(String(d)); if (m) resolve(m[0]); });
    server.on('exit', (c) => reject(new Error(`the server exited (${c})`)));
  });
  ({ context, page, consoleErrors } = await launch({ webgpu: false, viewport: { width: 1280, height: 720 } }));
});

after(async () => {
  await context?.close();
  server?.kill();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Navigates to `hash` with a real load (not a same-document fragment change). */
async function load(hash) {
  await page.goto(url + hash);
  await page.reload();
}

async function offlineSaved() {
  await page.waitForFunction(() => document.querySelector('[data-testid=offline-status]')?.dataset.state === 'done', null, { timeout: 240_000 });
  return page.evaluate(() => document.documentElement.dataset.build);
}

test('a page loaded once works offline in every lab, and a new build replaces it whole', { timeout: 1_500_000 }, async (t) => {
  const first = buildOf(dir);

  await t.test('one visit online saves the build', async () => {
    await page.goto(url + '#/image');
    await ready(page);
    await sideResult(page, 0);
    await sideResult(page, 1);
    assert.equal(await offlineSaved(), first.id);
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const keys = await (await caches.open(names[0])).keys();
      return { names, n: keys.length, gpu: keys.some((r) => /\/mpq-worker-gpu(_bg\.wasm|\.js)$/.test(r.url)) };
    });
    assert.deepEqual(cached.names, [`mpqlab-${first.id}`]);
    // All but the WebGPU worker module and its glue, which are saved only once a job has used them.
    assert.deepEqual([...first.onUse].sort(), ['mpq-worker-gpu.js', 'mpq-worker-gpu_bg.wasm']);
    assert.equal(cached.n, Object.keys(first.files).length - 2, 'every file of the build but the WebGPU module is cached');
    assert.equal(cached.gpu, false, 'the WebGPU worker module is not fetched for offline use');
    const manifest = await page.evaluate(async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json());
    assert.equal(manifest.display, 'standalone');
    console.log(`build ${first.id}: ${cached.n} files saved for offline use`);
  });

  await t.test('offline, each lab reloads and works', async () => {
    await context.setOffline(true);
    assert.equal(await page.evaluate(() => navigator.onLine), false);

    const outside = [];
    const onResponse = (r) => { if (r.url().startsWith(url) && !r.fromServiceWorker()) outside.push(r.url()); };
    page.on('response', onResponse);
    await load('#/image');
    await ready(page);
    await sideResult(page, 0);
    const right = await sideResult(page, 1);
    assert.ok(right.bytes > 0 && right.psnr > 20, JSON.stringify(right));
    await markStale(page, 0); await markStale(page, 1);
    // At 1280×720 the gallery starts folded: open it as a user would.
    await unfoldPicker(page, '[data-testid=gallery-coffee]');
    await page.click('[data-testid=gallery-coffee]');
    await page.waitForFunction(() => document.querySelector('[data-testid=source-info]').textContent.startsWith('coffee.png'));
    await sideResult(page, 0);
    for (const id of ['jpeg', 'avif', 'webp-ll-down', 'browser-jpeg', 'browser-webp']) {
      const box = page.locator(`[data-testid=sweep-use-${id}]`);
      if ((await box.isChecked()) !== (id === 'jpeg')) await box.click();
    }
    await page.locator('[data-testid=sweep-spec-jpeg]').fill('jpeg:quality=20,80');
    await page.locator('[data-testid=sweep-items]').fill('100');
    await page.click('[data-testid=sweep-run]');
    await page.waitForFunction(() => ['done', 'stopped'].includes(document.querySelector('[data-testid=sweep-status]').dataset.state), null, { timeout: 240_000 });
    assert.equal(await page.getAttribute('[data-testid=sweep-status]', 'data-state'), 'done', await page.textContent('[data-testid=sweep-status]'));
    page.off('response', onResponse);
    assert.deepEqual(outside, [], 'offline, everything the page loads comes from the service worker');
    console.log(`offline image lab: coffee.png opened, sweep: ${await page.textContent('[data-testid=sweep-status]')}`);
    await page.screenshot({ path: path.join(OUT, '60-offline-image.png') });

    await load('#/audio');
    await ready(page);
    await page.waitForFunction(() => document.querySelector('[data-testid=au-stage-1]')?.dataset.state === 'done'
      && document.querySelector('[data-testid=au-metrics-1] [data-metric=bytes]'), null, { timeout: 180_000 });
    await unfoldPicker(page, '[data-testid=au-gallery-codec2-speech-16k]');
    await page.click('[data-testid=au-gallery-codec2-speech-16k]');
    await page.waitForFunction(() => document.querySelector('[data-testid=au-source]').textContent.startsWith('codec2-speech-16k.wav'), null, { timeout: 60_000 });
    console.log(`offline audio lab: ${await page.textContent('[data-testid=au-source]')}`);

    await load('#/text');
    await ready(page);
    await page.waitForFunction(() => document.querySelector('[data-testid=tx-stage-0]')?.dataset.state === 'done'
      && document.querySelector('[data-testid=tx-metrics-0] [data-metric=bytes]'), null, { timeout: 300_000 });
    await unfoldPicker(page, '[data-testid=tx-gallery-heldout-sample]');
    await page.click('[data-testid=tx-gallery-heldout-sample]');
    await page.waitForFunction(() => document.querySelector('[data-testid=tx-source]')?.textContent.includes('heldout-sample'), null, { timeout: 60_000 });
    console.log(`offline text lab: ${await page.textContent('[data-testid=tx-source]')}`);

    await load('#/model');
    await page.waitForSelector('[data-ready="1"]');
    await page.selectOption('[data-testid=lab-backend]', 'cpu');
    await page.locator('[data-testid=lab-items]').fill('100');
    await page.locator('[data-testid=lab-search]').uncheck();
    await page.click('[data-testid=lab-run]');
    await page.waitForFunction(() => ['done', 'stopped'].includes(document.querySelector('[data-testid=lab-status]').dataset.state), null, { timeout: 300_000 });
    assert.equal(await page.getAttribute('[data-testid=lab-status]', 'data-state'), 'done', await page.textContent('[data-testid=lab-status]'));
    console.log(`offline model lab: ${await page.textContent('[data-testid=lab-status]')}`);
    await context.setOffline(false);
  });

  await t.test('a new build: offered, no mix of modules, then only the new one runs', async () => {
    await load('#/image');
    await ready(page);
    deployNewBuild();
    const second = buildOf(dir);
    assert.notEqual(second.id, first.id);
    assert.notEqual(second.files['mpq-worker_bg.wasm'], first.files['mpq-worker_bg.wasm']);
    // The browser looks for a new sw.js on navigation; the page also looks when it is shown.
    await page.reload();
    await page.waitForSelector('[data-testid=update]:not([hidden])', { timeout: 120_000 });
    assert.equal(await page.evaluate(() => document.documentElement.dataset.build), first.id, 'the old build still runs until the update');
    await sideResult(page, 1);
    // A file of the old build that is not cached any more: the network has the new build's
    // bytes, which the old service worker refuses rather than mix them in.
    const refused = await page.evaluate(async (id) => {
      const cache = await caches.open(`mpqlab-${id}`);
      await cache.delete(new URL('datasets/fashion_test_1000.bin', location.href).href);
      const r = await fetch('datasets/fashion_test_1000.bin');
      return { status: r.status, text: await r.text() };
    }, first.id);
    // datasets/ did not change, so that one is served (and cached again) from the network…
    assert.equal(refused.status, 200);
    const mixed = await page.evaluate(async (id) => {
      const cache = await caches.open(`mpqlab-${id}`);
      await cache.delete(new URL('mpq-worker_bg.wasm', location.href).href);
      const r = await fetch('mpq-worker_bg.wasm');
      return { status: r.status, text: r.status === 503 ? await r.text() : '' };
    }, first.id);
    // …but the worker module did: refused, with the reason.
    assert.equal(mixed.status, 503);
    assert.match(mixed.text, /reload the page/);
    await page.screenshot({ path: path.join(OUT, '61-update-offered.png') });

    // Each module the reloaded page loads: from the service worker, and (where the inspector
    // keeps the body: not the 28 MB worker module) with the new build's bytes.
    const modules = new Map();
    page.on('response', async (r) => {
      const p = new URL(r.url()).pathname.slice(1);
      if (!['mpq-ui_bg.wasm', 'mpq-worker_bg.wasm', 'mpq-ui.js', 'mpq-worker.js', 'worker.js'].includes(p)) return;
      const seen = { status: r.status(), fromServiceWorker: r.fromServiceWorker(), sha: null };
      modules.set(p, seen);
      try { seen.sha = sha256(await r.body()); } catch { /* evicted from the inspector's cache */ }
    });
    await Promise.all([page.waitForEvent('load', { timeout: 120_000 }), page.click('[data-testid=update-reload]')]);
    await ready(page);
    await sideResult(page, 0);
    await sideResult(page, 1);
    await page.waitForFunction((id) => document.documentElement.dataset.build === id, second.id, { timeout: 60_000 });
    assert.deepEqual(await page.evaluate(() => caches.keys()), [`mpqlab-${second.id}`], 'the old build\'s cache is gone');
    assert.ok(modules.has('mpq-ui_bg.wasm') && modules.has('mpq-worker_bg.wasm'), `modules seen: ${[...modules.keys()]}`);
    for (const [p, m] of modules) {
      assert.equal(m.status, 200, p);
      assert.ok(m.fromServiceWorker, `${p} came from the service worker, which serves only the build it checked`);
      if (m.sha) assert.equal(m.sha, second.files[p], `${p} is the new build's`);
    }
    // What the service worker now serves is the new build's, file by file.
    const served = await page.evaluate(async (paths) => {
      const out = {};
      for (const p of paths) {
        const d = new Uint8Array(await crypto.subtle.digest('SHA-256', await (await fetch(p)).arrayBuffer()));
        out[p] = Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
      }
      return out;
    }, ['mpq-ui_bg.wasm', 'mpq-worker_bg.wasm', 'index.html', 'build.json']);
    for (const [p, h] of Object.entries(served)) assert.equal(h, second.files[p], `${p} served after the update`);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'build.json'))).build, second.id);
    console.log(`update ${first.id} → ${second.id}: offered, then ${[...modules].map(([p, m]) => `${p} (${m.sha ? 'bytes checked' : 'from the service worker'})`).join(', ')} loaded from the new build`);
  });

  await t.test('no console errors but the refused file', () => {
    console.log(`console errors: ${consoleErrors.length ? consoleErrors.join(' | ') : 'none'}`);
    // The one expected: the refused worker module of the other build (503).
    const unexpected = consoleErrors.filter((e) => !/the server responded with a status of 503/.test(e));
    assert.deepEqual(unexpected, []);
  });
});
