// End-to-end test of the text lab, as a new user would use it, in Debian's Chromium driven by
// playwright-core: the first screen's codec table equals `mpqlab eval --all` (every stream
// decoded in the page and compared by hash), the surprisal view answers a hover, a pasted text
// travels in its link and gives the same numbers in a fresh browser, a file of invalid UTF-8 is
// shown with replacement marks, `lm` streams are the same bytes natively and in the page with 1
// and 3 workers (and decode across), a long run shows progress and is cancelled, the
// checkpoints' plot equals `mpqlab sweep --model lm --text … --cloze …`, and the hostile text
// streams get their reasons.
//
//   MPQ_URL=http://127.0.0.1:PORT/ MPQLAB_BIN=target/debug/mpqlab node --test tests/e2e/text_lab.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, OUT, URL_, launch, cli, ready, copyLink, downloadFile, checkCsv, checkJson, pngSize } from './lib.mjs';

let context, page, consoleErrors;
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

before(async () => {
  ({ context, page, consoleErrors } = await launch({ webgpu: false }));
});

after(async () => {
  await context?.close();
});

/** The codec table once every row has a result (bytes or an error). */
async function table(p = page, timeout = 300_000) {
  await p.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid=tx-table] tbody tr')];
    return rows.length >= 10 && rows.every((r) => r.dataset.bytes || r.dataset.error);
  }, null, { timeout });
  return p.evaluate(() => [...document.querySelectorAll('[data-testid=tx-table] tbody tr')].map((r) => ({
    codec: r.dataset.codec, bytes: r.dataset.bytes ? Number(r.dataset.bytes) : null, bpb: r.dataset.bpb ? JSON.parse(r.dataset.bpb) : null,
    roundTrip: r.dataset['roundTrip'] === 'true', error: r.dataset.error ?? null,
    encodeMs: Number(r.children[5]?.textContent.replace(/[^0-9.]/g, '')), cells: [...r.children].map((c) => c.textContent),
  })));
}

/** Waits for the text shown to be `bytes` long (its source line carries its size and hash). */
async function shownText(bytesLen, p = page) {
  await p.waitForFunction((n) => document.querySelector('[data-testid=tx-source]')?.dataset.bytes === String(n), bytesLen, { timeout: 60_000 });
}

/** The page's table equals `mpqlab eval FILE --all`, row by row, and every row round-trips. */
function sameAsCli(rows, file, what) {
  const want = JSON.parse(cli('eval', file, '--all'));
  assert.equal(rows.length, want.length, `${what}: rows`);
  for (const [k, w] of want.entries()) {
    const got = rows[k];
    assert.equal(got.codec, w.codec, `${what}: row ${k}`);
    assert.equal(got.error, null, `${what}: ${w.codec}: ${got.error}`);
    if (w.codec === 'lz4' && got.bytes !== w.bytes) {
      // lz4_flex finds matches by hashing 5 bytes on 64-bit targets and 4 on 32-bit ones
      // (wasm32): two valid LZ4 streams (both decode here and with `lz4 -d`), a little apart.
      assert.ok(Math.abs(got.bytes - w.bytes) < 0.03 * w.bytes, `${what}: lz4 ${got.bytes} B in the page, ${w.bytes} B natively`);
      console.log(`${what}: lz4 ${got.bytes} B in the page (wasm32), ${w.bytes} B natively (64-bit)`);
    } else {
      assert.equal(got.bytes, w.bytes, `${what}: ${w.codec} bytes`);
      assert.equal(got.bpb, w.bits_per_byte, `${what}: ${w.codec} bits per byte`);
    }
    assert.equal(got.roundTrip, true, `${what}: ${w.codec} round trip`);
  }
  return want;
}

/** The bytes behind a download link, downloaded as a user would (a click). */
async function downloaded(selector) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return fs.readFileSync(await download.path());
}

async function setWorkers(n) {
  await page.fill('[data-testid=tx-workers]', String(n));
}

/** Side i once it shows a result for its current settings. */
async function side(i, timeout = 300_000) {
  await page.waitForFunction((i) => document.querySelector(`[data-testid=tx-stage-${i}]`)?.dataset.state === 'done'
    && document.querySelector(`[data-testid=tx-metrics-${i}] [data-metric=bytes]`), i, { timeout });
  return page.evaluate((i) => {
    const m = document.querySelector(`[data-testid=tx-metrics-${i}]`);
    const num = (k) => JSON.parse(m.querySelector(`[data-metric=${k}]`).dataset.value);
    return { bytes: num('bytes'), bpb: num('bits_per_byte'), roundTrip: num('round_trip'), encodeMs: num('encode_ms'), decodeMs: num('decode_ms') };
  }, i);
}

/** Opens `file` through the file input and decompresses it in the page; its text's hash. */
async function decompressInPage(file, p = page) {
  await p.setInputFiles('[data-testid=tx-file]', file);
  await shownText(fs.statSync(file).size, p);
  await p.click('[data-testid=tx-decompress]');
  await p.waitForFunction(() => ['done', 'error'].includes(document.querySelector('#tx-stream-text')?.dataset.state), null, { timeout: 300_000 });
  return p.evaluate(() => {
    const s = document.querySelector('#tx-stream-text');
    return { state: s.dataset.state, sha256: s.dataset.sha256 ?? null, codec: s.dataset.codec ?? null, text: s.textContent };
  });
}

test('text lab: the codec table equals mpqlab eval --all, lm streams across page and CLI, surprisal, paste, cancel, plot', { timeout: 1_800_000 }, async (t) => {
  await page.goto(URL_ + '#/text');
  await ready(page);

  await t.test('the first screen: every codec on A Scandal in Bohemia, as mpqlab eval --all', async () => {
    const file = 'www/gallery/text/doyle-scandal-in-bohemia.txt';
    await shownText(fs.statSync(path.join(ROOT, file)).size);
    const rows = await table();
    const want = sameAsCli(rows, file, 'doyle');
    const lm = want.find((r) => r.codec === 'lm');
    for (const r of want) {
      if (r.codec !== 'lm') assert.ok(lm.bits_per_byte < r.bits_per_byte, `lm ${lm.bits_per_byte} < ${r.codec} ${r.bits_per_byte}`);
    }
    console.log(want.map((r) => `${r.codec} ${r.bits_per_byte.toFixed(3)}`).join(', '));
    // The chart: smallest first, the language model highlighted (and smallest here).
    const bars = await page.$$eval('[data-testid=tx-chart] .tx-bar', (b) => b.map((x) => ({ codec: x.dataset.codec, lm: x.classList.contains('lm') })));
    assert.equal(bars.length, 10);
    assert.deepEqual(bars[0], { codec: 'lm', lm: true });
    // The sides: ppmd and lm, the table's numbers.
    assert.equal((await side(0)).bytes, want.find((r) => r.codec === 'ppmd').bytes);
    assert.equal((await side(1)).bytes, lm.bytes);
  });

  await t.test('the surprisal view: coloured by cost, the guesses on hover', async () => {
    await page.waitForSelector('[data-testid=tx-surprisal][data-state=coloured] span', { timeout: 120_000 });
    const span = page.locator('[data-testid=tx-surprisal] span').nth(40);
    await span.hover();
    await page.waitForFunction(() => document.querySelector('[data-testid=tx-surprisal-info]').dataset.at === document.querySelectorAll('[data-testid=tx-surprisal] span')[40].dataset.at);
    const info = await page.textContent('[data-testid=tx-surprisal-info]');
    assert.match(info, /bits\. The network's guesses here: .+ \d+ %, .+ \d+ %, .+ \d+ %/);
    console.log(`hover: ${info}`);
  });

  await t.test('a pasted text: the table as the CLI, its link carries it, a fresh browser gives the same numbers', async () => {
    const text = 'Ünïcödé is text too — « and so is this », 日本語. '.repeat(12) + 'The end.\n';
    const file = path.join(OUT, 'text-paste.txt');
    fs.writeFileSync(file, text);
    await page.fill('[data-testid=tx-paste-text]', text);
    await page.click('[data-testid=tx-paste-use]');
    await shownText(Buffer.byteLength(text));
    const rows = await table();
    sameAsCli(rows, file, 'paste');
    const link = await copyLink(page);
    assert.match(link, /#\/text\?v=1&in=paste:/);
    const fresh = await launch({ webgpu: false });
    try {
      await fresh.page.goto(link);
      await ready(fresh.page);
      await shownText(Buffer.byteLength(text), fresh.page);
      const again = await table(fresh.page);
      assert.deepEqual(again.map((r) => [r.codec, r.bytes, r.roundTrip]), rows.map((r) => [r.codec, r.bytes, r.roundTrip]));
      assert.equal(await fresh.page.inputValue('[data-testid=tx-paste-text]'), text);
      assert.deepEqual(fresh.consoleErrors, []);
    } finally {
      await fresh.context.close();
    }
    // `mpqlab run LINK` reads the same experiment.
    const run = JSON.parse(cli('run', link));
    assert.equal(run.sides[1].report.bytes, rows.find((r) => r.codec === 'lm').bytes);
  });

  await t.test('invalid UTF-8 is shown with replacement marks, and still compressed', async () => {
    const bytes = Buffer.concat([Buffer.from('valid text, then bad bytes: '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' and valid again.\n'.repeat(30))]);
    const file = path.join(OUT, 'text-invalid-utf8.txt');
    fs.writeFileSync(file, bytes);
    await page.setInputFiles('[data-testid=tx-file]', file);
    await shownText(bytes.length);
    assert.match(await page.textContent('[data-testid=tx-source]'), /not valid UTF-8: 3 bytes shown as �/);
    assert.ok((await page.textContent('[data-testid=tx-surprisal]')).includes('\uFFFD'));
    sameAsCli(await table(), file, 'invalid UTF-8');
  });

  await t.test('lm streams: the same bytes natively and in the page with 1 and 3 workers, decoded across', async () => {
    const cases = [
      [1, 'www/gallery/text/udhr-fr.txt'],
      [3, 'www/gallery/text/udhr-de.txt'],
    ];
    for (const [workers, file] of cases) {
      await setWorkers(workers);
      const original = fs.readFileSync(path.join(ROOT, file));
      await page.setInputFiles('[data-testid=tx-file]', path.join(ROOT, file));
      await shownText(original.length);
      // Chunks of 4 KiB: many per worker.
      await page.selectOption('[data-testid=tx-codec-0]', 'lm');
      await page.fill('[data-testid=tx-param-0-chunk-number]', '4');
      const got = await side(0);
      assert.equal(got.roundTrip, true);
      const stream = await downloaded('#tx-side-0 a.download');
      const nativeOut = path.join(OUT, `text-native-${workers}.mplm`);
      cli('compress', file, '-c', 'lm:chunk=4', '-o', nativeOut);
      const native = fs.readFileSync(nativeOut);
      assert.equal(stream.length, got.bytes);
      assert.equal(sha(stream), sha(native), `${file}: the page's stream (${workers} workers) equals mpqlab compress's`);
      // The page's stream decodes natively…
      const pageStream = path.join(OUT, `text-page-${workers}.mplm`);
      fs.writeFileSync(pageStream, stream);
      const back = path.join(OUT, `text-page-${workers}.txt`);
      fs.rmSync(back, { force: true });
      cli('decompress', pageStream, '-o', back);
      assert.equal(sha(fs.readFileSync(back)), sha(original));
      // …and the native stream decodes in the page.
      const d = await decompressInPage(nativeOut);
      assert.equal(d.state, 'done', d.text);
      assert.equal(d.sha256, sha(original), `${file}: decoded in the page with ${workers} workers`);
      console.log(`${file}: ${got.bytes} B lm stream, identical natively and with ${workers} worker(s); decodes both ways`);
    }
    await page.selectOption('[data-testid=tx-codec-0]', 'ppmd');
  });

  await t.test('the held-out sample: progress in kB/s, cancel, then its speed in this page', async () => {
    await setWorkers(3);
    const file = 'www/gallery/text/heldout-sample.txt';
    const size = fs.statSync(path.join(ROOT, file)).size;
    // A slower checkpoint on the right, so a long lm run is there to cancel.
    await page.selectOption('[data-testid=tx-codec-1]', 'lm');
    await page.selectOption('[data-testid=tx-param-1-model]', 'gru256-e1');
    await page.click('[data-testid=tx-gallery-heldout-sample]');
    await shownText(size);
    // 105 kB in chunks of 64 KiB: two chunks, two workers encoding.
    await page.waitForFunction(() => /^lm: encoding [0-9.]+ KB of 105\.1 KB — [0-9.]+ kB\/s, 2 workers$/.test(document.querySelector('[data-testid=tx-status]').textContent)
      && Number(document.querySelector('[data-testid=tx-status]').dataset.done) > 0, null, { timeout: 120_000 });
    const progress = await page.textContent('[data-testid=tx-status]');
    await page.click('[data-testid=tx-cancel]');
    await page.waitForFunction(() => document.querySelector('[data-testid=tx-stage-1]').dataset.state === 'error'
      && document.querySelector('[data-testid=tx-stage-1]').textContent.includes('cancelled'), null, { timeout: 60_000 });
    console.log(`cancelled during "${progress}"`);
    // The rest of the table still comes, the default lm among it.
    const rows = await table();
    const lm = rows.find((r) => r.codec === 'lm');
    assert.equal(lm.roundTrip, true);
    const want = JSON.parse(cli('eval', file, '-c', 'lm'));
    assert.equal(lm.bytes, want.bytes);
    // Speed: the default checkpoint's encode and decode in this page, scaled to 150 kB.
    await page.selectOption('[data-testid=tx-param-1-model]', 'gru256-e3');
    const r = await side(1);
    const perSecond = (ms) => size / ms;
    console.log(`lm gru256-e3 in the page, 3 workers: encode ${perSecond(r.encodeMs).toFixed(1)} kB/s, decode ${perSecond(r.decodeMs).toFixed(1)} kB/s `
      + `(${(r.encodeMs / 1000).toFixed(1)} s and ${(r.decodeMs / 1000).toFixed(1)} s for ${size} B; native: ${want.encode_ms.toFixed(0)} / ${want.decode_ms.toFixed(0)} ms)`);
    assert.ok(r.encodeMs * 150_000 / size <= 60_000 && r.decodeMs * 150_000 / size <= 60_000, '150 kB within 60 s each way');
  });

  await t.test('compression vs intelligence: the plot equals mpqlab sweep --model lm --text --cloze', async () => {
    await page.click('[data-testid=tx-plot-run]');
    await page.waitForSelector('[data-testid=tx-plot-status][data-state=done]', { timeout: 600_000 });
    const got = await page.$$eval('[data-testid=tx-plot-table] tbody tr', (rows) => rows.map((r) => ({ model: r.dataset.model, bpb: Number(r.dataset.bpb), cloze: Number(r.dataset.cloze) })));
    const want = JSON.parse(cli('sweep', '--model', 'lm', '--text', 'www/gallery/text/heldout-sample.txt', '--cloze', 'www/gallery/text/cloze-heldout.json'));
    assert.deepEqual(got, want.points.map((p) => ({ model: p.model, bpb: p.bits_per_byte, cloze: p.cloze_accuracy })));
    const r = JSON.parse(await page.getAttribute('[data-testid=tx-plot]', 'data-r'));
    assert.ok(Math.abs(r - want.pearson_r) < 1e-12);
    assert.ok(await page.isVisible('[data-testid=tx-plot] svg'));
    // Its exports: the points as CSV and as the CLI's JSON, the plot as SVG and a PNG that decodes.
    const csv = checkCsv((await downloadFile(page, 'tx-plot-export-csv')).bytes, ['model', 'bits_per_byte', 'cloze_accuracy'], want.points.length);
    assert.deepEqual(csv.col('bits_per_byte').map(Number), want.points.map((p) => p.bits_per_byte));
    const doc = checkJson((await downloadFile(page, 'tx-plot-export-json')).bytes, 'checkpoints');
    const { pearson_r: exportedR, ...exported } = doc.result;
    const { pearson_r: wantR, ...wanted } = want;
    assert.deepEqual(exported, wanted);
    assert.ok(Math.abs(exportedR - wantR) < 1e-12);
    assert.match((await downloadFile(page, 'tx-plot-export-svg')).bytes.toString('utf8'), /^<svg/);
    const [pw, ph] = pngSize((await downloadFile(page, 'tx-plot-export-png')).file);
    assert.ok(pw > 400 && ph > 200, `${pw}×${ph}`);
    console.log(`plot: ${got.map((p) => `${p.model} ${p.bpb.toFixed(4)} bpb / cloze ${p.cloze.toFixed(3)}`).join('; ')}; r = ${r.toFixed(3)}`);
  });

  await t.test('hostile streams get their reasons when decompressed in the page', async () => {
    const cases = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/hostile/cases.json'), 'utf8')).text;
    for (const c of cases.filter((c) => c.expect === 'refused')) {
      const file = path.join(ROOT, 'tests/hostile/files', c.file);
      if (fs.statSync(file).size === 0) {
        // An empty file is refused as it is opened, before any codec sees it.
        await page.setInputFiles('[data-testid=tx-file]', file);
        await page.waitForSelector('#error:not([hidden])');
        assert.match(await page.textContent('[data-testid=error-text]'), /the file is empty/);
        await page.click('#error-close');
        continue;
      }
      const d = await decompressInPage(file);
      assert.equal(d.state, 'error', `${c.file}: ${d.text}`);
      assert.match(d.text, new RegExp(c.message), c.file);
      console.log(`${c.file}: "${d.text}"`);
    }
    assert.deepEqual(consoleErrors, []);
  });
});
