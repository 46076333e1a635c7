// Experiment links, as people share them: an experiment built by clicking opens in a fresh
// browser with every setting and number equal; a user-file link asks for the file, refuses
// another and accepts the right one; back and forward walk through experiment states; every
// committed link of every released version opens; hostile links get a message and leave the
// page usable. `mpqlab run LINK` prints the page's numbers for the same links.
//
//   MPQ_URL=http://127.0.0.1:PORT/ MPQLAB_BIN=target/debug/mpqlab node --test tests/e2e/links.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, OUT, URL_, launch, cli, sideResult, markStale, setNumber, imageSettings, copyLink, ready, dragSplit } from './lib.mjs';

const FILE = path.join(ROOT, 'tests/fixtures/metrics/astronaut_noise_a.png');
const OTHER_FILE = path.join(ROOT, 'tests/fixtures/metrics/astronaut_noise_b.png');

/** Opens `link` in a fresh browser; returns the context, page and collected errors. */
async function openFresh(link, options) {
  const b = await launch(options);
  const dialogs = [];
  b.page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await b.page.goto(link);
  await ready(b.page);
  return { ...b, dialogs };
}

function close(a, b, tol, what) {
  if (a === null || b === null) { assert.equal(a, b, what); return; }
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

/** The page's numbers for one side against `mpqlab run`'s. */
function sameAsCli(pageSide, cliSide, what) {
  assert.equal(pageSide.bytes, cliSide.report.bytes, `${what} bytes`);
  for (const [k, c] of [['bpp', 'bits_per_pixel'], ['psnr', 'psnr_rgb'], ['psnrY', 'psnr_y'], ['ssim', 'ssim'], ['msssim', 'ms_ssim']]) {
    close(pageSide[k], cliSide.report[c], 1e-12, `${what} ${c}`);
  }
  // The model's f32 outputs come from other SIMD kernels natively (AVX vs simd128): ~1e-7.
  const v = cliSide.verdict;
  close(pageSide.feature, v.kind === 'classes' ? v.verdict.feature_distance : v.feature_distance, 1e-4, `${what} feature distance`);
  if (v.kind === 'classes') {
    close(pageSide.kl, v.verdict.kl, 1e-4, `${what} KL`);
    assert.equal(pageSide.changed, !v.verdict.top1_agree, `${what} answer changed`);
  }
}

test('an experiment built by clicking opens elsewhere with the same settings and numbers', { timeout: 600_000 }, async () => {
  const a = await launch();
  try {
    const { page } = a;
    await page.goto(URL_);
    await ready(page);
    await sideResult(page, 0); await sideResult(page, 1);
    await markStale(page, 0); await markStale(page, 1);
    await page.click('[data-testid=gallery-coffee]');
    await page.selectOption('[data-testid=codec-0]', 'jpeg');
    await setNumber(page, 'param-0-quality', 12);
    await page.selectOption('[data-testid=codec-1]', 'webp-ll-down');
    await setNumber(page, 'param-1-scale', 40);
    await page.selectOption('[data-testid=model]', 'fashion-cnn-jpeg');
    // The split dragged to about 30 %, then the view zoomed in twice with the keyboard.
    await dragSplit(page, 0.3, 6);
    await page.focus('[data-testid=viewer]');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    const left = await sideResult(page, 0);
    const right = await sideResult(page, 1);
    const settings = await imageSettings(page);
    assert.equal(settings.model, 'fashion-cnn-jpeg');
    assert.match(settings.source, /coffee\.png — 600×400/);
    assert.notEqual(settings.zoom, 'fit');
    const link = await copyLink(page);
    const fragment = link.slice(link.indexOf('#'));
    console.log(`typical link (${fragment.length} characters): ${fragment}`);
    assert.ok(fragment.length < 200, `${fragment.length} characters`);
    await page.waitForFunction(() => /\(\d+ characters\)/.test(document.querySelector('[data-testid=copy-status]').textContent));

    const b = await openFresh(link);
    try {
      const left2 = await sideResult(b.page, 0);
      const right2 = await sideResult(b.page, 1);
      assert.deepEqual(await imageSettings(b.page), settings);
      assert.deepEqual(left2, left);
      assert.deepEqual(right2, right);
      assert.equal(await b.page.isHidden('#error'), true, 'no message for a good link');
      await b.page.screenshot({ path: path.join(OUT, '30-link-opened.png') });
      assert.deepEqual(b.consoleErrors, []);
    } finally {
      await b.context.close();
    }

    // The same link natively.
    const native = JSON.parse(cli('run', link));
    assert.equal(native.link, fragment);
    sameAsCli(left, native.sides[0], 'left');
    sameAsCli(right, native.sides[1], 'right');
    fs.writeFileSync(path.join(OUT, 'run-typical-link.json'), JSON.stringify(native, null, 1));

    // Back and forward walk through the experiment states.
    await markStale(page, 0);
    await page.click('[data-testid=gallery-chelsea]');
    await page.waitForFunction(() => document.querySelector('[data-testid=source-info]').textContent.startsWith('chelsea.png'));
    await sideResult(page, 0);
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('[data-testid=source-info]').textContent.startsWith('coffee.png'));
    assert.deepEqual((await imageSettings(page)).sides, settings.sides);
    await page.goBack(); // the zoom before the last '+'
    await page.waitForFunction((z) => document.querySelector('[data-testid=zoom-level]').dataset.zoom !== z, settings.zoom);
    await page.goForward();
    await page.waitForFunction((z) => document.querySelector('[data-testid=zoom-level]').dataset.zoom === z, settings.zoom);
    await page.goForward();
    await page.waitForFunction(() => document.querySelector('[data-testid=source-info]').textContent.startsWith('chelsea.png'));
    // Further back, to the codec settings being made.
    for (let k = 0; k < 5; k++) await page.goBack();
    const early = await imageSettings(page);
    assert.notDeepEqual(early.sides, settings.sides, 'going back undoes the codec settings');
    assert.deepEqual(a.consoleErrors, []);
  } finally {
    await a.context.close();
  }
});

test('a user-file link asks for the file, refuses another, accepts the right one', { timeout: 600_000 }, async () => {
  const a = await launch({ webgpu: false });
  let link, left, right;
  try {
    await a.page.goto(URL_);
    await ready(a.page);
    await a.page.setInputFiles('[data-testid=file-input]', FILE);
    await a.page.waitForFunction(() => document.querySelector('[data-testid=source-info]').textContent.includes('astronaut_noise_a.png — 256×192'));
    await markStale(a.page, 0); await markStale(a.page, 1);
    await a.page.selectOption('[data-testid=codec-1]', 'qoi');
    await setNumber(a.page, 'param-0-quality', 30);
    left = await sideResult(a.page, 0);
    right = await sideResult(a.page, 1);
    link = await copyLink(a.page);
    const fragment = link.slice(link.indexOf('#'));
    console.log(`user-file link (${fragment.length} characters): ${fragment}`);
    assert.match(fragment, /in=file:33f1d86f[0-9a-f]{56}:85567:astronaut_noise_a\.png/);
  } finally {
    await a.context.close();
  }
  const b = await openFresh(link, { webgpu: false });
  try {
    const { page } = b;
    await page.waitForSelector('[data-testid=needs-file]:not([hidden])');
    const asks = await page.textContent('[data-testid=needs-file-text]');
    assert.match(asks, /astronaut_noise_a\.png \(85\.6 KB, SHA-256 33f1d86fccd5…\)/);
    await page.setInputFiles('[data-testid=needed-file-input]', OTHER_FILE);
    await page.waitForSelector('#error:not([hidden])');
    assert.match(await page.textContent('[data-testid=error-text]'), /astronaut_noise_b\.png is not the file this experiment was made with/);
    assert.equal(await page.isVisible('[data-testid=needs-file]'), true, 'still asking');
    await page.setInputFiles('[data-testid=needed-file-input]', FILE);
    const left2 = await sideResult(page, 0);
    const right2 = await sideResult(page, 1);
    assert.deepEqual(left2, left);
    assert.deepEqual(right2, right);
    assert.equal(await page.isHidden('[data-testid=needs-file]'), true);
    assert.deepEqual(b.consoleErrors, []);
  } finally {
    await b.context.close();
  }
  const native = JSON.parse(cli('run', link, '--file', FILE));
  sameAsCli(left, native.sides[0], 'left');
  sameAsCli(right, native.sides[1], 'right');
  assert.throws(() => cli('run', link, '--file', OTHER_FILE), /is not the file this link was made with/);
});

test('every committed link of every released version opens', { timeout: 900_000 }, async () => {
  const files = fs.readdirSync(path.join(ROOT, 'tests/links')).filter((f) => /^v\d+\.json$/.test(f));
  assert.ok(files.length >= 1);
  const b = await launch();
  try {
    const { page } = b;
    for (const f of files) {
      for (const entry of JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/links', f), 'utf8'))) {
        const t0 = Date.now();
        await page.goto('about:blank');
        await page.goto(URL_ + entry.link);
        await ready(page);
        const exp = entry.experiment;
        assert.equal(await page.isHidden('#error'), true, `${entry.link}: ${await page.textContent('#error-text')}`);
        // The page writes the link back as this version writes it (the current form).
        await page.waitForFunction((want) => location.hash === want || (want === '' && location.hash === '#/image'), entry.fragment);
        if (exp.lab === 'image') {
          const s = await imageSettings(page);
          assert.deepEqual(s.sides.map((x) => x.codec), exp.sides.map((x) => x.codec), entry.link);
          assert.equal(s.model, exp.model);
          if (exp.input.kind === 'file') {
            await page.waitForSelector('[data-testid=needs-file]:not([hidden])');
          } else {
            await sideResult(page, 0, 300_000);
            await sideResult(page, 1, 300_000);
          }
          if (exp.sweep.run) {
            await page.waitForFunction(() => document.querySelector('[data-testid=sweep-status]').dataset.state === 'done', null, { timeout: 600_000 });
            const json = JSON.parse(await page.getAttribute('[data-testid=sweep-status]', 'data-json'));
            assert.equal(json.items, exp.sweep.items);
          }
        } else if (exp.lab === 'audio') {
          await page.waitForSelector('[data-testid=au-codec-1]:not([disabled])');
          for (const [i, side] of exp.sides.entries()) {
            assert.equal(await page.inputValue(`[data-testid=au-codec-${i}]`), side.codec, entry.link);
            await page.waitForFunction((i) => document.querySelector(`[data-testid=au-stage-${i}]`).dataset.state === 'done', i, { timeout: 300_000 });
          }
          if (exp.input.kind === 'item') {
            assert.match(await page.textContent('[data-testid=au-source]'), new RegExp(`^keyword test window ${exp.input.index} — 1\\.00 s, 16000 Hz, mono, true class: `));
          }
        }
        // A side's target size (lt, rt) is on in its field, and the search reports how near it got.
        if (exp.lab === 'image' || exp.lab === 'audio') {
          for (const [i, sideSpec] of exp.sides.entries()) {
            if (!sideSpec.target) continue;
            const prefix = exp.lab === 'image' ? `target-${i}` : `au-target-${i}`;
            assert.equal(await page.isChecked(`[data-testid=${prefix}-on]`), true, `${entry.link}: side ${i}'s target`);
            await page.waitForSelector(`[data-testid=${prefix}-result][data-report]`, { timeout: 300_000 });
          }
        }
        if (exp.lab === 'text') {
          await page.waitForSelector('[data-testid=tx-codec-1]:not([disabled])');
          for (const [i, side] of exp.sides.entries()) {
            assert.equal(await page.inputValue(`[data-testid=tx-codec-${i}]`), side.codec, entry.link);
            await page.waitForFunction((i) => document.querySelector(`[data-testid=tx-stage-${i}]`).dataset.state === 'done', i, { timeout: 300_000 });
          }
          // The perception panels' settings, and the classifier's answer when the link has a text.
          assert.equal(await page.inputValue('[data-testid=tx-clf-task]'), exp.classify?.task ?? 'lang', entry.link);
          if (exp.lossy?.target) {
            // Aimed for a size: the field is on, the search reports, the slider shows its choice.
            assert.equal(await page.isChecked('[data-testid=tx-lossy-target-on]'), true, entry.link);
            await page.waitForSelector('[data-testid=tx-lossy-target-result][data-report]', { timeout: 300_000 });
            const r = JSON.parse(await page.getAttribute('[data-testid=tx-lossy-target-result]', 'data-report'));
            assert.equal(await page.textContent('[data-testid=tx-lossy-keep-value]'), (r.value / 100).toFixed(2), entry.link);
          } else {
            assert.equal(await page.textContent('[data-testid=tx-lossy-keep-value]'), ((exp.lossy?.keep_twentieths ?? 14) / 20).toFixed(2), entry.link);
          }
          if (exp.classify?.query) {
            assert.equal(await page.inputValue('[data-testid=tx-clf-method]'), exp.classify.method, entry.link);
            await page.waitForFunction(() => document.querySelector('[data-testid=tx-clf-result]').dataset.label, null, { timeout: 300_000 });
          }
        } else if (exp.lab === 'model') {
          assert.equal(await page.inputValue('[data-testid=lab-model]'), exp.model);
          if (exp.run) {
            await page.waitForFunction(() => document.querySelector('[data-testid=lab-status]').dataset.state === 'done', null, { timeout: 600_000 });
          }
          if (exp.target) {
            assert.equal(await page.isChecked('[data-testid=lab-target-on]'), true, entry.link);
            if (exp.run) await page.waitForSelector('[data-testid=lab-target-result][data-report]');
          }
        }
        console.log(`${f}: ${entry.link.slice(0, 90)}${entry.link.length > 90 ? '…' : ''} — ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
    }
    assert.deepEqual(b.consoleErrors, []);
  } finally {
    await b.context.close();
  }
});

test('hostile links get a clear message and leave the page usable', { timeout: 600_000 }, async () => {
  const good = '#/image?v=1&in=gallery:coffee&l=jpeg:quality=10';
  const xss = '<img src=x onerror=alert(1)>';
  const cases = [
    { name: 'truncated', link: '#/image?v=1&in=gallery:coffee&l=jpeg:quality=1%2', want: /cannot be opened: the setting l: it ends in a broken %-escape/ },
    { name: 'cut mid-key', link: '#/image?v=1&in=gallery:coffee&l', want: /cannot be opened: 'l' is not key=value/ },
    { name: '100 KB long', link: `#/image?v=1&l=jpeg:quality=${'9'.repeat(100_000)}`, want: /cannot be opened: the link is 100,?0\d\d characters long; links are at most 8192/ },
    { name: 'newer version', link: '#/image?v=9&l=jpeg', want: /made by a newer mpqlab \(link version 9\)/ },
    { name: 'unknown lab with markup', link: `#/${encodeURIComponent(xss)}?v=1`, want: /there is no lab called '<img src=x onerror=alert\(1\)>'/ },
    { name: 'tampered compressed part', link: '#/image?v=1&z=bc5RDoMgEATQ2_i1ksVoYyEcBurW0CBSVkp6', want: /compressed part of the link is damaged/ },
    { name: 'unknown codec', link: '#/image?v=1&l=jpeg2000', want: /there is no codec 'jpeg2000'; the defaults are used instead/ },
  ];
  const b = await launch({ webgpu: false });
  const dialogs = [];
  b.page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  try {
    const { page } = b;
    for (const c of cases) {
      await page.goto('about:blank');
      await page.goto(URL_ + c.link);
      await ready(page);
      await page.waitForSelector('#error:not([hidden])');
      const msg = await page.textContent('[data-testid=error-text]');
      assert.match(msg, c.want, `${c.name}: ${msg}`);
      // Still usable: a photo opens and is compressed.
      await page.click('#error-close');
      await markStale(page, 0);
      await page.click('[data-testid=gallery-chelsea]');
      const r = await sideResult(page, 0);
      assert.ok(r.bytes > 0, c.name);
      console.log(`${c.name}: "${msg.slice(0, 140)}"`);
    }
    // Markup in a file name from a link is shown as text, never parsed.
    await page.goto('about:blank');
    const named = `#/image?v=1&in=file:${'ab'.repeat(32)}:1000:${encodeURIComponent(xss + '.png')}`;
    await page.goto(URL_ + named);
    await ready(page);
    await page.waitForSelector('[data-testid=needs-file]:not([hidden])');
    assert.ok((await page.textContent('[data-testid=needs-file-text]')).includes(xss + '.png'));
    assert.equal(await page.locator('img[src=x]').count(), 0, 'no element was made from the name');
    assert.equal(await page.evaluate(() => location.hash.includes('%3Cimg')), true);
    await page.waitForTimeout(300);
    assert.deepEqual(dialogs, [], 'no script ran');
    assert.deepEqual(b.consoleErrors, []);
    // A good link after all that still opens.
    await page.goto(URL_ + good);
    await ready(page);
    const r = await sideResult(page, 0);
    assert.ok(r.bytes > 0);
  } finally {
    await b.context.close();
  }
});
