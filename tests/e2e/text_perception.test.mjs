// End-to-end test of the text lab's machine-perception panels, in Debian's Chromium driven by
// playwright-core: a German sentence is German to several codecs' NCD with the neighbours of
// `mpqlab classify`, the panel's link opens in a fresh browser with the same neighbours (and
// `mpqlab run LINK` gives them too); a method's accuracy over the bundled split, measured in
// the page's workers, equals `mpqlab classify --eval` (and its speed is logged beside the
// native one); the lossy panel marks the dropped words and judges the rest as `mpqlab run`
// does, and its sweep equals `mpqlab sweep --model lossy-text`; the log panel shows what the
// log codec found in the access log, beside zstd -19 and xz -9.
//
//   MPQ_URL=http://127.0.0.1:PORT/ MPQLAB_BIN=target/debug/mpqlab node --test tests/e2e/text_perception.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, OUT, URL_, launch, cli, ready, copyLink, downloadFile, checkCsv, checkJson, pngSize } from './lib.mjs';

let context, page;

before(async () => {
  ({ context, page } = await launch({ webgpu: false }));
});

after(async () => {
  await context?.close();
});

const GERMAN = 'Wer nicht wagt, der nicht gewinnt. Morgen fahren wir mit dem Zug nach Berlin.';

/** The classifier panel's answer once it is for `method` (label and neighbours). */
async function classified(p, method, timeout = 300_000) {
  await p.waitForFunction((m) => {
    const r = document.querySelector('[data-testid=tx-clf-result]');
    return r?.dataset.label && r.dataset.method === m;
  }, method, { timeout });
  return p.evaluate(() => ({
    label: document.querySelector('[data-testid=tx-clf-result]').dataset.label,
    neighbours: [...document.querySelectorAll('[data-testid=tx-clf-neighbours] tbody tr')].map((r) => ({ label: r.dataset.label, distance: Number(r.dataset.distance) })),
  }));
}

async function setRange(p, selector, value) {
  await p.$eval(selector, (e, v) => {
    e.value = String(v);
    e.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

test('text lab perception: classifier, accuracy, lossy text, the log codec', { timeout: 1_800_000 }, async (t) => {
  await page.goto(URL_ + '#/text');
  await ready(page);
  const sentence = path.join(OUT, 'german-sentence.txt');
  fs.writeFileSync(sentence, GERMAN);

  let link;
  await t.test('a German sentence is German to several codecs, with mpqlab classify\'s neighbours', async () => {
    await page.fill('[data-testid=tx-clf-query]', GERMAN);
    await page.click('[data-testid=tx-clf-run]');
    const german = [];
    for (const method of ['gzip', 'zstd', 'bzip2', 'ppmd']) {
      await page.selectOption('[data-testid=tx-clf-method]', method);
      const got = await classified(page, method);
      const want = JSON.parse(cli('classify', sentence, '--task', 'lang', '-c', method)).results[0];
      assert.equal(got.label, want.label, method);
      assert.deepEqual(got.neighbours, want.neighbours.map((n) => ({ label: n.label, distance: n.distance })), `${method}: the neighbours`);
      if (got.label === 'de') german.push(method);
      console.log(`${method}: ${got.label}; neighbours ${got.neighbours.map((n) => `${n.label} ${n.distance.toFixed(3)}`).join(', ')}`);
    }
    assert.ok(german.length >= 2, `German to ${german.join(', ')}`);
    // The baseline too (no neighbours).
    await page.selectOption('[data-testid=tx-clf-method]', 'ngram');
    assert.equal((await classified(page, 'ngram:3')).label, 'de');
    await page.selectOption('[data-testid=tx-clf-method]', 'zstd');
    await classified(page, 'zstd');
    link = await copyLink(page);
    assert.match(link, /clf=zstd/);
    assert.match(link, /q=/);
  });

  await t.test('the panel\'s link: the same neighbours in a fresh browser and in mpqlab run', async () => {
    const here = await classified(page, 'zstd');
    const fresh = await launch({ webgpu: false });
    try {
      await fresh.page.goto(link);
      await ready(fresh.page);
      assert.equal(await fresh.page.inputValue('[data-testid=tx-clf-query]'), GERMAN);
      assert.deepEqual(await classified(fresh.page, 'zstd'), here);
      assert.deepEqual(fresh.consoleErrors, []);
    } finally {
      await fresh.context.close();
    }
    const run = JSON.parse(cli('run', link));
    assert.equal(run.classify.result.label, here.label);
    assert.deepEqual(run.classify.result.neighbours.map((n) => ({ label: n.label, distance: n.distance })), here.neighbours);
  });

  await t.test('accuracy over the bundled split in the workers equals mpqlab classify --eval; its speed', async () => {
    const speeds = [];
    for (const [task, method] of [['lang', 'gzip'], ['lang', 'lz4'], ['lang', 'ngram'], ['dna', 'brotli']]) {
      await page.selectOption('[data-testid=tx-clf-task]', task);
      await page.selectOption('[data-testid=tx-clf-method]', method);
      await page.click('[data-testid=tx-clf-eval]');
      await page.waitForFunction((m) => document.querySelector(`[data-testid=tx-clf-accuracy] tr[data-method="${m}"]`)
        && document.querySelector('[data-testid=tx-clf-eval-status]').dataset.state === 'done', method, { timeout: 600_000 });
      const row = await page.$eval(`[data-testid=tx-clf-accuracy] tr[data-method="${method}"]`, (r) => ({ accuracy: Number(r.dataset.accuracy), perSecond: Number(r.dataset.perSecond) }));
      const want = JSON.parse(cli('classify', '--eval', '--task', task, '-c', method)).results[0];
      if (method === 'lz4') {
        // lz4_flex hashes 4 bytes on wasm32 and 5 on 64-bit targets: on records of a few
        // hundred bytes the 4-byte matches it finds in the page change many distances (its
        // accuracy here is far from the CLI's: both are logged, neither is the other's check).
        assert.ok(row.accuracy > 2 / 11 && want.accuracy > 2 / 11, `lz4: ${row.accuracy} in the page, ${want.accuracy} natively`);
      } else {
        assert.equal(row.accuracy, want.accuracy, `${task} ${method}`);
      }
      const confusion = await page.$eval('[data-testid=tx-clf-confusion]', (c) => ({ method: c.dataset.method, rows: c.querySelectorAll('tr').length }));
      assert.deepEqual(confusion, { method, rows: want.confusion.labels.length + 1 });
      speeds.push(`${task} ${method}: top-1 ${row.accuracy.toFixed(3)}, ${row.perSecond.toFixed(1)}/s in the page (${await page.inputValue('[data-testid=tx-workers]')} workers) vs ${want.classifications_per_second.toFixed(1)}/s natively (${want.threads} threads)`);
    }
    console.log(speeds.join('\n'));
    await page.selectOption('[data-testid=tx-clf-task]', 'lang');
  });

  await t.test('lossy text: dropped words marked, the verdicts as mpqlab run', async () => {
    await setRange(page, '[data-testid=tx-lossy-keep]', 8);
    await page.selectOption('[data-testid=tx-lossy-strategy]', 'predictable');
    await page.waitForFunction(() => document.querySelector('[data-testid=tx-lossy-status]').dataset.state === 'done'
      && document.querySelector('[data-testid=tx-lossy-info]').dataset.kept, null, { timeout: 120_000 });
    assert.equal(await page.textContent('[data-testid=tx-lossy-keep-value]'), '0.40');
    const got = await page.$eval('[data-testid=tx-lossy-info]', (i) => ({ kept: Number(i.dataset.kept), original: i.dataset.labelOriginal, after: i.dataset.labelKept, top1: JSON.parse(i.dataset.top1) }));
    const dropped = await page.$$eval('[data-testid=tx-lossy-text] del', (d) => d.length);
    assert.ok(dropped > 50, `${dropped} words struck through`);
    const l = await copyLink(page);
    assert.match(l, /keep=0.4/);
    const run = JSON.parse(cli('run', l)).lossy.view;
    assert.deepEqual(got, { kept: run.kept_bytes, original: run.label_original, after: run.label_kept, top1: run.lm_top1_agreement });
    assert.ok(run.kept_bytes <= 0.4 * run.prefix_len);
    console.log(`lossy at 0.4 (predictable): kept ${run.kept_bytes} of ${run.prefix_len} B, language ${run.label_original} → ${run.label_kept}, next-byte top-1 ${run.lm_top1_agreement.toFixed(3)}, KL ${run.lm_kl_bits.toFixed(3)} bits`);
  });

  await t.test('lossy text aimed at the lm coder\'s bytes: the fraction searched, as mpqlab run', async () => {
    await page.locator('[data-testid=tx-lossy-target-on]').check();
    await page.locator('[data-testid=tx-lossy-target-value]').fill('300');
    await page.locator('[data-testid=tx-lossy-target-value]').dispatchEvent('change');
    await page.waitForSelector('[data-testid=tx-lossy-target-result][data-report]', { timeout: 120_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=tx-lossy-status]').dataset.state === 'done');
    const report = JSON.parse(await page.getAttribute('[data-testid=tx-lossy-target-result]', 'data-report'));
    assert.equal(report.param, 'keep %');
    assert.ok(Math.abs(report.bytes - 300) <= 0.05 * 300 || report.between, JSON.stringify(report));
    assert.equal(await page.isDisabled('[data-testid=tx-lossy-keep]'), true, 'the slider is set by the target');
    assert.equal(await page.textContent('[data-testid=tx-lossy-keep-value]'), (report.value / 100).toFixed(2));
    const kept = Number(await page.getAttribute('[data-testid=tx-lossy-info]', 'data-kept'));
    const l = await copyLink(page);
    assert.match(l, /kt=300B/);
    const run = JSON.parse(cli('run', l)).lossy;
    assert.deepEqual(run.target, report);
    assert.equal(run.view.kept_bytes, kept);
    console.log(`lossy aimed at 300 B of lm code: keep ${report.value} %, ${report.bytes} B (${(100 * report.relative_error).toFixed(1)} %), ${report.encodes} encodes; kept ${kept} B`);
    // Off again: the slider is back.
    await page.locator('[data-testid=tx-lossy-target-on]').uncheck();
    await page.waitForFunction(() => !document.querySelector('[data-testid=tx-lossy-keep]').disabled);
    await page.waitForFunction(() => document.querySelector('[data-testid=tx-lossy-status]').dataset.state === 'done');
  });

  await t.test('the lossy sweep equals mpqlab sweep --model lossy-text', async () => {
    const started = Date.now();
    await page.click('[data-testid=tx-lossy-sweep]');
    await page.waitForFunction(() => document.querySelector('[data-testid=tx-lossy-sweep-status]').dataset.state === 'done', null, { timeout: 900_000 });
    const seconds = (Date.now() - started) / 1000;
    const got = await page.$$eval('[data-testid=tx-lossy-table] tbody tr', (rows) => rows.map((r) => ({
      strategy: r.dataset.strategy, fraction: Number(r.dataset.fraction), kept_bytes: Number(r.dataset.kept), bits_per_byte: JSON.parse(r.dataset.bpb),
      lang_agreement: JSON.parse(r.dataset.lang), lm_top1_agreement: JSON.parse(r.dataset.top1), lm_kl_bits: JSON.parse(r.dataset.kl),
    })));
    const want = JSON.parse(cli('sweep', '--model', 'lossy-text'));
    assert.equal(got.length, want.points.length);
    for (const [k, w] of want.points.entries()) {
      const g = got[k];
      const what = `${w.strategy} ${w.fraction}`;
      assert.deepEqual([g.strategy, g.fraction, g.lang_agreement, g.lm_top1_agreement], [w.strategy, w.fraction, w.lang_agreement, w.lm_top1_agreement], what);
      assert.ok(Math.abs(g.kept_bytes - w.kept_bytes) < 1e-12, what);
      // Sums of base-2 logarithms: the library's log2 may differ in the last bit between wasm and x86.
      assert.ok(Math.abs(g.bits_per_byte - w.bits_per_byte) < 1e-9 && Math.abs(g.lm_kl_bits - w.lm_kl_bits) < 1e-9, what);
    }
    assert.ok(await page.isVisible('[data-testid=tx-lossy-plot] svg'));
    // Its exports: the CLI's CSV columns and JSON points, the plot as SVG and a PNG that decodes.
    const csv = checkCsv((await downloadFile(page, 'tx-lossy-export-csv')).bytes, ['strategy', 'fraction', 'kept_bytes', 'lang_agreement', 'lm_top1_agreement'], want.points.length);
    assert.deepEqual(csv.col('strategy'), want.points.map((w) => w.strategy));
    const doc = checkJson((await downloadFile(page, 'tx-lossy-export-json')).bytes, 'lossy-text-sweep');
    assert.deepEqual(doc.result.points.map((q) => [q.strategy, q.fraction, q.lang_agreement]), want.points.map((w) => [w.strategy, w.fraction, w.lang_agreement]));
    const svg = await downloadFile(page, 'tx-lossy-export-svg');
    assert.match(svg.name, /^mpqlab-text-lossy-sweep\.svg$/);
    assert.match(svg.bytes.toString('utf8'), /^<svg/);
    const [pw, ph] = pngSize((await downloadFile(page, 'tx-lossy-export-png')).file);
    assert.ok(pw > 400 && ph > 200, `${pw}×${ph}`);
    console.log(`lossy sweep in the page: ${got.length} points in ${seconds.toFixed(0)} s; ≥ 90 % language-ID agreement down to: ${await page.getAttribute('[data-testid=tx-lossy-plot]', 'data-lowest')}`);
  });

  await t.test('the log panel: templates and columns of the access log, beside zstd -19 and xz -9', async () => {
    const file = 'www/gallery/text/logs/http-access.log';
    const want = JSON.parse(cli('eval', file, '-c', 'logs'));
    await page.click('[data-testid=tx-gallery-log-http-access]');
    await page.waitForFunction((n) => document.querySelector('[data-testid=tx-source]')?.dataset.bytes === String(n), fs.statSync(path.join(ROOT, file)).size, { timeout: 60_000 });
    // The findings must be this text's (the hash the panel names is the shown text's), not the last one's.
    await page.waitForFunction(() => document.querySelector('[data-testid=tx-logs-info]').dataset.sha256 === document.querySelector('[data-testid=tx-source]').dataset.sha256
      && [...document.querySelectorAll('[data-testid=tx-logs-sizes] tbody tr')].filter((r) => r.dataset.bytes).length === 4, null, { timeout: 300_000 });
    const sizes = await page.$$eval('[data-testid=tx-logs-sizes] tbody tr', (rows) => Object.fromEntries(rows.map((r) => [r.dataset.codec, Number(r.dataset.bytes)])));
    assert.equal(sizes.logs, want.bytes);
    assert.equal(await page.getAttribute('[data-testid=tx-logs-info]', 'data-layout'), want.structure.layout);
    assert.ok(sizes.logs < sizes['zstd -19'] && sizes.logs < sizes['xz -9'], JSON.stringify(sizes));
    const templates = await page.$$eval('[data-testid=tx-logs-templates] tbody tr', (rows) => rows.map((r) => r.dataset.template));
    assert.equal(templates[0], want.structure.top_templates[0].template);
    assert.ok(await page.$('[data-testid=tx-logs-columns] tr[data-kind=integers]'));
    // Its exports: the four sizes as CSV, and as JSON with the structure mpqlab eval reports.
    const csv = checkCsv((await downloadFile(page, 'tx-logs-export-csv')).bytes, ['codec', 'bytes', 'bits_per_byte'], 4);
    assert.deepEqual(Object.fromEntries(csv.body.map((r) => [r[csv.header.indexOf('codec')], Number(r[csv.header.indexOf('bytes')])])), sizes);
    const doc = checkJson((await downloadFile(page, 'tx-logs-export-json')).bytes, 'log-structure');
    // The page lists the 12 most used templates, the CLI 10: the same structure otherwise.
    const { top_templates: pageTop, ...pageRest } = doc.result.structure;
    const { top_templates: cliTop, ...cliRest } = want.structure;
    assert.deepEqual(pageRest, cliRest);
    assert.deepEqual(pageTop.slice(0, cliTop.length), cliTop);
    assert.equal(doc.result.bytes, want.bytes);
    console.log(`access log: logs ${sizes.logs} B, zstd -19 ${sizes['zstd -19']} B, xz -9 ${sizes['xz -9']} B, gzip ${sizes['gzip -6']} B (${want.structure.layout}, ${want.structure.backend})`);
  });
});
