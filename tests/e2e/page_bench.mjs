// Runs a lab's timing table in headless Chromium and prints its rows as JSON.
//   node tests/e2e/page_bench.mjs URL [RUNS] [image|audio]       (used by scripts/bench.sh)
// The audio lab's table runs with WebGPU on (the keyword model is timed there too).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [url, runs = '3', lab = 'image'] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mpq-bench-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.MPQ_CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', lab === 'audio' ? '--enable-unsafe-webgpu' : '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await context.newPage();
  const prefix = lab === 'audio' ? 'au-bench' : 'bench';
  await page.goto(`${url}?runs=${runs}${lab === 'audio' ? '#/audio' : ''}`);
  await page.waitForSelector('#app-status[data-ready="1"]');
  await page.click(`[data-testid=${prefix}-run]`);
  await page.waitForFunction((p) => ['done', 'stopped'].includes(document.querySelector(`[data-testid=${p}-status]`).dataset.state), prefix, { timeout: 1_800_000 });
  process.stdout.write(await page.textContent(`[data-testid=${prefix}-json]`) + '\n');
} finally {
  await context.close();
}
