// Every lab's exports open in their tools: the CSVs parse with their stated columns (and end
// with the provenance columns), the JSONs carry the experiment's link, mpqlab's version, the
// build and the crates' versions, and `mpqlab run LINK` reproduces the exported numbers; the
// PNGs (side by side, plots) decode (our CLI's PNG decoder, the png crate), the compressed
// outputs download with their extension and MIME type.
//
//   MPQ_URL=… MPQLAB_BIN=… node --test tests/e2e/exports.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { URL_, launch, cli, ready, sideResult, downloadFile, checkCsv, checkJson, pngSize } from './lib.mjs';

let context, page, consoleErrors;

before(async () => {
  ({ context, page, consoleErrors } = await launch({ webgpu: false }));
});

after(async () => {
  await context?.close();
});

/** Clicks `testid` and returns the download: its suggested name, path and bytes. */
const download = (testid) => downloadFile(page, testid);

test('exports in every lab open in their tools', { timeout: 1_200_000 }, async (t) => {
  await t.test('image lab: results CSV and JSON, side by side PNG, the stream, the sweep', async () => {
    await page.goto(URL_ + '#/image?v=1&in=gallery:coffee&l=jpeg:quality=30&r=webp-ll-down&rt=0.8bpp');
    await ready(page);
    const left = await sideResult(page, 0);
    const right = await sideResult(page, 1);
    const csv = checkCsv((await download('image-export-csv')).bytes, ['side', 'codec', 'report.bytes', 'report.psnr_rgb', 'verdict.kind'], 2);
    assert.deepEqual(csv.col('report.bytes').map(Number), [left.bytes, right.bytes]);
    const json = checkJson((await download('image-export-json')).bytes, 'comparison');
    assert.equal(json.result.sides.length, 2);
    // The link inside reproduces the numbers natively.
    const run = JSON.parse(cli('run', json.provenance.link));
    for (const i of [0, 1]) {
      assert.equal(run.sides[i].report.bytes, json.result.sides[i].report.bytes);
      assert.equal(run.sides[i].report.psnr_rgb, json.result.sides[i].report.psnr_rgb);
    }
    assert.deepEqual(run.sides[1].target, json.result.sides[1].target);
    const png = await download('image-export-png');
    assert.match(png.name, /^mpqlab-image-coffee-side-by-side\.png$/);
    const [w, h] = pngSize(png.file);
    assert.ok(w >= 2 * 600 && h >= 400, `side by side ${w}×${h}`);
    // The compressed stream: extension and MIME type (the blob's type).
    const a = page.locator('[data-testid=side-0] a.download');
    assert.match(await a.getAttribute('download'), /\.jpg$/);
    assert.equal(await a.getAttribute('type'), 'image/jpeg');
    const [d] = await Promise.all([page.waitForEvent('download'), a.click()]);
    const jpg = fs.readFileSync(await d.path());
    assert.equal(jpg.length, left.bytes);
    assert.deepEqual([...jpg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG stream');
    assert.equal(JSON.parse(cli('eval', await d.path(), '-c', 'png')).width, JSON.parse(cli('eval', 'www/gallery/coffee.png', '-c', 'png')).width, 'our decoder opens the downloaded JPEG');
    console.log(`image exports: CSV ${csv.header.length} columns, JSON link ${json.provenance.link.slice(json.provenance.link.indexOf('#'))}, side by side ${w}×${h}`);

    // The sweep's CSV/JSON/SVG/PNG.
    for (const id of ['jpeg', 'avif', 'webp-ll-down', 'browser-jpeg', 'browser-webp']) {
      const box = page.locator(`[data-testid=sweep-use-${id}]`);
      if ((await box.isChecked()) !== (id === 'jpeg')) await box.click();
    }
    await page.locator('[data-testid=sweep-spec-jpeg]').fill('jpeg:quality=10,50,90');
    await page.locator('[data-testid=sweep-items]').fill('50');
    await page.click('[data-testid=sweep-run]');
    await page.waitForFunction(() => document.querySelector('[data-testid=sweep-status]').dataset.state === 'done', null, { timeout: 300_000 });
    const scsv = checkCsv((await download('sweep-csv')).bytes, ['model', 'codec', 'param', 'value', 'bits_per_pixel', 'accuracy'], 3);
    const sjson = checkJson((await download('sweep-json')).bytes, 'sweep');
    assert.equal(sjson.result.points.length, 3);
    assert.deepEqual(scsv.col('accuracy').map(Number), sjson.result.points.map((p) => p.accuracy));
    await page.waitForSelector('[data-testid=sweep-png]:not([hidden])');
    const [pw, ph] = pngSize((await download('sweep-png')).file);
    assert.ok(pw > 600 && ph > 200, `plot ${pw}×${ph}`);
  });

  await t.test('audio lab: results, spectrograms side by side', async () => {
    await page.goto(URL_ + '#/audio');
    await ready(page);
    for (const i of [0, 1]) {
      await page.waitForFunction((i) => document.querySelector(`[data-testid=au-stage-${i}]`)?.dataset.state === 'done'
        && document.querySelector(`[data-testid=au-metrics-${i}] [data-metric=bytes]`), i, { timeout: 180_000 });
    }
    const csv = checkCsv((await download('au-export-csv')).bytes, ['side', 'codec', 'report.kbps', 'report.stoi', 'keywords.decoded'], 2);
    const json = checkJson((await download('au-export-json')).bytes, 'comparison');
    const run = JSON.parse(cli('run', json.provenance.link));
    assert.deepEqual(csv.col('report.bytes').map(Number), run.sides.map((s) => s.report.bytes));
    const [w, h] = pngSize((await download('au-export-png')).file);
    assert.ok(w >= 3 * 300 && h >= 384, `spectrograms ${w}×${h}`);
    console.log(`audio exports: ${csv.col('codec').join(', ')} at ${csv.col('report.kbps').map((k) => Number(k).toFixed(1)).join(', ')} kbit/s; spectrograms ${w}×${h}`);
  });

  await t.test('text lab: the codec table', async () => {
    await page.goto(URL_ + '#/text');
    await ready(page);
    // Every codec of the table and both sides done, and no job left (the sides' runs are results too).
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid=tx-table] tbody tr')];
      return rows.length >= 10 && rows.every((r) => r.dataset.bytes || r.dataset.error)
        && [0, 1].every((i) => document.querySelector(`[data-testid=tx-stage-${i}]`)?.dataset.state === 'done')
        && document.querySelector('[data-testid=tx-cancel]')?.hidden;
    }, null, { timeout: 300_000 });
    const json = checkJson((await download('tx-export-json')).bytes, 'codec-table');
    assert.match(json.result.input.sha256, /^[0-9a-f]{64}$/);
    const csv = checkCsv((await download('tx-export-csv')).bytes, ['codec', 'report.bytes', 'report.bits_per_byte'], json.result.codecs.length);
    assert.ok(json.result.codecs.length >= 10, `${json.result.codecs.length} codecs`);
    const gzip = json.result.codecs.find((c) => c.codec === 'gzip');
    const want = JSON.parse(cli('eval', 'www/gallery/text/doyle-scandal-in-bohemia.txt', '-c', 'gzip'));
    assert.equal(gzip.report.bytes, want.bytes);
    console.log(`text exports: ${csv.body.length} codecs, gzip ${gzip.report.bytes} B as mpqlab eval`);
  });

  await t.test('model lab: the formats table and its plot', async () => {
    await page.goto(URL_ + '#/model');
    await page.waitForSelector('[data-ready="1"]');
    await page.selectOption('[data-testid=lab-backend]', 'cpu');
    await page.locator('[data-testid=lab-items]').fill('100');
    await page.locator('[data-testid=lab-search]').uncheck();
    await page.click('[data-testid=lab-run]');
    await page.waitForFunction(() => document.querySelector('[data-testid=lab-status]').dataset.state === 'done', null, { timeout: 300_000 });
    const csv = checkCsv((await download('lab-export-csv')).bytes, ['variant', 'bits_per_weight', 'accuracy'], 6);
    const json = checkJson((await download('lab-export-json')).bytes, 'formats');
    assert.deepEqual(csv.col('variant'), json.result.rows.map((r) => r.variant));
    const [w, h] = pngSize((await download('lab-export-png')).file);
    console.log(`model exports: ${csv.col('variant').join(', ')}; plot ${w}×${h}`);
  });

  await t.test('no console errors', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
