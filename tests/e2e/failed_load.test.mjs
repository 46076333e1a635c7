// After any failed load the page and its workers agree on what is loaded. The sequence found as
// a new user would: open a PNG, and while the right side (AVIF) still encodes it, open an empty
// file, then a truncated one. The banner names each; the PNG stays on screen, the left side
// answers a new setting, and the right side finishes (it once said "encoding…" forever). Then
// the same failure during a sweep and during a model-lab run, which must not be disturbed.
//
//   MPQ_URL=http://127.0.0.1:PORT/ node --test tests/e2e/failed_load.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, OUT, URL_, launch, sideResult, markStale, setNumber, ready } from './lib.mjs';

const PNG = path.join(ROOT, 'www/gallery/astronaut.png');
const CUT = { name: 'cut.png', mimeType: 'image/png', buffer: fs.readFileSync(PNG).subarray(0, 3000) };
const EMPTY = { name: 'empty.png', mimeType: 'image/png', buffer: Buffer.alloc(0) };

let context, page, consoleErrors;

before(async () => {
  ({ context, page, consoleErrors } = await launch({ webgpu: false }));
  await page.goto(URL_);
  await ready(page);
  await sideResult(page, 0);
  await sideResult(page, 1);
});

after(async () => {
  await context?.close();
});

async function banner(re) {
  await page.waitForSelector('#error:not([hidden])');
  const text = await page.textContent('[data-testid=error-text]');
  assert.match(text, re);
  await page.click('#error-close');
  return text;
}

test('an empty and a truncated file while the right side encodes', { timeout: 300_000 }, async () => {
  // The slowest AVIF setting, so the right side is still encoding when the bad files come.
  await page.selectOption('[data-testid=codec-1]', 'avif');
  await setNumber(page, 'param-1-speed', 1);
  await setNumber(page, 'param-1-quality', 80);
  await markStale(page, 0); await markStale(page, 1);
  await page.setInputFiles('[data-testid=file-input]', PNG);
  await page.waitForFunction(() => document.querySelector('[data-testid=source-info]').textContent.startsWith('astronaut.png — 512×512'));
  await page.waitForFunction(() => document.querySelector('[data-testid=stage-1]').dataset.state === 'running');
  await page.setInputFiles('[data-testid=file-input]', EMPTY);
  console.log(await banner(/^Could not open empty\.png: the file is empty/));
  await page.setInputFiles('[data-testid=file-input]', CUT);
  console.log(await banner(/^Could not open cut\.png: /));
  assert.match(await page.textContent('[data-testid=source-info]'), /^astronaut\.png — 512×512/);
  // The left side answers a new setting on the PNG (not "no image loaded yet")…
  await markStale(page, 0);
  await setNumber(page, 'param-0-quality', 55);
  const left = await sideResult(page, 0);
  assert.equal(left.error, null);
  assert.ok(Math.abs(left.bpp - (8 * left.bytes) / (512 * 512)) < 1e-9, 'measured on the 512×512 PNG');
  // …and the right side finishes its encode.
  const right = await sideResult(page, 1, 240_000);
  assert.ok(right.bytes > 0);
  assert.equal(await page.textContent('[data-testid=stage-1]'), 'done');
  await page.screenshot({ path: path.join(OUT, '40-after-failed-loads.png') });
});

test('a failed load during a sweep does not disturb it', { timeout: 300_000 }, async () => {
  for (const id of ['jpeg', 'avif', 'webp-ll-down', 'browser-jpeg', 'browser-webp']) {
    const box = page.locator(`[data-testid=sweep-use-${id}]`);
    if ((await box.isChecked()) !== (id === 'jpeg')) await box.click();
  }
  await page.locator('[data-testid=sweep-spec-jpeg]').fill('jpeg:quality=1..95:24');
  await page.locator('[data-testid=sweep-items]').fill('1000');
  await page.click('[data-testid=sweep-run]');
  await page.waitForFunction(() => /item runs/.test(document.querySelector('[data-testid=sweep-status]').textContent), null, { timeout: 120_000 });
  await page.setInputFiles('[data-testid=file-input]', CUT);
  await page.waitForSelector('#error:not([hidden])');
  assert.equal(await page.getAttribute('[data-testid=sweep-status]', 'data-state'), 'running', 'the load failed while the sweep ran');
  await banner(/^Could not open cut\.png: /);
  await page.waitForFunction(() => ['done', 'stopped'].includes(document.querySelector('[data-testid=sweep-status]').dataset.state), null, { timeout: 240_000 });
  assert.equal(await page.getAttribute('[data-testid=sweep-status]', 'data-state'), 'done', await page.textContent('[data-testid=sweep-status]'));
  const json = JSON.parse(await page.getAttribute('[data-testid=sweep-status]', 'data-json'));
  assert.equal(json.points.length, 24);
  assert.equal(json.items, 1000);
});

test('a failed load during a model-lab run does not disturb it', { timeout: 300_000 }, async () => {
  await page.click('[data-testid=tab-model]');
  await page.selectOption('[data-testid=lab-backend]', 'cpu');
  await page.locator('[data-testid=lab-items]').fill('1000');
  await page.locator('[data-testid=lab-search]').check();
  await page.click('[data-testid=lab-run]');
  await page.waitForFunction(() => document.querySelector('[data-testid=lab-status]').dataset.state === 'running');
  await page.click('[data-testid=tab-image]');
  await page.setInputFiles('[data-testid=file-input]', CUT);
  await page.waitForSelector('#error:not([hidden])');
  assert.equal(await page.getAttribute('[data-testid=lab-status]', 'data-state'), 'running', 'the load failed while the evaluation ran');
  await banner(/^Could not open cut\.png: /);
  await page.click('[data-testid=tab-model]');
  await page.waitForFunction(() => ['done', 'stopped'].includes(document.querySelector('[data-testid=lab-status]').dataset.state), null, { timeout: 240_000 });
  assert.equal(await page.getAttribute('[data-testid=lab-status]', 'data-state'), 'done', await page.textContent('[data-testid=lab-status]'));
  assert.equal(await page.locator('[data-testid=lab-table] tbody tr').count(), 9);
  // The image lab kept its input through all of it.
  await page.click('[data-testid=tab-image]');
  assert.match(await page.textContent('[data-testid=source-info]'), /^astronaut\.png — 512×512/);
});

test('no console errors', () => {
  assert.deepEqual(consoleErrors, []);
});
