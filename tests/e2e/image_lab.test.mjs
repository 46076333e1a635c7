// End-to-end test of the image lab, as a new user would use it, in Debian's Chromium driven
// by playwright-core (never a downloaded browser). Run by scripts/test.sh after `trunk build`:
//
//   MPQ_URL=http://127.0.0.1:PORT/ MPQLAB_BIN=target/debug/mpqlab node --test tests/e2e/
//
// Screenshots and the page's timing table land in tests/out/. Any console error fails the test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT, OUT, URL_, launch, cliBytes as cli, dragSplit } from './lib.mjs';

let context, page, consoleErrors;

before(async () => {
  // No WebGPU here: the image lab must not need it.
  ({ context, page, consoleErrors } = await launch({ webgpu: false, viewport: { width: 1400, height: 950 } }));
});

after(async () => {
  await context?.close();
});

const side = (i) => ({
  metric: async (name) => {
    const v = await page.getAttribute(`[data-testid=metrics-${i}] [data-metric=${name}]`, 'data-value');
    return v === null || v === 'null' ? null : Number(v);
  },
  stage: () => page.textContent(`[data-testid=stage-${i}]`),
});

/** Waits until side i shows a finished result (its stage says done) and returns its numbers. */
async function result(i, timeout = 120_000) {
  await page.waitForFunction((i) => {
    const s = document.querySelector(`[data-testid=stage-${i}]`);
    return s && s.dataset.state === 'done' && s.textContent === 'done'
      && document.querySelector(`[data-testid=metrics-${i}] [data-metric=bytes]`);
  }, i, { timeout });
  const s = side(i);
  return {
    bytes: await s.metric('bytes'), bpp: await s.metric('bits_per_pixel'),
    psnr: await s.metric('psnr_rgb'), psnrY: await s.metric('psnr_y'),
    ssim: await s.metric('ssim'), msssim: await s.metric('ms_ssim'),
    encodeMs: await s.metric('encode_ms'),
  };
}

/** Marks side i's current result as seen, so `result(i)` waits for the next one. */
async function expectNewResult(i) {
  await page.evaluate((i) => { document.querySelector(`[data-testid=stage-${i}]`).dataset.state = 'stale'; }, i);
}

/** A PNG signature and IHDR chunk (valid CRC) claiming w×h RGB pixels, with no pixel data. */
function pngHeaderOnly(w, h) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const body = Buffer.concat([Buffer.from('IHDR'), ihdr]);
  const len = Buffer.alloc(4); len.writeUInt32BE(13);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), len, body, crc]);
}

async function setNumber(testid, value) {
  const box = page.locator(`[data-testid=${testid}-number]`);
  await box.fill(String(value)); // fires `input`
}

async function downloadSide(i, file) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click(`[data-testid=side-${i}] a.download, #side-${i} a.download`),
  ]);
  const dest = path.join(OUT, file);
  await download.saveAs(dest);
  return fs.readFileSync(dest);
}

test('image lab: first screen, codecs side by side, split, file input, errors, CLI identity, timing', { timeout: 900_000 }, async (t) => {
  await t.test('first screen shows a photo compressed two ways within seconds', async () => {
    const t0 = Date.now();
    // The page's requests (its service worker's own are not page requests).
    const buildJson = [];
    const count = (r) => { if (new URL(r.url()).pathname.endsWith('/build.json')) buildJson.push(r.url()); };
    page.on('request', count);
    await page.goto(URL_ + '?runs=1');
    const left = await result(0);
    const right = await result(1);
    page.off('request', count);
    // One fetch serves the worker module's size and the exports' build id.
    assert.equal(buildJson.length, 1, `build.json fetched ${buildJson.length} times`);
    const seconds = (Date.now() - t0) / 1000;
    console.log(`first screen: both sides ready in ${seconds.toFixed(1)} s`);
    assert.ok(seconds < 60, `first screen took ${seconds} s`);
    assert.ok(left.bytes > 0 && right.bytes > 0);
    await page.screenshot({ path: path.join(OUT, '01-first-screen.png') });
  });

  await t.test('gallery photo, JPEG q=10 vs AVIF: plausible, different numbers', async () => {
    await expectNewResult(0); await expectNewResult(1);
    await page.click('[data-testid=gallery-coffee]');
    await page.waitForFunction(() => document.querySelector('[data-testid=source-info]').textContent.includes('coffee.png — 600×400'));
    await page.selectOption('[data-testid=codec-0]', 'jpeg');
    await setNumber('param-0-quality', 10);
    await page.selectOption('[data-testid=codec-1]', 'avif');
    await setNumber('param-1-quality', 40);
    const jpeg = await result(0);
    const avif = await result(1);
    console.log('coffee JPEG q10:', JSON.stringify(jpeg));
    console.log('coffee AVIF q40:', JSON.stringify(avif));
    for (const r of [jpeg, avif]) {
      assert.ok(r.bpp > 0.02 && r.bpp < 8, `bpp ${r.bpp}`);
      assert.ok(r.psnr > 18 && r.psnr < 60, `psnr ${r.psnr}`);
      assert.ok(r.ssim > 0.3 && r.ssim <= 1, `ssim ${r.ssim}`);
      assert.ok(r.msssim > 0.5 && r.msssim <= 1, `ms-ssim ${r.msssim}`);
      assert.ok(Math.abs(r.bpp - (8 * r.bytes) / (600 * 400)) < 1e-9);
    }
    assert.notEqual(jpeg.bytes, avif.bytes);
    assert.notEqual(jpeg.psnr, avif.psnr);
    await page.screenshot({ path: path.join(OUT, '02-jpeg-q10-vs-avif.png') });

    // The page's bytes are the CLI's bytes, for the same codec, settings and photo.
    const pageJpeg = await downloadSide(0, 'page-coffee-jpeg-q10.jpg');
    const cliJpeg = cli('compress', 'www/gallery/coffee.png', '-c', 'jpeg', '-p', 'quality=10', '-o', path.join(OUT, 'cli-coffee-jpeg-q10.jpg'));
    assert.ok(cliJpeg !== undefined);
    assert.deepEqual(pageJpeg, fs.readFileSync(path.join(OUT, 'cli-coffee-jpeg-q10.jpg')), 'JPEG bytes differ between page and CLI');
    const pageAvif = await downloadSide(1, 'page-coffee-avif-q40.avif');
    cli('compress', 'www/gallery/coffee.png', '-c', 'avif', '-p', 'quality=40', '-o', path.join(OUT, 'cli-coffee-avif-q40.avif'));
    assert.deepEqual(pageAvif, fs.readFileSync(path.join(OUT, 'cli-coffee-avif-q40.avif')), 'AVIF bytes differ between page and CLI');
    // And the page's numbers equal `mpqlab eval` (timings aside).
    const ev = JSON.parse(cli('eval', 'www/gallery/coffee.png', '-c', 'jpeg', '-p', 'quality=10').toString());
    assert.equal(ev.bytes, jpeg.bytes);
    assert.ok(Math.abs(ev.psnr_rgb - jpeg.psnr) < 1e-9, `${ev.psnr_rgb} vs ${jpeg.psnr}`);
    assert.ok(Math.abs(ev.ssim - jpeg.ssim) < 1e-9);
    assert.ok(Math.abs(ev.ms_ssim - jpeg.msssim) < 1e-9);
  });

  await t.test('split drags with the mouse and moves with the keyboard; zoom is shared', async () => {
    await dragSplit(page, 0.25);
    let now = Number(await page.getAttribute('[data-testid=split]', 'aria-valuenow'));
    assert.ok(Math.abs(now - 25) <= 1, `split at ${now}% after dragging to 25%`);
    await page.focus('[data-testid=split]');
    for (let k = 0; k < 5; k++) await page.keyboard.press('ArrowRight');
    now = Number(await page.getAttribute('[data-testid=split]', 'aria-valuenow'));
    assert.ok(Math.abs(now - 35) <= 1, `split at ${now}% after 5 × ArrowRight`);
    await page.focus('[data-testid=viewer]');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    const [a, b] = await page.evaluate(() => ['canvas-0', 'canvas-1'].map((id) => document.getElementById(id).style.transform));
    assert.equal(a, b, 'both sides must share one zoom and pan');
    assert.match(a, /scale\(/);
    await page.screenshot({ path: path.join(OUT, '03-split-and-zoom.png') });
    await page.keyboard.press('0');
  });

  await t.test('a PNG given through the file input becomes the lab input', async () => {
    await expectNewResult(0); await expectNewResult(1);
    const file = path.join(ROOT, 'tests/fixtures/metrics/astronaut_noise_a.png');
    await page.setInputFiles('[data-testid=file-input]', file);
    await page.waitForFunction(() => document.querySelector('[data-testid=source-info]').textContent.includes('astronaut_noise_a.png — 256×192'));
    const left = await result(0);
    const right = await result(1);
    assert.ok(Math.abs(left.bpp - (8 * left.bytes) / (256 * 192)) < 1e-9);
    assert.ok(right.bytes > 0);
    await page.screenshot({ path: path.join(OUT, '04-dropped-png.png') });
  });

  await t.test('bad input shows a clear error and the page stays usable', async () => {
    const junk = path.join(OUT, 'not-an-image.png');
    fs.writeFileSync(junk, 'this is text, not a picture\n'.repeat(20));
    await page.setInputFiles('[data-testid=file-input]', junk);
    await page.waitForSelector('#error:not([hidden])');
    const msg = await page.textContent('[data-testid=error-text]');
    assert.match(msg, /Could not open not-an-image.png: unrecognised file format/);
    assert.match(await page.textContent('[data-testid=source-info]'), /astronaut_noise_a.png — 256×192/);
    await page.screenshot({ path: path.join(OUT, '05-error.png') });
    // A PNG whose header claims 9000×9000 pixels is refused before anything is allocated.
    await page.click('#error-close');
    await page.setInputFiles('[data-testid=file-input]', { name: 'huge.png', mimeType: 'image/png', buffer: pngHeaderOnly(9000, 9000) });
    await page.waitForSelector('#error:not([hidden])');
    assert.match(await page.textContent('[data-testid=error-text]'), /too large: 9000×9000 pixels/);
    // Still usable: a lossless codec on the previous input works.
    await expectNewResult(1);
    await page.selectOption('[data-testid=codec-1]', 'png');
    const png = await result(1);
    assert.equal(png.psnr, null, 'PNG is lossless: PSNR is infinite (null)');
    assert.equal(await page.textContent('[data-testid=metrics-1] dd.exact'), 'identical to the original');
  });

  await t.test('browser-native encoders, feature-detected', async () => {
    for (const id of ['browser-jpeg', 'browser-webp']) {
      const disabled = await page.getAttribute(`[data-testid=codec-1] option[value=${id}]`, 'disabled');
      if (disabled !== null) { console.log(`${id}: not supported by this browser (disabled in the menu)`); continue; }
      await expectNewResult(1);
      await page.selectOption('[data-testid=codec-1]', id);
      await setNumber('param-1-quality', 30);
      const r = await result(1);
      console.log(`${id} q30:`, JSON.stringify(r));
      assert.ok(r.bytes > 100 && r.psnr > 18 && r.psnr < 60);
    }
  });

  await t.test('timing table runs every codec in the worker', async () => {
    await page.click('[data-testid=bench-run]');
    await page.waitForFunction(() => ['done', 'stopped'].includes(document.querySelector('[data-testid=bench-status]').dataset.state), null, { timeout: 600_000 });
    assert.equal(await page.getAttribute('[data-testid=bench-status]', 'data-state'), 'done');
    const rows = JSON.parse(await page.textContent('[data-testid=bench-json]'));
    fs.writeFileSync(path.join(OUT, 'bench-wasm.json'), JSON.stringify(rows, null, 2));
    const ours = rows.filter((r) => !r.codec.startsWith('browser-'));
    assert.equal(ours.length, 3 * 6, "three photos × six codecs");
    for (const r of ours) assert.ok(!r.error && r.encode_ms > 0 && r.decode_ms > 0, JSON.stringify(r));
    await page.screenshot({ path: path.join(OUT, '06-timing-table.png'), fullPage: true });
  });

  assert.deepEqual(consoleErrors, [], 'the page logged errors');
});
