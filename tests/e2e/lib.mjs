// Shared by the browser tests: where things are, and a headless Chromium (Debian's, never a
// downloaded one) with WebGPU on (SwiftShader in a headless machine without a GPU).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const OUT = path.join(ROOT, 'tests/out');
export const URL_ = process.env.MPQ_URL;
export const CLI = process.env.MPQLAB_BIN;
export const BROWSER = process.env.MPQ_CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(OUT, { recursive: true });

/** A fresh Chromium profile and page; console errors and page errors are collected. */
export async function launch({ webgpu = true, viewport = { width: 1400, height: 1000 }, args = [] } = {}) {
  assert.ok(URL_, 'MPQ_URL must point at the served dist/');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mpq-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: BROWSER,
    headless: true,
    acceptDownloads: true,
    viewport,
    args: ['--headless', '--no-sandbox', webgpu ? '--enable-unsafe-webgpu' : '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...args],
  });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  context.on('weberror', (e) => consoleErrors.push(`web error: ${e.error().message}`));
  return { context, page, consoleErrors };
}

/** Runs the native `mpqlab` (MPQLAB_BIN) and returns its stdout as text. */
export function cli(...args) {
  return cliBytes(...args).toString('utf8');
}

/** Runs the native `mpqlab` (MPQLAB_BIN) and returns its stdout as bytes. */
export function cliBytes(...args) {
  assert.ok(CLI, 'MPQLAB_BIN must name the mpqlab binary');
  return execFileSync(CLI, args, { cwd: ROOT, encoding: 'buffer', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** Side i's numbers once it shows a finished result (its stage says done). */
export async function sideResult(page, i, timeout = 120_000) {
  await page.waitForFunction((i) => {
    const s = document.querySelector(`[data-testid=stage-${i}]`);
    return s && s.dataset.state === 'done' && s.textContent === 'done'
      && document.querySelector(`[data-testid=metrics-${i}] [data-metric=bytes]`)
      && document.querySelector(`[data-testid=perception-${i}] .timing, [data-testid=perception-${i}] .perception-error`);
  }, i, { timeout });
  return page.evaluate((i) => {
    const num = (root, k) => {
      const d = root.querySelector(`[data-metric=${k}]`);
      if (!d) return undefined;
      return JSON.parse(d.dataset.value);
    };
    const m = document.querySelector(`[data-testid=metrics-${i}]`);
    const p = document.querySelector(`[data-testid=perception-${i}]`);
    const flag = p.querySelector(`[data-testid=flag-${i}]`);
    return {
      bytes: num(m, 'bytes'), bpp: num(m, 'bits_per_pixel'), psnr: num(m, 'psnr_rgb'), psnrY: num(m, 'psnr_y'),
      ssim: num(m, 'ssim'), msssim: num(m, 'ms_ssim'),
      feature: num(p, 'feature_distance'), kl: num(p, 'kl') ?? null,
      changed: flag ? flag.dataset.changed === 'true' : null,
      bars: [...p.querySelectorAll('.bars li')].map((li) => ({ cls: li.dataset.class, p: Number(li.dataset.p) })),
      error: p.querySelector('.perception-error')?.textContent ?? null,
    };
  }, i);
}

/** Marks side i's current result as seen, so `sideResult` waits for the next one. */
export async function markStale(page, i) {
  await page.evaluate((i) => { document.querySelector(`[data-testid=stage-${i}]`).dataset.state = 'stale'; }, i);
}

/** Types a value into a numeric parameter's number box (fires `input`). */
export async function setNumber(page, testid, value) {
  await page.locator(`[data-testid=${testid}-number]`).fill(String(value));
}

/** The settings the image lab shows: codecs, parameter values, model, split, zoom, input. */
export async function imageSettings(page) {
  // The codec menus are filled once the worker sent its catalog.
  await page.waitForSelector('[data-testid=codec-1]:not([disabled])');
  return page.evaluate(() => {
    const side = (i) => ({
      codec: document.querySelector(`[data-testid=codec-${i}]`).value,
      params: Object.fromEntries([...document.querySelectorAll(`#side-${i} .params [data-testid^=param-]`)]
        .filter((e) => !e.dataset.testid.endsWith('-number'))
        .map((e) => [e.dataset.testid.replace(`param-${i}-`, ''), e.type === 'checkbox' ? e.checked : e.value])),
    });
    return {
      sides: [side(0), side(1)],
      model: document.querySelector('[data-testid=model]').value,
      backend: document.querySelector('[data-testid=backend]').value,
      split: document.querySelector('[data-testid=split]').dataset.split,
      zoom: document.querySelector('[data-testid=zoom-level]').dataset.zoom,
      source: document.querySelector('[data-testid=source-info]').textContent,
    };
  });
}

/** The current experiment's link, as the copy-link button shows it. */
export async function copyLink(page) {
  await page.click('[data-testid=copy-link]');
  await page.waitForFunction(() => document.querySelector('[data-testid=share-link]').value !== '');
  return page.inputValue('[data-testid=share-link]');
}

/** Opens the gallery picker that holds `selector` when it is folded (screens ≤ 820 px tall
 * start with the pickers folded), by clicking its summary as a user would. */
export async function unfoldPicker(page, selector) {
  const folded = await page.evaluate((s) => {
    const d = document.querySelector(s)?.closest('details.picker');
    return Boolean(d && !d.open);
  }, selector);
  if (folded) await page.locator(selector).locator('xpath=ancestor::details[1]/summary').click();
}

/** Waits until the page is painted and its worker module is compiled. */
export async function ready(page) {
  await page.waitForSelector('#app-status[data-ready="1"]');
  await page.waitForSelector('[data-testid=worker-status][data-state=ready]', { timeout: 120_000 });
}

/** Drags the split to `fraction` of the viewer's width with the mouse. */
export async function dragSplit(page, fraction, steps = 8) {
  // As a user would: with the viewer on screen (the mouse cannot press below the viewport).
  await page.evaluate(() => document.querySelector('[data-testid=viewer]').scrollIntoView({ block: 'center' }));
  const viewer = await page.locator('[data-testid=viewer]').boundingBox();
  const split = await page.locator('[data-testid=split]').boundingBox();
  await page.mouse.move(split.x + split.width / 2, split.y + split.height / 2);
  await page.mouse.down();
  await page.mouse.move(viewer.x + viewer.width * fraction, viewer.y + viewer.height / 2, { steps });
  await page.mouse.up();
}

// Exports (tests/e2e/exports.test.mjs and the labs' own tests).

/** Clicks `testid` on `page` and returns the download: its suggested name, path (under
 *  OUT/exports) and bytes. */
export async function downloadFile(page, testid) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click(`[data-testid=${testid}]`)]);
  const file = path.join(OUT, 'exports', d.suggestedFilename());
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await d.saveAs(file);
  return { name: d.suggestedFilename(), file, bytes: fs.readFileSync(file) };
}

/** RFC 4180 CSV: rows of cells. */
export function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

export function checkCsv(bytes, wantColumns, rowsWanted) {
  const rows = parseCsv(bytes.toString('utf8'));
  const [header, ...body] = rows;
  for (const c of [...wantColumns, 'link', 'mpqlab_version', 'build', 'tools']) assert.ok(header.includes(c), `column ${c} in ${header}`);
  assert.equal(body.length, rowsWanted);
  for (const r of body) assert.equal(r.length, header.length, 'every row has every column');
  const col = (name) => body.map((r) => r[header.indexOf(name)]);
  return { header, body, col };
}

export function checkJson(bytes, kind) {
  const doc = JSON.parse(bytes.toString('utf8'));
  assert.equal(doc.format, 'mpqlab-export');
  assert.equal(doc.version, 1);
  assert.equal(doc.kind, kind);
  assert.match(doc.provenance.link, /^http:\/\/127\.0\.0\.1:\d+\/#\//);
  assert.match(doc.provenance.build, /^[0-9a-f]{16}$/, 'the build id from build.json');
  assert.ok(doc.provenance.tools.burn && doc.provenance.tools['jpeg-encoder'], JSON.stringify(doc.provenance.tools));
  return doc;
}

/** The PNG decodes: our CLI opens it (as it opens any image) and says its size. */
export function pngSize(file) {
  const v = JSON.parse(cli('eval', file, '-c', 'png'));
  assert.equal(v.exact, true, 'a lossless round trip of the exported PNG');
  return [v.width, v.height];
}
