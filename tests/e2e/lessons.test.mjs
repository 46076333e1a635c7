// Lessons: every lesson opened from the list, every step's link followed, every claim checked —
// by the page (its ✓) and here, independently: the test reads each named number from the page
// itself, compares it with what the page used, evaluates the claim's condition as JavaScript
// (its syntax is JavaScript's), and for the image and audio steps compares the sides' bytes
// with `mpqlab run` of the same link. Then presenter mode by keyboard, a lesson link, and the
// projector's 1280×720 first screen of each lab (screenshots in tests/out/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, ready, URL_, ROOT, OUT, cli } from './lib.mjs';

const LESSONS = JSON.parse(fs.readFileSync(path.join(ROOT, 'www/lessons.json'), 'utf8'));

let context, page, consoleErrors;

before(async () => {
  ({ context, page, consoleErrors } = await launch({ webgpu: false }));
});

after(async () => {
  await context?.close();
});

/** Reads a named number of `lab` from the page as the lessons file defines it. */
async function readAll(lab, names) {
  return page.evaluate(([specs, names]) => {
    const out = {};
    for (const n of names) {
      const spec = specs[n];
      const at = spec.lastIndexOf(' @');
      const e = document.querySelector(spec.slice(0, at).trim());
      const attr = spec.slice(at + 2).trim();
      if (!e) continue;
      const raw = attr === 'text' ? e.textContent : e.getAttribute(attr);
      if (raw === null) continue;
      let v;
      try { v = JSON.parse(raw); } catch { v = raw; }
      if (v === null) continue;
      if (typeof v === 'object') v = raw;
      out[n] = v;
    }
    return out;
  }, [LESSONS.readings[lab].values, names]);
}

/** The names a condition reads (as the page's parser takes them: dotted words). */
function namesOf(check) {
  const noStrings = check.replace(/'[^']*'/g, "''");
  return [...new Set([...noStrings.matchAll(/[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/g)].map((m) => m[0])
    .filter((n) => !['abs', 'min', 'max', 'true', 'false'].includes(n)))];
}

/** The condition evaluated by JavaScript with `values`. */
function evaluate(check, values) {
  const names = namesOf(check);
  let js = check;
  // Longest names first, so `left.p` never replaces inside `left.psnr`.
  for (const n of [...names].sort((a, b) => b.length - a.length)) {
    js = js.replace(new RegExp(`(?<![A-Za-z0-9_.])${n.replace(/\./g, '\\.')}(?![A-Za-z0-9_.])`, 'g'), `__v[${JSON.stringify(n)}]`);
  }
  // eslint-disable-next-line no-new-func
  return Function('__v', 'abs', 'min', 'max', `return (${js});`)(values, Math.abs, Math.min, Math.max);
}

async function waitChecked(lesson, step, timeout = 600_000) {
  await page.waitForSelector(`[data-testid=lesson-bar][data-lesson="${lesson}"][data-step="${step}"][data-state=checked]`, { timeout });
}

test('lessons: every lesson, every step, every claim holds on the page\'s numbers', { timeout: 3_000_000 }, async (t) => {
  await page.goto(URL_);
  await ready(page);

  await t.test('the list has a lesson for every lab', async () => {
    await page.click('[data-testid=lessons-open]');
    await page.waitForSelector(`[data-testid=lessons-list][data-count="${LESSONS.lessons.length}"]`);
    const cards = await page.locator('[data-testid=lessons-list] li').evaluateAll((lis) => lis.map((li) => li.dataset.lesson));
    assert.deepEqual(cards, LESSONS.lessons.map((l) => l.id));
    const labs = await page.locator('[data-testid^=tab-]').evaluateAll((ts) => ts.map((t) => t.dataset.testid.slice(4)));
    for (const lab of labs) assert.ok(LESSONS.lessons.some((l) => l.lab === lab), `no lesson for the ${lab} lab`);
    // The dialog is modal and the first Start button has the focus: Escape closes it.
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), `lesson-start-${LESSONS.lessons[0].id}`);
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('[data-testid=lessons]').open);
  });

  for (const lesson of LESSONS.lessons) {
    await t.test(`lesson “${lesson.title}”`, async () => {
      await page.click('[data-testid=lessons-open]');
      await page.click(`[data-testid=lesson-start-${lesson.id}]`);
      for (let s = 0; s < lesson.steps.length; s++) {
        const step = lesson.steps[s];
        await waitChecked(lesson.id, s + 1);
        const url = new URL(page.url());
        assert.equal(url.searchParams.get('lesson'), lesson.id);
        assert.equal(url.searchParams.get('step'), String(s + 1));
        assert.ok(url.hash.startsWith(`#/${lesson.lab}`), url.hash);
        assert.equal(await page.getAttribute(`[data-testid=tab-${lesson.lab}]`, 'aria-selected'), 'true');
        const claims = await page.locator('[data-testid=lesson-claims] li').evaluateAll((lis) =>
          lis.map((li) => ({ state: li.dataset.state, check: li.dataset.check, values: JSON.parse(li.dataset.values || '{}'), text: li.textContent })));
        assert.deepEqual(claims.map((c) => c.check), step.claims.map((c) => c.check));
        for (const c of claims) {
          const names = namesOf(c.check);
          const mine = await readAll(lesson.lab, names);
          assert.deepEqual(mine, c.values, `${c.check}: the page used other numbers than it shows`);
          assert.equal(Object.keys(mine).length, names.length, `${c.check}: not every number is on the page`);
          assert.equal(evaluate(c.check, mine), true, `${lesson.id} step ${s + 1}: “${c.text}” does not hold: ${JSON.stringify(mine)}`);
          assert.equal(c.state, 'holds', c.text);
        }
        if (lesson.lab === 'image' || lesson.lab === 'audio') {
          const native = JSON.parse(cli('run', step.link));
          const bytes = await readAll(lesson.lab, ['left.bytes', 'right.bytes']);
          assert.deepEqual([bytes['left.bytes'], bytes['right.bytes']], native.sides.map((x) => x.report.bytes), 'the page and mpqlab run differ');
        }
        console.log(`${lesson.id} step ${s + 1}: ${claims.map((c) => c.text.trim()).join(' | ')}`);
        if (s + 1 < lesson.steps.length) {
          // As a presenter would: a key (→ with nothing focused, or a remote's PageDown).
          await page.evaluate(() => document.activeElement?.blur());
          await page.keyboard.press(s % 2 === 0 ? 'ArrowRight' : 'PageDown');
        }
      }
      assert.equal(await page.isDisabled('[data-testid=lesson-next]'), true);
      await page.click('[data-testid=lesson-close]');
      assert.equal(await page.isHidden('[data-testid=lesson-bar]'), true);
      assert.equal(new URL(page.url()).search, '');
    });
  }
  assert.deepEqual(consoleErrors, []);
});

test('presenter mode by keyboard, from a lesson link', { timeout: 600_000 }, async () => {
  const lesson = LESSONS.lessons.find((l) => l.steps.length >= 2);
  await page.goto(`${URL_}?runs=4&lesson=${lesson.id}&step=2`);
  await ready(page);
  await waitChecked(lesson.id, 2);
  assert.equal(await page.isDisabled('[data-testid=lesson-prev]'), false);
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press('p');
  await page.waitForFunction(() => document.body.classList.contains('presenter'));
  assert.equal(await page.getAttribute('[data-testid=lesson-present]', 'aria-pressed'), 'true');
  assert.ok(new URL(page.url()).searchParams.has('present'));
  // The address's other settings stay beside the lesson's.
  assert.equal(new URL(page.url()).searchParams.get('runs'), '4');
  // A reload (or the link) reopens the lesson in presenter mode, at its step.
  await page.reload();
  await ready(page);
  await waitChecked(lesson.id, 2);
  assert.ok(await page.evaluate(() => document.body.classList.contains('presenter')));
  await page.evaluate(() => document.activeElement?.blur());
  const size = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('[data-testid=lesson-text]')).fontSize));
  assert.ok(size >= 24, `presenter text is ${size}px`);
  // The galleries fold for the room (at 1000 px they start open).
  assert.equal(await page.evaluate(() => [...document.querySelectorAll('details.picker')].filter((d) => d.open).length), 0);
  await page.screenshot({ path: path.join(OUT, '45-presenter.png') });
  await page.keyboard.press('PageUp');
  await waitChecked(lesson.id, 1);
  assert.equal(await page.isDisabled('[data-testid=lesson-prev]'), true);
  // The previous step's claims are checked again on its own numbers.
  const states = await page.locator('[data-testid=lesson-claims] li').evaluateAll((lis) => lis.map((li) => li.dataset.state));
  assert.ok(states.length > 0 && states.every((s) => s === 'holds'), states.join());
  await page.keyboard.press('PageDown');
  await waitChecked(lesson.id, 2);
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.body.classList.contains('presenter'));
  // A key typed into a field is the field's: ← in a number box does not change the step.
  assert.equal(lesson.lab, 'image');
  await page.focus('[data-testid=sweep-items]');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'sweep-items');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('PageUp');
  await page.waitForTimeout(500);
  assert.equal(await page.getAttribute('[data-testid=lesson-bar]', 'data-step'), '2');
  assert.deepEqual(consoleErrors, []);
});

test('at a projector\'s 1280×720 each lab shows both sides\' results on load', { timeout: 900_000 }, async () => {
  const { context: c2, page: p, consoleErrors: errs } = await launch({ webgpu: false, viewport: { width: 1280, height: 720 } });
  try {
    const labs = {
      image: { done: (i) => `[data-testid=stage-${i}][data-state=done]`, parts: (i) => [`[data-testid=stage-${i}]`, `[data-testid=metrics-${i}] [data-metric=bytes]`, `[data-testid=metrics-${i}] [data-metric=psnr_rgb]`, `[data-testid=perception-${i}] [data-metric=feature_distance]`] },
      audio: { done: (i) => `[data-testid=au-stage-${i}][data-state=done]`, parts: (i) => [`[data-testid=au-flag-${i}]`, `[data-testid=au-metrics-${i}] [data-metric=bytes]`, `[data-testid=au-metrics-${i}] [data-metric=kbps]`] },
      text: { done: (i) => `[data-testid=tx-stage-${i}][data-state=done]`, parts: (i) => [`[data-testid=tx-stage-${i}]`, `[data-testid=tx-metrics-${i}] [data-metric=bytes]`, `[data-testid=tx-metrics-${i}] [data-metric=bits_per_byte]`] },
    };
    for (const [lab, w] of Object.entries(labs)) {
      await p.goto(`${URL_}#/${lab}`);
      await ready(p);
      for (const i of [0, 1]) await p.waitForSelector(w.done(i), { timeout: 300_000 });
      const boxes = await p.evaluate((sels) => sels.map((s) => {
        const e = document.querySelector(s);
        if (!e) return { s, missing: true };
        const b = e.getBoundingClientRect();
        return { s, top: Math.round(b.top), bottom: Math.round(b.bottom), left: Math.round(b.left), right: Math.round(b.right) };
      }), [0, 1].flatMap((i) => w.parts(i)));
      await p.screenshot({ path: path.join(OUT, `46-fold-${lab}-1280x720.png`) });
      console.log(`${lab} at 1280×720: ${boxes.map((b) => `${b.s} ${b.top}–${b.bottom}`).join('; ')}`);
      for (const b of boxes) {
        assert.ok(!b.missing, `${lab}: ${b.s} is not on the page`);
        assert.ok(b.top >= 0 && b.bottom <= 720 && b.left >= 0 && b.right <= 1280, `${lab}: ${b.s} is outside the first screen (${b.top}–${b.bottom})`);
      }
      assert.equal(await p.evaluate(() => window.scrollY), 0);
    }
    assert.deepEqual(errs, []);
  } finally {
    await c2.close();
  }
});
