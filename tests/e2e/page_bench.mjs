// Runs the page's timing table in headless Chromium and prints its rows as JSON.
//   node tests/e2e/page_bench.mjs URL [RUNS]        (used by scripts/bench.sh)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [url, runs = '3'] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mpq-bench-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.MPQ_CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await context.newPage();
  await page.goto(`${url}?runs=${runs}`);
  await page.waitForSelector('#app-status[data-ready="1"]');
  await page.click('[data-testid=bench-run]');
  await page.waitForFunction(() => ['done', 'stopped'].includes(document.querySelector('[data-testid=bench-status]').dataset.state), null, { timeout: 1_800_000 });
  process.stdout.write(await page.textContent('[data-testid=bench-json]') + '\n');
} finally {
  await context.close();
}
