// Draws www/icon-192.png and www/icon-512.png (the web app manifest's icons) from www/icon.svg
// with Debian's Chromium, so the PNGs always show the SVG. Run by hand after changing the SVG:
//   node scripts/icons.mjs
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const www = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../www');
const svg = fs.readFileSync(path.join(www, 'icon.svg'), 'utf8');
const browser = await chromium.launch({ executablePath: process.env.MPQ_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
for (const size of [192, 512]) {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`);
  await page.screenshot({ path: path.join(www, `icon-${size}.png`), omitBackground: true });
  await page.close();
}
await browser.close();
