// End-to-end test of the model lab in headless Chromium's WebGPU (SwiftShader with
// --enable-unsafe-webgpu): every WGSL kernel equals its CPU reference there, the kernels are
// timed (4096² f32 vs Q4_0 is reported), and a bundled model evaluated in every weight format
// through our kernels gives the same table as `mpqlab quant`.
//
//   MPQ_URL=http://127.0.0.1:PORT/ MPQLAB_BIN=target/debug/mpqlab node --test tests/e2e/model_lab.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OUT, URL_, launch, cli } from './lib.mjs';

let context, page, consoleErrors;

before(async () => {
  ({ context, page, consoleErrors } = await launch({ webgpu: true }));
});

after(async () => {
  await context?.close();
});

async function waitLab(timeout) {
  await page.waitForFunction(() => ['done', 'stopped'].includes(document.querySelector('[data-testid=lab-status]').dataset.state),
    null, { timeout, polling: 250 });
  const state = await page.getAttribute('[data-testid=lab-status]', 'data-state');
  const text = await page.textContent('[data-testid=lab-status]');
  assert.equal(state, 'done', text);
  return text;
}

test('model lab: kernels checked and timed on WebGPU, formats evaluated like mpqlab quant', { timeout: 1_200_000 }, async (t) => {
  await t.test('every kernel equals its CPU reference on the browser\'s WebGPU', async () => {
    await page.goto(URL_ + '#/model');
    await page.waitForSelector('[data-ready="1"]');
    await page.click('[data-testid=kcheck-run]');
    const text = await waitLab(300_000);
    const total = Number(await page.getAttribute('[data-testid=kcheck-table]', 'data-total'));
    const failed = Number(await page.getAttribute('[data-testid=kcheck-table]', 'data-failed'));
    // f32 and f16 with one scale rule, Q8_0/Q4_0/Q3_0 with two and with f32 and int8 inputs
    // (Chromium's WGSL has dot4I8Packed), over mpq_gpu::check::SHAPES (9): (2 + 3·2·2)·9.
    assert.equal(total, 126, text);
    assert.equal(failed, 0, text);
    const rows = await page.locator('[data-testid=kcheck-table] tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ format: tr.dataset.format, inputs: tr.dataset.inputs, scale: tr.dataset.scale, runs: +tr.dataset.runs, passed: +tr.dataset.passed })));
    assert.deepEqual(rows.map((r) => `${r.format}/${r.inputs}/${r.scale}`),
      ['f32/f32/reference', 'f16/f32/reference'].concat(['q8_0', 'q4_0', 'q3_0'].flatMap((f) =>
        ['f32', 'int8'].flatMap((x) => [`${f}/${x}/reference`, `${f}/${x}/search`]))));
    for (const r of rows) assert.equal(r.passed, r.runs, `${r.format}/${r.inputs}/${r.scale}`);
    const adapter = await page.textContent('[data-testid=lab-adapter]');
    assert.match(adapter, /^Adapter: /);
    console.log(`${text} ${adapter}`);
  });

  await t.test('the kernels are timed: 4096×4096 times a vector, v1 and v2, against the streaming ceiling', async () => {
    await page.locator('[data-testid=kbench-sizes]').fill('4096');
    await page.locator('[data-testid=kbench-batch]').fill('1');
    await page.locator('[data-testid=kbench-repeats]').fill('3');
    await page.locator('[data-testid=kbench-baseline]').check();
    assert.match(page.url(), /base=1/);
    await page.click('[data-testid=kbench-run]');
    await waitLab(900_000);
    const rows = JSON.parse(await page.getAttribute('[data-testid=kbench-table]', 'data-json'));
    const fmts = ['f32', 'f16', 'q8_0', 'q4_0', 'q3_0'];
    // v1 and v2 of every format; the block formats' int8-input v2 kernels too.
    assert.deepEqual(rows.map((r) => `${r.format}/${r.kernels}/${r.inputs}`),
      fmts.flatMap((f) => [`${f}/v1/f32`, `${f}/v2/f32`].concat(f.startsWith('q') ? [`${f}/v2/int8`] : [])));
    const ceiling = Number(await page.getAttribute('[data-testid=kbench-info]', 'data-ceiling'));
    assert.ok(ceiling > 0, 'the streaming ceiling is measured');
    for (const r of rows) {
      assert.equal(r.rows, 4096);
      assert.ok(r.ms > 0 && Number.isFinite(r.gflops) && Number.isFinite(r.weight_gbps), JSON.stringify(r));
      assert.ok(Math.abs(r.share_of_ceiling - r.weight_gbps / ceiling) < 1e-9 * r.share_of_ceiling + 1e-12, JSON.stringify(r));
      // Rotated copies: each timing touches at least 256 MiB of weights (or 64 copies).
      assert.ok(r.copies * r.weight_bytes >= Math.min(256 * 2 ** 20, 64 * r.weight_bytes), JSON.stringify(r));
      assert.ok(r.vs_f32 > 0, JSON.stringify(r));
      if (r.kernels === 'v2') assert.ok(r.vs_v1 > 0, JSON.stringify(r));
      assert.equal(r.vs_f32_inputs === null, r.inputs === 'f32', JSON.stringify(r));
    }
    assert.equal(await page.getAttribute('[data-testid=kbench-info]', 'data-packed-dot'), 'browser');
    const info = await page.textContent('[data-testid=kbench-info]');
    assert.match(info, /streaming-read ceiling/);
    const ms = (f, k, x = 'f32') => rows.find((r) => r.format === f && r.kernels === k && r.inputs === x).ms;
    const adapter = await page.getAttribute('[data-testid=lab-adapter]', 'data-name');
    fs.writeFileSync(path.join(OUT, 'kernel-bench-webgpu.json'), JSON.stringify({ adapter, ceiling, info, rows }, null, 1));
    await page.locator('[data-testid=kbench-table]').scrollIntoViewIfNeeded();
    await page.locator('.model-lab').screenshot({ path: path.join(OUT, '21-model-bench.png') });
    for (const k of ['v1', 'v2']) {
      console.log(`WebGPU (${adapter}) 4096² matvec ${k}: ` + fmts.map((f) => `${f} ${ms(f, k).toFixed(2)} ms`).join(', ')
        + `: Q4_0 ${(ms('f32', k) / ms('q4_0', k)).toFixed(2)}× f32, Q8_0 ${(ms('f32', k) / ms('q8_0', k)).toFixed(2)}× f32`);
    }
    console.log(`${info} v2 vs v1: ` + fmts.map((f) => `${f} ${(ms(f, 'v1') / ms(f, 'v2')).toFixed(2)}×`).join(', '));
    console.log('int8 inputs (dot4I8Packed) v2: ' + ['q8_0', 'q4_0', 'q3_0'].map((f) =>
      `${f} ${ms(f, 'v2', 'int8').toFixed(2)} ms (${(ms(f, 'v2') / ms(f, 'v2', 'int8')).toFixed(2)}× f32 inputs)`).join(', '));
  });

  await t.test('a bad bench size gets a clear error, and the lab still works', async () => {
    await page.locator('[data-testid=kbench-sizes]').fill('4k');
    await page.click('[data-testid=kbench-run]');
    await page.waitForFunction(() => document.querySelector('[data-testid=lab-status]').dataset.state === 'stopped');
    assert.match(await page.textContent('[data-testid=lab-status]'), /'4k' is not a matrix size/);
    assert.match(await page.textContent('#error'), /'4k' is not a matrix size/);
    await page.click('#error-close');
  });

  await t.test('every weight format of the Fashion CNN through our kernels equals mpqlab quant', async () => {
    await page.selectOption('[data-testid=lab-model]', 'fashion-cnn');
    await page.selectOption('[data-testid=lab-backend]', 'webgpu');
    await page.locator('[data-testid=lab-items]').fill('200');
    await page.locator('[data-testid=lab-search]').check();
    // Aim for 6 bits per weight: a row with a format per group of rows (each group its own
    // kernel call on the GPU), the same as `mpqlab quant --target-bpw 6`.
    assert.equal(await page.inputValue('[data-testid=lab-target-unit]'), 'bpw');
    await page.locator('[data-testid=lab-target-on]').check();
    await page.waitForFunction(() => location.hash.includes('mt=6bpw'));
    await page.click('[data-testid=lab-run]');
    const text = await waitLab(900_000);
    const rows = await page.locator('[data-testid=lab-table] tbody tr').evaluateAll((trs) => trs.map((tr) => ({
      variant: tr.dataset.variant, bits: +tr.dataset.bits, accuracy: +tr.dataset.accuracy,
      agreement: +tr.dataset.agreement, reference: +tr.dataset.reference, formats: tr.dataset.formats })));
    const native = JSON.parse(cli('quant', '--model', 'fashion-cnn', '--search', '--items', '200', '--target-bpw', '6'));
    const mix = rows.find((r) => r.variant === 'mix+search');
    const nativeMix = native.rows.find((r) => r.variant === 'mix+search');
    assert.ok(mix && nativeMix, rows.map((r) => r.variant).join(', '));
    assert.equal(mix.formats, nativeMix.target.value);
    assert.ok(Math.abs(mix.bits - 6) <= 0.12, `${mix.bits} bits per weight`);
    const report = JSON.parse(await page.getAttribute('[data-testid=lab-target-result]', 'data-report'));
    assert.equal(report.reached, true);
    assert.match(await page.textContent('[data-testid=lab-target-result]'), /^✓ Aimed, chose formats conv1=/);
    fs.writeFileSync(path.join(OUT, 'quant-page-fashion-200.json'), JSON.stringify(rows, null, 1));
    assert.deepEqual(rows.map((r) => r.variant), native.rows.map((r) => r.variant));
    for (const [a, b] of rows.map((r, i) => [r, native.rows[i]])) {
      // Storage is the same code: exact. Accuracy: the GPU sums in another order than the
      // native CPU reference, which may move an item sitting on a class boundary: ≤ 1 item.
      assert.equal(a.bits, b.bits_per_weight, `${a.variant} bits per weight`);
      assert.equal(a.reference, b.reference_accuracy, `${a.variant} f32 model accuracy`);
      assert.ok(Math.abs(a.accuracy - b.accuracy) <= 1 / 200 + 1e-12, `${a.variant}: page ${a.accuracy} vs native ${b.accuracy}`);
    }
    const q8 = rows.find((r) => r.variant === 'q8_0');
    const f32 = rows.find((r) => r.variant === 'f32');
    assert.ok(Math.abs(q8.accuracy - f32.accuracy) <= 0.005, `q8_0 ${q8.accuracy} vs f32 ${f32.accuracy}`);
    const markers = await page.locator('[data-testid=lab-plot] svg circle').count();
    assert.ok(markers >= rows.length - 2, `${markers} plotted points for ${rows.length} rows`);
    assert.equal(await page.locator('[data-testid=lab-plot] svg rect[fill="#CC79A7"]').count(), 1, 'the mix is a square');
    await page.locator('.model-lab').screenshot({ path: path.join(OUT, '20-model-lab.png') });
    console.log(`${text} ${rows.map((r) => `${r.variant} ${r.bits.toFixed(2)} b/w ${(100 * r.accuracy).toFixed(1)} %`).join('; ')}`);
  });

  await t.test('no console errors', async () => {
    assert.deepEqual(consoleErrors, []);
  });
});

test('model lab with no GPU adapter: a clear error, and the CPU reference still evaluates', { timeout: 600_000 }, async () => {
  // --disable-gpu: Chromium still has navigator.gpu, but requestAdapter() finds no adapter
  // (as on a machine whose GPU the browser blocks).
  const { context: ctx, page: p, consoleErrors: errors } = await launch({ webgpu: false });
  try {
    await p.goto(URL_ + '#/model');
    await p.waitForSelector('[data-ready="1"]');
    await p.click('[data-testid=kcheck-run]');
    await p.waitForFunction(() => document.querySelector('[data-testid=lab-status]').dataset.state === 'stopped',
      null, { timeout: 120_000 });
    const why = await p.textContent('[data-testid=lab-status]');
    assert.match(why, /WebGPU could not start: this browser offers no GPU adapter/, why);
    assert.match(await p.textContent('#error-text'), /^Model lab: /);
    await p.click('#error-close');
    await p.selectOption('[data-testid=lab-backend]', 'cpu');
    await p.selectOption('[data-testid=lab-model]', 'cats-dogs-cnn');
    await p.locator('[data-testid=lab-items]').fill('100');
    await p.locator('[data-testid=lab-search]').uncheck();
    await p.click('[data-testid=lab-run]');
    await p.waitForFunction(() => ['done', 'stopped'].includes(document.querySelector('[data-testid=lab-status]').dataset.state),
      null, { timeout: 300_000, polling: 250 });
    const text = await p.textContent('[data-testid=lab-status]');
    assert.equal(await p.getAttribute('[data-testid=lab-status]', 'data-state'), 'done', text);
    const rows = await p.locator('[data-testid=lab-table] tbody tr').evaluateAll((trs) => trs.map((tr) => ({
      variant: tr.dataset.variant, accuracy: +tr.dataset.accuracy })));
    assert.deepEqual(rows.map((r) => r.variant), ['f32', 'f16', 'q8_0', 'q4_0', 'q3_0', 'f16+lossless']);
    const native = JSON.parse(cli('quant', '--model', 'cats-dogs-cnn', '--items', '100'));
    for (const [a, b] of rows.map((r, i) => [r, native.rows[i]])) {
      assert.equal(a.variant, b.variant);
      assert.ok(Math.abs(a.accuracy - b.accuracy) <= 1 / 100 + 1e-12, `${a.variant}: page ${a.accuracy} vs native ${b.accuracy}`);
    }
    console.log(`no adapter: "${why}"; then ${text} ${rows.map((r) => `${r.variant} ${(100 * r.accuracy).toFixed(0)} %`).join('; ')}`);
    // The failed WebGPU start is reported in the page, not as a console error.
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
