// The first screen, measured (a benchmark, not a test): in a fresh headless Chromium profile per
// run, the time from navigation to the first contentful paint, to both sides showing a result
// (the first comparison), and to both sides showing the model's verdict (a usable model), and
// the bytes transferred for it (response bodies as sent, the page's and its workers').
//
//   node tests/e2e/first_screen.mjs URL [RUNS] [MBIT] > first-screen.json
//
// MBIT throttles the download to that many Mbit/s (Chromium's network emulation, for the page
// and its workers), as on a shared classroom Wi-Fi; without it, loopback speed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [url, runsArg = '3', mbitArg] = process.argv.slice(2);
const mbit = mbitArg ? Number(mbitArg) : null;
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
    if (mbit) {
      const cdp = await context.newCDPSession(page);
      const conditions = { offline: false, latency: 20, downloadThroughput: (mbit * 1e6) / 8, uploadThroughput: (mbit * 1e6) / 8 };
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', conditions);
      // Workers are targets of their own: throttle them the same way.
      page.on('worker', async (w) => {
        try {
          const ws = await context.newCDPSession(w);
          await ws.send('Network.enable');
          await ws.send('Network.emulateNetworkConditions', conditions);
        } catch { /* older Chromium: workers share the page's conditions */ }
      });
    }
    const transfers = [];
    context.on('requestfinished', async (req) => {
      try {
        const s = await req.sizes();
        transfers.push({ url: req.url().replace(url, ''), body: s.responseBodySize, headers: s.responseHeadersSize });
      } catch { /* the page went away */ }
    });
    // When the page became usable: #app-status gets data-ready (old and new page alike).
    await page.addInitScript(() => {
      new MutationObserver((_, obs) => {
        const e = document.getElementById('app-status');
        if (e && e.dataset.ready === '1') { window.__mpqReadyMs = performance.now(); obs.disconnect(); }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
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
    // When the page was usable (the shell and the lab painted from the UI module) and when the
    // worker module was compiled (the new page only; the old one had no such moments).
    const ready = await page.evaluate(() => window.__mpqReadyMs ?? null);
    const workerReady = await page.evaluate(() => Number(document.querySelector('[data-testid=worker-status]')?.dataset.readyMs) || null);
    await page.waitForTimeout(300);
    const bytes = transfers.reduce((a, t) => a + t.body + t.headers, 0);
    return { first_contentful_paint_ms: paint, first_comparison_ms: comparison, usable_model_ms: model, bytes, requests: transfers.length, transfers, ui_ready_ms: ready, worker_module_ready_ms: workerReady };
  } finally {
    await context.close();
  }
}

const all = [];
for (let k = 0; k < runs; k++) all.push(await once());
const summary = Object.fromEntries(['first_contentful_paint_ms', 'ui_ready_ms', 'worker_module_ready_ms', 'first_comparison_ms', 'usable_model_ms', 'bytes', 'requests']
  .map((k) => [k, median(all.map((r) => r[k]))]));
process.stdout.write(JSON.stringify({ url, runs, mbit, median: summary, runs_detail: all.map(({ transfers, ...r }) => r), transfers: all[0].transfers }, null, 1) + '\n');
