// The page runs under a strict Content-Security-Policy (scripts/csp.mjs puts it into the built
// page), and nothing from a file name, a link or a worker is ever parsed as HTML.
//
//   MPQ_URL=http://127.0.0.1:PORT/ node --test tests/e2e/security.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, URL_, launch, ready, sideResult, markStale } from './lib.mjs';

const XSS = '<img src=x onerror=alert(1)>';

test('a strict CSP is active, and hostile names are shown as text', { timeout: 300_000 }, async () => {
  const { context, page, consoleErrors } = await launch({ webgpu: false });
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  try {
    await page.goto(URL_);
    await ready(page);
    await sideResult(page, 0);

    const policy = await page.getAttribute('meta[http-equiv=Content-Security-Policy]', 'content');
    console.log(`policy: ${policy}`);
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    assert.doesNotMatch(policy, /'unsafe-inline'|'unsafe-eval'|https?:|\*/);

    // The policy is enforced: an injected inline script and an inline event handler are
    // refused, and the browser reports each violation. (eval cannot be probed from here:
    // DevTools' own evaluation is exempt; the policy above has no 'unsafe-eval'.)
    const probe = await page.evaluate(() => new Promise((resolve) => {
      const seen = [];
      document.addEventListener('securitypolicyviolation', (e) => seen.push(e.effectiveDirective));
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.head.append(s);
      const d = document.createElement('div');
      d.innerHTML = '<img src="blob:nothing" onerror="window.__handler = 1">';
      document.body.append(d);
      setTimeout(() => resolve({ inline: window.__inline ?? null, handler: window.__handler ?? null, seen }), 500);
    }));
    console.log(`violations reported: ${probe.seen.join(', ')}`);
    assert.equal(probe.inline, null, 'an inline script ran');
    assert.equal(probe.handler, null, 'an inline event handler ran');
    assert.ok(probe.seen.filter((d) => d.startsWith('script-src')).length >= 2, JSON.stringify(probe.seen));
    // Those refusals are logged as console errors by the browser: the probe's, not the page's.
    consoleErrors.length = 0;

    // A file whose name is markup: shown as text wherever the name appears.
    const photo = fs.readFileSync(path.join(ROOT, 'tests/fixtures/metrics/astronaut_noise_a.png'));
    await markStale(page, 0);
    await page.setInputFiles('[data-testid=file-input]', { name: `${XSS}.png`, mimeType: 'image/png', buffer: photo });
    await page.waitForFunction((n) => document.querySelector('[data-testid=source-info]').textContent.startsWith(n), `${XSS}.png — 256×192`);
    await sideResult(page, 0);
    assert.ok((await page.getAttribute('[data-testid=side-0] a.download', 'download')).startsWith(XSS), 'the download keeps the name');
    // A damaged file of such a name: the message names it, as text.
    await page.setInputFiles('[data-testid=file-input]', { name: `${XSS}2.png`, mimeType: 'image/png', buffer: photo.subarray(0, 500) });
    await page.waitForSelector('#error:not([hidden])');
    assert.ok((await page.textContent('[data-testid=error-text]')).startsWith(`Could not open ${XSS}2.png:`));
    assert.equal(await page.locator('img[src=x]').count(), 0, 'no element was made from a name');
    await page.waitForTimeout(300);
    assert.deepEqual(dialogs, [], 'no script ran');
    assert.deepEqual(consoleErrors, []);
  } finally {
    await context.close();
  }
});
