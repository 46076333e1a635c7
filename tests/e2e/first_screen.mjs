// The first screen, measured (a benchmark, not a test): in a fresh headless Chromium profile per
// run, the time from navigation to the first contentful paint, to both sides showing a result
// (the first comparison), and to both sides showing the model's verdict (a usable model), and
// the bytes transferred for it (response bodies as sent, the page's and its workers').
//
//   node tests/e2e/first_screen.mjs URL [RUNS] > first-screen.json
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [url, runsArg = '3'] = process.argv.slice(2);
const runs = Number(runsArg);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };

async function once() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mpq-first-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.MPQ_CHROMIUM || '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 950 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await context.newPage();
    const transfers = [];
    context.on('requestfinished', async (req) => {
      try {
        const s = await req.sizes();
        transfers.push({ url: req.url().replace(url, ''), body: s.responseBodySize, headers: s.responseHeadersSize });
      } catch { /* the page went away */ }
    });
    const t0 = Date.now();
    await page.goto(url);
    const sides = (what) => page.waitForFunction((what) => [0, 1].every((i) => {
      const stage = document.querySelector(`[data-testid=stage-${i}]`);
      const done = stage && stage.textContent === 'done';
      if (what === 'result') return done && document.querySelector(`[data-testid=metrics-${i}] [data-metric=bytes]`);
      return done && document.querySelector(`[data-testid=perception-${i}] .timing`);
    }), what, { timeout: 300_000, polling: 20 });
    await sides('result');
    const comparison = Date.now() - t0;
    await sides('verdict');
    const model = Date.now() - t0;
    const paint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
    const ready = await page.evaluate(() => {
      const e = document.querySelector('#app-status[data-ready="1"]');
      return e ? performance.now() : null;
    });
    await page.waitForTimeout(300);
    const bytes = transfers.reduce((a, t) => a + t.body + t.headers, 0);
    return { first_contentful_paint_ms: paint, first_comparison_ms: comparison, usable_model_ms: model, bytes, requests: transfers.length, transfers, ready_ms: ready };
  } finally {
    await context.close();
  }
}

const all = [];
for (let k = 0; k < runs; k++) all.push(await once());
const summary = Object.fromEntries(['first_contentful_paint_ms', 'first_comparison_ms', 'usable_model_ms', 'bytes', 'requests']
  .map((k) => [k, median(all.map((r) => r[k]))]));
process.stdout.write(JSON.stringify({ url, runs, median: summary, runs_detail: all.map(({ transfers, ...r }) => r), transfers: all[0].transfers }, null, 1) + '\n');
