// End-to-end test of machine perception in the page: a data-set item judged by the burn model
// on both sides, the "prediction changed" flag at JPEG q=1, a sweep whose points equal
// `mpqlab sweep`, the full default sweep timed, and CPU ↔ WebGPU (Chromium's WebGPU over
// SwiftShader with --enable-unsafe-webgpu) giving the same predictions — the WebGPU worker
// module fetched only then, once.
//
//   MPQ_URL=http://127.0.0.1:PORT/ MPQLAB_BIN=target/debug/mpqlab node --test tests/e2e/machine_lab.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OUT, URL_, launch, cli } from './lib.mjs';

// Fashion-MNIST test item whose prediction JPEG q=1 changes (Shirt → T-shirt/top; found with
// `cargo run -p mpq-cli --example flip_items`; the
// pipeline is deterministic, so this stays true until the model or codec changes).
const FLIP_ITEM = Number(process.env.MPQ_FLIP_ITEM || 4);
// Probabilities from burn's CPU and WebGPU backends agree to this (f32 arithmetic in a
// different order: observed differences are ~1e-6).
const BACKEND_TOLERANCE = 1e-3;

let context, page, consoleErrors;
// Requests for the WebGPU worker module (the page's and its workers'; the service worker's own
// fetch when it is asked for a file it has not saved is one more): none until a job needs it.
const gpuModuleRequests = [];
const gpuModuleFromServiceWorker = [];

before(async () => {
  ({ context, page, consoleErrors } = await launch({ webgpu: true }));
  context.on('request', (r) => {
    if (r.url().includes('mpq-worker-gpu')) (r.serviceWorker() ? gpuModuleFromServiceWorker : gpuModuleRequests).push(r.url());
  });
});

after(async () => {
  await context?.close();
});

async function markStale(i) {
  await page.evaluate((i) => { document.querySelector(`[data-testid=stage-${i}]`).dataset.state = 'stale'; }, i);
}

/** Waits for side i's next finished result with a model verdict; returns the verdict's numbers. */
async function verdict(i, timeout = 120_000) {
  await page.waitForFunction((i) => {
    const s = document.querySelector(`[data-testid=stage-${i}]`);
    return s && s.dataset.state === 'done' && document.querySelector(`[data-testid=perception-${i}] .timing, [data-testid=perception-${i}] .perception-error`);
  }, i, { timeout });
  return page.evaluate((i) => {
    const root = document.querySelector(`[data-testid=perception-${i}]`);
    const err = root.querySelector('.perception-error');
    if (err) return { error: err.textContent };
    const flag = root.querySelector(`[data-testid=flag-${i}]`);
    const metric = (k) => { const d = root.querySelector(`[data-metric=${k}]`); return d ? JSON.parse(d.dataset.value) : null; };
    return {
      changed: flag ? flag.dataset.changed === 'true' : null,
      flag: flag ? flag.textContent : null,
      bars: [...root.querySelectorAll('.bars li')].map((li) => ({ cls: li.dataset.class, p: Number(li.dataset.p) })),
      kl: metric('kl'), feature: metric('feature_distance'),
      ms: Number(root.querySelector('.timing').dataset.ms),
    };
  }, i);
}

async function setQuality(i, q) {
  await page.locator(`[data-testid=param-${i}-quality-number]`).fill(String(q));
}

/** Ticks exactly the given codecs in the sweep panel, with the given specs. */
async function chooseSweep(specs) {
  for (const id of ['jpeg', 'avif', 'webp-ll-down', 'browser-jpeg', 'browser-webp']) {
    const box = page.locator(`[data-testid=sweep-use-${id}]`);
    const want = id in specs;
    if ((await box.isChecked()) !== want) await box.click();
    if (want && specs[id]) await page.locator(`[data-testid=sweep-spec-${id}]`).fill(specs[id]);
  }
}

async function runSweep(items, timeout) {
  await page.locator('[data-testid=sweep-items]').fill(String(items));
  const t0 = Date.now();
  await page.click('[data-testid=sweep-run]');
  await page.waitForFunction(() => document.querySelector('[data-testid=sweep-status]').dataset.state === 'done'
    || document.querySelector('[data-testid=sweep-status]').dataset.state === 'stopped', null, { timeout, polling: 500 });
  const state = await page.getAttribute('[data-testid=sweep-status]', 'data-state');
  assert.equal(state, 'done', await page.textContent('[data-testid=sweep-status]'));
  const seconds = (Date.now() - t0) / 1000;
  const json = JSON.parse(await page.getAttribute('[data-testid=sweep-status]', 'data-json'));
  const elapsedMs = Number(await page.getAttribute('[data-testid=sweep-status]', 'data-elapsed-ms'));
  return { json, seconds, elapsedMs };
}

function key(p) { return `${p.codec} ${p.param}=${p.value}`; }

test('machine perception: verdicts, flag, sweeps equal to the CLI, CPU ↔ WebGPU', { timeout: 1_200_000 }, async (t) => {
  await t.test('a Fashion-MNIST item is judged by the model on both sides', async () => {
    await page.goto(URL_);
    await page.waitForSelector(`[data-testid=item-fashion-mnist-${FLIP_ITEM}]`);
    await markStale(0); await markStale(1);
    await page.click(`[data-testid=item-fashion-mnist-${FLIP_ITEM}]`);
    await page.waitForFunction(() => document.querySelector('[data-testid=source-info]').textContent.includes('true class'));
    assert.equal(await page.inputValue('[data-testid=model]'), 'fashion-cnn');
    const v = await verdict(1);
    assert.equal(v.error, undefined, v.error);
    assert.equal(v.bars.length, 5);
    const sum = v.bars.reduce((a, b) => a + b.p, 0);
    assert.ok(sum > 0.5 && sum <= 1.0001, `top-5 probabilities sum to ${sum}`);
    assert.ok(v.kl >= 0 && v.feature >= 0);
    console.log(`item ${FLIP_ITEM}, right side (AVIF default): ${v.flag.trim()} — inference ${v.ms.toFixed(1)} ms for 2 items on the CPU`);
  });

  await t.test('JPEG q=1 on the left flips the prediction and the page flags it', async () => {
    await page.selectOption('[data-testid=codec-0]', 'jpeg');
    await markStale(0);
    await setQuality(0, 1);
    const v = await verdict(0);
    console.log(`JPEG q=1: ${v.flag.trim()}; KL ${v.kl.toFixed(3)}, feature distance ${v.feature.toFixed(4)}`);
    assert.equal(v.changed, true, `expected the prediction to change: ${v.flag}`);
    assert.ok(v.kl > 0.05, `KL ${v.kl}`);
    await page.screenshot({ path: path.join(OUT, '10-fashion-item-jpeg-q1.png'), fullPage: false });
  });

  await t.test('a photo gets the feature distance only, with the reason', async () => {
    await markStale(0);
    await page.click('[data-testid=gallery-camera], [data-testid=gallery-chelsea]');
    await page.waitForFunction(() => !document.querySelector('[data-testid=source-info]').textContent.includes('true class'));
    const v = await verdict(0);
    assert.equal(v.error, undefined, v.error);
    assert.equal(v.bars.length, 0);
    assert.ok(v.feature > 0, `feature distance ${v.feature}`);
    const why = await page.textContent('[data-testid=perception-0] .why');
    assert.match(why, /labels would mean nothing/);
  });

  await t.test('a running sweep can be cancelled, and the next one runs', async () => {
    await chooseSweep({ jpeg: 'jpeg:quality=1..95:8' });
    await page.locator('[data-testid=sweep-items]').fill('1000');
    await page.click('[data-testid=sweep-run]');
    await page.waitForFunction(() => /item runs/.test(document.querySelector('[data-testid=sweep-status]').textContent),
      null, { timeout: 120_000 });
    await page.click('[data-testid=sweep-cancel]');
    await page.waitForFunction(() => document.querySelector('[data-testid=sweep-status]').dataset.state === 'stopped');
    assert.match(await page.textContent('[data-testid=sweep-status]'), /cancelled/);
    assert.equal(await page.isDisabled('[data-testid=sweep-run]'), false);
  });

  await t.test('a bad range gets a clear error and stops the sweep', async () => {
    await chooseSweep({ jpeg: 'jpeg:quality=1..abc:8' });
    await page.click('[data-testid=sweep-run]');
    await page.waitForFunction(() => document.querySelector('[data-testid=sweep-status]').dataset.state === 'stopped',
      null, { timeout: 60_000 });
    const status = await page.textContent('[data-testid=sweep-status]');
    assert.match(status, /abc/, status);
    assert.match(await page.textContent('#error-text'), /^Sweep: .*abc/);
    assert.equal(await page.isDisabled('[data-testid=sweep-run]'), false);
    await page.click('#error-close');
  });

  await t.test('a short sweep: points plotted, table equal to mpqlab sweep', async () => {
    await page.click(`[data-testid=item-fashion-mnist-${FLIP_ITEM}]`);
    await chooseSweep({ jpeg: 'jpeg:quality=1..95:8', 'webp-ll-down': 'webp-ll-down:scale=10..100:8' });
    const { json, seconds } = await runSweep(200, 300_000);
    assert.equal(json.points.length, 16);
    assert.equal(json.items, 200);
    // The plot shows every point: one marker per point in each of the two panels.
    const markers = await page.locator('[data-testid=sweep-plot] svg circle').count();
    assert.ok(markers >= 16, `${markers} markers`);
    const rows = await page.locator('[data-testid=sweep-table] tbody tr').count();
    assert.equal(rows, 16);
    const cliOut = JSON.parse(cli('sweep', '--model', 'fashion-cnn', '--items', '200',
      '--codec', 'jpeg:quality=1..95:8', '--codec', 'webp-ll-down:scale=10..100:8'));
    assert.equal(cliOut.points.length, json.points.length);
    for (const [a, b] of json.points.map((p, i) => [p, cliOut.points[i]])) {
      assert.equal(key(a), key(b));
      for (const f of ['bytes', 'bits_per_pixel', 'accuracy', 'reference_accuracy', 'top1_agreement', 'top5_agreement']) {
        assert.equal(a[f], b[f], `${key(a)} ${f}: page ${a[f]} vs CLI ${b[f]}`);
      }
      // PSNR is the codec's alone: exact. KL and feature distance come from the model's f32
      // outputs, which the native build computes with other SIMD kernels (AVX vs simd128):
      // equal to ~1e-7 relative, so compared to 1e-5.
      for (const [f, tol] of [['psnr_db', 1e-12], ['mean_kl', 1e-5], ['mean_feature_distance', 1e-5]]) {
        if (a[f] === null || b[f] === null) { assert.equal(a[f], b[f]); continue; }
        assert.ok(Math.abs(a[f] - b[f]) <= tol * Math.max(1, Math.abs(b[f])), `${key(a)} ${f}: page ${a[f]} vs CLI ${b[f]}`);
      }
    }
    // Exports: CSV with a header and a row per point, SVG that is an SVG.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=sweep-csv]')]);
    const csvText = fs.readFileSync(await csv.path(), 'utf8').trim().split('\n');
    assert.equal(csvText.length, 17);
    const [svg] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=sweep-svg]')]);
    assert.match(fs.readFileSync(await svg.path(), 'utf8'), /^<svg|^<\?xml/);
    console.log(`short sweep (16 points × 200 items): ${seconds.toFixed(1)} s in the page`);
  });

  await t.test('the default sweep (5 codecs × 8 points × 1000 items) in the page', async () => {
    await chooseSweep({ jpeg: 'jpeg:quality=1..95:8', avif: 'avif:quality=1..90:8,speed=10',
      'webp-ll-down': 'webp-ll-down:scale=10..100:8', 'browser-jpeg': 'browser-jpeg:quality=1..95:8',
      'browser-webp': 'browser-webp:quality=1..95:8' });
    const { json, seconds, elapsedMs } = await runSweep(1000, 600_000);
    assert.equal(json.points.length, 40);
    const workers = await page.getAttribute('[data-testid=sweep-status]', 'data-workers');
    console.log(`default sweep: 40 points × 1000 items in ${(elapsedMs / 1000).toFixed(1)} s in the page on ${workers} workers (${seconds.toFixed(1)} s wall)`);
    fs.writeFileSync(path.join(OUT, 'sweep-page-1000.json'), JSON.stringify(json, null, 1));
    await page.locator('[data-testid=sweep-plot]').screenshot({ path: path.join(OUT, '11-sweep-plot.png') });
    // Our codecs' points equal the CLI's (AVIF: the page decodes with the browser, so only
    // its bytes are compared exactly).
    const cliOut = JSON.parse(cli('sweep', '--model', 'fashion-cnn', '--items', '1000', '--codec', 'jpeg:quality=1..95:8',
      '--codec', 'avif:quality=1..90:8,speed=10', '--codec', 'webp-ll-down:scale=10..100:8'));
    fs.writeFileSync(path.join(OUT, 'sweep-cli-1000.json'), JSON.stringify(cliOut, null, 1));
    const byKey = new Map(json.points.map((p) => [key(p), p]));
    for (const b of cliOut.points) {
      const a = byKey.get(key(b));
      assert.ok(a, `page has no point ${key(b)}`);
      assert.equal(a.bytes, b.bytes, `${key(b)} bytes`);
      if (b.codec !== 'avif') assert.equal(a.accuracy, b.accuracy, `${key(b)} accuracy`);
      else assert.ok(Math.abs(a.accuracy - b.accuracy) <= 0.01, `${key(b)} accuracy ${a.accuracy} vs ${b.accuracy}`);
    }
  });

  await t.test('CPU ↔ WebGPU: same predictions within the stated tolerance', async () => {
    await page.selectOption('[data-testid=model]', 'fashion-cnn');
    // The input is still item FLIP_ITEM (clicking it again would not re-encode): a new
    // setting on the left makes the worker judge that side again, on the CPU.
    assert.match(await page.textContent('[data-testid=source-info]'), /true class/);
    await markStale(0);
    await setQuality(0, 2);
    const cpu = await verdict(0);
    // Verdicts, sweeps and a photo on the CPU so far: the WebGPU worker module was not fetched.
    assert.deepEqual([...gpuModuleRequests, ...gpuModuleFromServiceWorker], [], 'the WebGPU module is fetched only when a job needs it');
    assert.equal(await page.getAttribute('[data-testid=worker-status]', 'data-gpu-state'), null);
    await markStale(0);
    await page.selectOption('[data-testid=backend]', 'webgpu');
    const gpu = await verdict(0, 300_000);
    assert.ok(gpuModuleRequests.some((u) => u.endsWith('/mpq-worker-gpu_bg.wasm')), `${gpuModuleRequests}`);
    assert.equal(await page.getAttribute('[data-testid=worker-status]', 'data-gpu-state'), 'ready');
    assert.equal(gpuModuleRequests.filter((u) => u.endsWith('.wasm')).length, 1, 'fetched and compiled once for every worker');
    assert.ok(gpuModuleFromServiceWorker.filter((u) => u.endsWith('.wasm')).length <= 1, `${gpuModuleFromServiceWorker}`);
    assert.equal(gpu.error, undefined, gpu.error);
    assert.equal(await page.getAttribute('[data-testid=model-status]', 'data-backend'), 'webgpu');
    assert.deepEqual(gpu.bars.map((b) => b.cls), cpu.bars.map((b) => b.cls));
    for (let k = 0; k < cpu.bars.length; k++) {
      assert.ok(Math.abs(gpu.bars[k].p - cpu.bars[k].p) <= BACKEND_TOLERANCE, `${cpu.bars[k].cls}: ${cpu.bars[k].p} vs ${gpu.bars[k].p}`);
    }
    await page.click('[data-testid=agreement-run]');
    await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('[data-testid=agreement-status]').dataset.state), null, { timeout: 300_000 });
    const text = await page.textContent('[data-testid=agreement-status]');
    console.log(`agreement: ${text}`);
    const report = JSON.parse(await page.getAttribute('[data-testid=agreement-status]', 'data-report'));
    assert.equal(report.top1_agreement, 1);
    assert.ok(report.max_abs_prob_diff <= BACKEND_TOLERANCE, `max |Δp| ${report.max_abs_prob_diff}`);
    fs.writeFileSync(path.join(OUT, 'agreement.json'), JSON.stringify(report, null, 1));
    await page.screenshot({ path: path.join(OUT, '12-webgpu.png') });
  });

  await t.test('no console errors', async () => {
    assert.deepEqual(consoleErrors, []);
  });
});
