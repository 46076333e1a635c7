// "Aim for a size" in the page: a side's target size sets its codec's size parameter by the
// CLI's search (mpq_core::target), travels in the link (lt, rt) and gives `mpqlab eval
// --target-*`'s setting and bytes; a sweep over bpp= / kbps= puts the codecs at equal sizes.
//
//   MPQ_URL=… MPQLAB_BIN=… node --test tests/e2e/target.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OUT, URL_, launch, cli, ready, sideResult, markStale, copyLink } from './lib.mjs';

const PHOTO = 'www/gallery/coffee.png';
const CLIP = 'www/gallery/audio/codec2-speech-16k.wav';
let context, page, consoleErrors;

before(async () => {
  ({ context, page, consoleErrors } = await launch({ webgpu: false, viewport: { width: 1280, height: 900 } }));
});

after(async () => {
  await context?.close();
});

const report = async (testid) => JSON.parse(await page.getAttribute(`[data-testid=${testid}]`, 'data-report'));

test('a target size in the image and audio labs, in links and sweeps', { timeout: 1_200_000 }, async (t) => {
  await t.test('image: a link aims both sides at 0.5 bpp, as mpqlab eval --target-bpp', async () => {
    await page.goto(URL_ + '#/image?v=1&in=gallery:coffee&l=jpeg&r=browser-webp&lt=0.5bpp&rt=0.5bpp');
    await ready(page);
    const left = await sideResult(page, 0);
    const right = await sideResult(page, 1);
    const want = JSON.parse(cli('eval', PHOTO, '-c', 'jpeg', '--target-bpp', '0.5'));
    const got = await report('target-0-result');
    assert.deepEqual(got, want.target, 'the same search, step by step');
    assert.equal(left.bytes, want.bytes);
    assert.ok(Math.abs(left.bpp - 0.5) <= 0.01, `JPEG at ${left.bpp} bpp`);
    // The browser's WebP: within 2 % or, where its quality steps are coarser, said so.
    const webp = await report('target-1-result');
    assert.ok(webp.reached || webp.note, JSON.stringify(webp));
    if (webp.reached) assert.ok(Math.abs(right.bpp - 0.5) <= 0.01, `WebP at ${right.bpp} bpp`);
    // The size parameter's control is locked and shows the chosen value.
    assert.equal(await page.isDisabled('[data-testid=param-0-quality]'), true);
    assert.equal(Number(await page.inputValue('[data-testid=param-0-quality-number]')), want.target.value);
    console.log(`coffee.png at 0.5 bpp: JPEG quality ${got.value} → ${left.bpp.toFixed(4)} bpp (${(100 * got.relative_error).toFixed(2)} %, ${got.encodes} encodes); `
      + `browser WebP quality ${webp.value} → ${right.bpp.toFixed(4)} bpp (${(100 * webp.relative_error).toFixed(2)} %${webp.note ? `; ${webp.note}` : ''})`);
    await page.screenshot({ path: path.join(OUT, '62-target-image.png') });
  });

  await t.test('image: set by hand, the target is in the link, mpqlab run reproduces it, and off again', async () => {
    await markStale(page, 1);
    await page.selectOption('[data-testid=codec-1]', 'avif');
    // The target stays with the side when its codec changes.
    assert.equal(await page.isChecked('[data-testid=target-1-on]'), true);
    await page.selectOption('[data-testid=target-1-unit]', 'B');
    await page.fill('[data-testid=target-1-value]', '15000');
    await page.dispatchEvent('[data-testid=target-1-value]', 'change');
    await page.waitForFunction(() => location.hash.includes('rt=15000B'));
    const right = await sideResult(page, 1, 300_000);
    const link = await copyLink(page);
    // The right side's AVIF is the lab's default codec: only its target is written.
    assert.match(link, /&l=jpeg&lt=0\.5bpp&rt=15000B$/);
    const run = JSON.parse(cli('run', link));
    assert.equal(run.sides[1].report.bytes, right.bytes);
    assert.deepEqual(run.sides[1].target, await report('target-1-result'));
    console.log(`AVIF aimed at 15000 B: ${right.bytes} B, quality ${run.sides[1].params.quality}; mpqlab run ${link.slice(link.indexOf('#'))} gives the same`);
    await markStale(page, 1);
    await page.uncheck('[data-testid=target-1-on]');
    await page.waitForFunction(() => !location.hash.includes('rt='));
    await sideResult(page, 1, 300_000);
    assert.equal(await page.isDisabled('[data-testid=param-1-quality]'), false);
    assert.equal(await page.isHidden('[data-testid=target-1-result]'), true);
  });

  await t.test('image: a sweep at equal sizes, its points equal mpqlab sweep', async () => {
    for (const id of ['jpeg', 'avif', 'webp-ll-down', 'browser-jpeg', 'browser-webp']) {
      const box = page.locator(`[data-testid=sweep-use-${id}]`);
      if ((await box.isChecked()) !== ['jpeg', 'webp-ll-down'].includes(id)) await box.click();
    }
    await page.locator('[data-testid=sweep-spec-jpeg]').fill('jpeg:bpp=4,6');
    await page.locator('[data-testid=sweep-spec-webp-ll-down]').fill('webp-ll-down:bpp=2,4');
    await page.locator('[data-testid=sweep-items]').fill('40');
    await page.click('[data-testid=sweep-run]');
    await page.waitForFunction(() => ['done', 'stopped'].includes(document.querySelector('[data-testid=sweep-status]').dataset.state), null, { timeout: 300_000 });
    assert.equal(await page.getAttribute('[data-testid=sweep-status]', 'data-state'), 'done', await page.textContent('[data-testid=sweep-status]'));
    const json = JSON.parse(await page.getAttribute('[data-testid=sweep-status]', 'data-json'));
    const want = JSON.parse(cli('sweep', '--model', 'fashion-cnn', '--items', '40', '--codec', 'jpeg:bpp=4,6', '--codec', 'webp-ll-down:bpp=2,4'));
    assert.equal(json.points.length, 4);
    for (const [k, w] of want.points.entries()) {
      const p = json.points[k];
      assert.equal(p.codec, w.codec);
      assert.equal(p.param, 'bpp');
      assert.equal(p.bits_per_pixel, w.bits_per_pixel, `${w.codec} at ${w.value} bpp`);
      assert.equal(p.accuracy, w.accuracy, `${w.codec} at ${w.value} bpp`);
    }
    console.log(`equal-size sweep, 40 Fashion-MNIST items: ${json.points.map((p) => `${p.codec} @${p.value}: ${p.bits_per_pixel.toFixed(3)} bpp, ${(100 * p.accuracy).toFixed(1)} %`).join('; ')}`);
  });

  await t.test('audio: a link aims Opus and MDCT at 16 kbit/s, as mpqlab eval --target-kbps', async () => {
    await page.goto(URL_ + '#/audio?v=1&in=gallery:codec2-speech-16k&lt=16kbps&rt=16kbps');
    await ready(page);
    for (const [i, codec] of [[0, 'opus'], [1, 'mdct']]) {
      await page.waitForFunction((i) => document.querySelector(`[data-testid=au-stage-${i}]`)?.dataset.state === 'done'
        && document.querySelector(`[data-testid=au-metrics-${i}] [data-metric=bytes]`)
        && document.querySelector(`[data-testid=au-target-${i}-result]`)?.dataset.report, i, { timeout: 300_000 });
      const got = await report(`au-target-${i}-result`);
      const want = JSON.parse(cli('eval', CLIP, '-c', codec, '--target-kbps', '16'));
      assert.deepEqual(got, want.target, codec);
      const kbps = JSON.parse(await page.getAttribute(`[data-testid=au-metrics-${i}] [data-metric=kbps]`, 'data-value'));
      assert.ok(Math.abs(kbps - 16) <= 0.32, `${codec} at ${kbps} kbit/s`);
      console.log(`${codec} aimed at 16 kbit/s: bitrate ${got.value} → ${kbps.toFixed(3)} kbit/s (${(100 * got.relative_error).toFixed(2)} %, ${got.encodes} encodes)`);
    }
    assert.match(await copyLink(page), /lt=16kbps&rt=16kbps$/);
  });

  await t.test('no console errors', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
