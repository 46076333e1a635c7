// The hostile-input suite (tests/hostile/) through the page, as a user would meet it: each
// file opened through the file input is refused with its reason in the banner, opens, or opens
// with a visible warning of what was lost (cases.json; the CLI gets the same files in
// crates/cli/tests/hostile.rs). The page stays usable and logs no error of its own.
//
//   MPQ_URL=http://127.0.0.1:PORT/ node --test tests/e2e/hostile.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, URL_, launch, ready, sideResult, markStale } from './lib.mjs';

const DIR = path.join(ROOT, 'tests/hostile');
const cases = JSON.parse(fs.readFileSync(path.join(DIR, 'cases.json'), 'utf8')).images;

test('every hostile file gets its answer in the page, and the page stays usable', { timeout: 600_000 }, async () => {
  const { context, page, consoleErrors } = await launch({ webgpu: false });
  try {
    await page.goto(URL_);
    await ready(page);
    await sideResult(page, 0);
    let shown = await page.textContent('[data-testid=source-info]');
    for (const base of cases) {
      // A case may answer differently in the page (another decoder: see its note).
      const c = { ...base, ...(base.page || {}) };
      const file = path.join(DIR, 'files', c.file);
      await page.setInputFiles('[data-testid=file-input]', file);
      if (c.expect === 'refused') {
        await page.waitForSelector('#error:not([hidden])', { timeout: 60_000 });
        const msg = await page.textContent('[data-testid=error-text]');
        assert.ok(msg.startsWith(`Could not open ${c.file}: `), `${c.file}: ${msg}`);
        assert.match(msg, new RegExp(c.message), c.file);
        // What was shown before stays, and says so.
        assert.equal(await page.textContent('[data-testid=source-info]'), shown, c.file);
        await page.click('#error-close');
        console.log(`${c.file}: "${msg}"`);
        continue;
      }
      const want = `${c.file} — ${c.size[0]}×${c.size[1]}`;
      await page.waitForFunction((w) => document.querySelector('[data-testid=source-info]').textContent.startsWith(w), want, { timeout: 120_000 });
      shown = await page.textContent('[data-testid=source-info]');
      const warning = page.locator('[data-testid=input-warning]');
      if (c.expect === 'warning') {
        assert.equal(await warning.isVisible(), true, `${c.file}: no warning shown`);
        const text = await warning.textContent();
        assert.match(text, new RegExp(c.message), c.file);
        console.log(`${c.file}: opens with "${text}"`);
      } else {
        assert.equal(await warning.isVisible(), false, c.file);
        console.log(`${c.file}: opens (${shown})`);
      }
      assert.equal(await page.isHidden('#error'), true, `${c.file}: ${await page.textContent('#error-text')}`);
    }
    // Still usable: a gallery photo opens and both sides are compressed.
    await markStale(page, 0); await markStale(page, 1);
    await page.click('[data-testid=gallery-coffee]');
    assert.ok((await sideResult(page, 0)).bytes > 0);
    assert.ok((await sideResult(page, 1, 240_000)).bytes > 0);
    assert.equal(await page.isVisible('[data-testid=input-warning]'), false, 'the warning went with its file');
    assert.deepEqual(consoleErrors, []);
  } finally {
    await context.close();
  }
});
