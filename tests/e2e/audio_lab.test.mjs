// End-to-end test of the audio lab, as a new user would use it, in Debian's Chromium driven by
// playwright-core: the first screen's two sides equal `mpqlab eval`, a clip picked from the
// gallery with two other codecs, A/B playback switching at the same position, a recording
// through Chromium's fake microphone (a WAV file of ours), a small sweep whose points equal
// `mpqlab sweep --model kws-cnn`, and the hostile audio files refused with their reasons.
//
//   MPQ_URL=http://127.0.0.1:PORT/ MPQLAB_BIN=target/debug/mpqlab node --test tests/e2e/audio_lab.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, OUT, URL_, launch, cli, ready, copyLink } from './lib.mjs';

const MIC = path.join(ROOT, 'www/gallery/audio/kws-go.wav');
let context, page, consoleErrors;

before(async () => {
  ({ context, page, consoleErrors } = await launch({
    webgpu: false,
    args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${MIC}`,
      '--autoplay-policy=no-user-gesture-required'],
  }));
  await context.grantPermissions(['microphone']);
});

after(async () => {
  await context?.close();
});

/** Marks side i's result as seen, so `side(i)` waits for the next one. */
async function stale(i) {
  await page.evaluate((i) => { document.querySelector(`[data-testid=au-stage-${i}]`).dataset.state = 'stale'; }, i);
}

/** Side i's numbers and the model's verdict, once it shows a finished result. */
async function side(i, timeout = 180_000) {
  await page.waitForFunction((i) => {
    const s = document.querySelector(`[data-testid=au-stage-${i}]`);
    return s && s.dataset.state === 'done' && document.querySelector(`[data-testid=au-metrics-${i}] [data-metric=bytes]`)
      && document.querySelector(`[data-testid=au-keywords-${i}] .timing, [data-testid=au-keywords-${i}] .perception-error`);
  }, i, { timeout });
  return page.evaluate((i) => {
    const m = document.querySelector(`[data-testid=au-metrics-${i}]`);
    const k = document.querySelector(`[data-testid=au-keywords-${i}]`);
    const num = (root, key) => { const d = root.querySelector(`[data-metric=${key}]`); return d ? JSON.parse(d.dataset.value) : undefined; };
    const flag = k.querySelector(`[data-testid=au-flag-${i}]`);
    return {
      bytes: num(m, 'bytes'), kbps: num(m, 'kbps'), bitsPerSample: num(m, 'bits_per_sample'), snr: num(m, 'snr_db'),
      segSnr: num(m, 'seg_snr_db'), lsd: num(m, 'lsd_db'), stoi: num(m, 'stoi'), logMel: num(m, 'log_mel_distance'), delay: num(m, 'delay_ms'),
      kl: num(k, 'kl'), feature: num(k, 'feature_distance'),
      decoded: flag?.dataset.class, changed: flag ? flag.dataset.changed === 'true' : null,
      bars: [...k.querySelectorAll('.bars li')].map((li) => ({ cls: li.dataset.class, p: Number(li.dataset.p) })),
      error: k.querySelector('.perception-error')?.textContent ?? null,
    };
  }, i);
}

/** `mpqlab eval FILE -c CODEC` as JSON. */
function evalCli(file, codec) {
  return JSON.parse(cli('eval', file, '-c', codec));
}

const close = (a, b, tol, what) => assert.ok(a === b || Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: page ${a}, CLI ${b}`);

/** The page's side equals `mpqlab eval`'s report and keyword verdict. */
function sameAsCli(got, want, what) {
  assert.equal(got.bytes, want.bytes, `${what}: bytes`);
  close(got.kbps, want.kbps, 1e-9, `${what}: kbps`);
  for (const [k, w] of [['snr', 'snr_db'], ['segSnr', 'seg_snr_db'], ['lsd', 'lsd_db'], ['stoi', 'stoi'], ['logMel', 'log_mel_distance']]) {
    if (want[w] === null) assert.equal(got[k], null, `${what}: ${k}`);
    else close(got[k], want[w], 1e-4, `${what}: ${k}`);
  }
  close(got.delay, want.delay_ms, 1e-9, `${what}: delay`);
  assert.equal(got.decoded, want.keywords.decoded, `${what}: the model's answer`);
  assert.equal(got.changed, want.keywords.changed, `${what}: changed`);
  close(got.kl, want.keywords.kl, 1e-3, `${what}: KL`);
  for (const [k, t] of want.keywords.decoded_top.entries()) {
    assert.equal(got.bars[k].cls, t.class, `${what}: class ${k}`);
    assert.ok(Math.abs(got.bars[k].p - t.p) < 1e-3, `${what}: p(${t.class}) page ${got.bars[k].p}, CLI ${t.p}`);
  }
}

async function selectCodec(i, id) {
  await stale(i);
  await page.selectOption(`[data-testid=au-codec-${i}]`, id);
}

test('audio lab: numbers equal mpqlab eval, A/B playback, microphone, sweep, bad files', { timeout: 1_200_000 }, async (t) => {
  await page.goto(URL_ + '#/audio');
  await ready(page);

  await t.test('the first screen: "yes" through Opus and our MDCT codec at 12 kbit/s, as mpqlab eval', async () => {
    await page.waitForSelector('[data-testid=au-bars-original] li');
    const heard = await page.getAttribute('[data-testid=au-bars-original] li:first-child', 'data-class');
    assert.equal(heard, 'yes');
    const file = 'www/gallery/audio/kws-yes.wav';
    for (const [i, codec] of [[0, 'opus:bitrate=12000'], [1, 'mdct:bitrate=12000']]) {
      const got = await side(i);
      const want = evalCli(file, codec);
      sameAsCli(got, want, codec);
      console.log(`${codec}: ${got.bytes} B, ${got.kbps.toFixed(2)} kbit/s, SNR ${got.snr?.toFixed(2)} dB, STOI ${got.stoi?.toFixed(3)}, model hears "${got.decoded}" (KL ${got.kl.toFixed(4)})`);
    }
    // Our Opus stream, decoded by Chromium's WebCodecs decoder too: close to our decoder.
    const check = JSON.parse(await page.getAttribute('[data-testid=au-metrics-0] [data-metric=browser_decoder]', 'data-value'));
    assert.ok(check, 'the browser decoded our Opus stream');
    assert.ok(check.frames > 40_000, `compared ${check.frames} samples`);
    assert.ok(check.snr_db === null || check.snr_db > 15, `browser decoder vs ours: ${JSON.stringify(check)}`);
    console.log(`our Opus at 12 kbit/s, Chromium's WebCodecs decoder vs ours at 48 kHz: ${check.snr_db === null ? 'identical' : `${check.snr_db.toFixed(1)} dB SNR`}, largest difference ${check.max_abs_diff}, ${check.frames} samples, lag ${check.lag}`);
  });

  await t.test('a real recording with two telephone codecs: numbers and verdicts as mpqlab eval', async () => {
    await stale(0); await stale(1);
    await page.click('[data-testid=au-gallery-codec2-speech-16k]');
    await page.waitForFunction(() => document.querySelector('[data-testid=au-source]').textContent.startsWith('codec2-speech-16k.wav — 10.80 s, 16000 Hz'));
    await side(0); await side(1);
    await selectCodec(0, 'mulaw');
    await selectCodec(1, 'ima-adpcm');
    const file = 'www/gallery/audio/codec2-speech-16k.wav';
    for (const [i, codec] of [[0, 'mulaw'], [1, 'ima-adpcm']]) {
      const got = await side(i);
      sameAsCli(got, evalCli(file, codec), codec);
      console.log(`${codec} on ${file}: ${got.kbps.toFixed(1)} kbit/s, SNR ${got.snr.toFixed(2)} dB, STOI ${got.stoi.toFixed(3)}`);
    }
    const link = await copyLink(page);
    assert.match(link, /#\/audio\?v=1&in=gallery:codec2-speech-16k&l=mulaw&r=ima-adpcm$/);
    // And `mpqlab run LINK` gives the same numbers.
    const run = JSON.parse(cli('run', link));
    assert.equal(run.sides[0].report.bytes, (await side(0)).bytes);
    assert.equal(run.sides[1].keywords.decoded, (await side(1)).decoded);
  });

  await t.test("the browser's own Opus encoder (WebCodecs) as a side", async () => {
    await selectCodec(1, 'browser-opus');
    const got = await side(1);
    assert.ok(got.bytes > 1000 && got.kbps > 8 && got.kbps < 30, JSON.stringify(got));
    assert.ok(got.stoi > 0.8, `STOI ${got.stoi}`);
    assert.equal(got.error, null);
    console.log(`browser-opus at 16 kbit/s on codec2-speech-16k: ${got.kbps.toFixed(1)} kbit/s, SNR ${got.snr.toFixed(2)} dB, STOI ${got.stoi.toFixed(3)}`);
    await selectCodec(1, 'ima-adpcm');
    await side(1);
  });

  await t.test('A/B playback switches sides at the same position', async () => {
    const pos = () => page.getAttribute('[data-testid=au-position]', 'data-position').then(Number);
    const listening = () => page.getAttribute('[data-testid=au-position]', 'data-listening');
    await page.click('[data-testid=au-play]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=au-position]').dataset.position) > 0.5, null, { timeout: 20_000 });
    assert.equal(await page.getAttribute('[data-testid=au-play]', 'data-playing'), '1');
    for (const [key, who] of [['a', 'left'], ['b', 'right'], ['o', 'original']]) {
      const before = await pos();
      await page.keyboard.press(key);
      assert.equal(await listening(), who);
      const after = await pos();
      // The same moment of the recording, a few ms of audio clock later.
      assert.ok(after >= before - 0.01 && after - before < 0.5, `${who}: ${before} → ${after}`);
      assert.equal(await page.getAttribute(`[data-testid=au-listen-${who === 'left' ? 0 : who === 'right' ? 1 : 'original'}]`, 'aria-pressed'), 'true');
    }
    await page.click('[data-testid=au-listen-0]');
    assert.equal(await listening(), 'left');
    await page.locator('[data-testid=au-position]').click(); // away from the buttons: space is the player's
    await page.keyboard.press(' ');
    assert.equal(await page.getAttribute('[data-testid=au-play]', 'data-playing'), '0');
    const paused = await pos();
    await page.waitForTimeout(300);
    assert.equal(await pos(), paused, 'paused playback stays where it was');
  });

  await t.test('a recording through the (fake) microphone becomes the input', async () => {
    await stale(0); await stale(1);
    await page.click('[data-testid=au-record]');
    await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('[data-testid=au-record-status]').dataset.state), null, { timeout: 30_000 });
    assert.equal(await page.getAttribute('[data-testid=au-record-status]', 'data-state'), 'done', await page.textContent('[data-testid=au-record-status]'));
    await page.waitForFunction(() => /^recording-.*\.wav — 2\.00 s/.test(document.querySelector('[data-testid=au-source]').textContent), null, { timeout: 60_000 });
    const got = await side(0);
    assert.ok(got.bytes > 0 && got.snr > 20, JSON.stringify(got));
    assert.match(page.url(), /in=file:[0-9a-f]{64}:\d+:recording-/);
    const source = await page.textContent('[data-testid=au-source]');
    console.log(`recorded: ${source}; the model hears "${await page.getAttribute('[data-testid=au-bars-original] li:first-child', 'data-class')}"`);
  });

  await t.test('a small sweep over 12 windows: its points equal mpqlab sweep', async () => {
    for (const id of ['opus', 'mdct', 'ima-adpcm', 'mulaw', 'bandlimit']) {
      const box = page.locator(`[data-testid=au-sweep-use-${id}]`);
      if (['opus', 'mulaw'].includes(id)) await box.check(); else await box.uncheck();
    }
    await page.locator('[data-testid=au-sweep-spec-opus]').fill('opus:bitrate=8000,16000');
    await page.locator('[data-testid=au-sweep-items]').fill('12');
    await page.click('[data-testid=au-sweep-run]');
    await page.waitForFunction(() => ['done', 'stopped'].includes(document.querySelector('[data-testid=au-sweep-status]').dataset.state), null, { timeout: 300_000 });
    const status = await page.textContent('[data-testid=au-sweep-status]');
    assert.equal(await page.getAttribute('[data-testid=au-sweep-status]', 'data-state'), 'done', status);
    const json = JSON.parse(await page.getAttribute('[data-testid=au-sweep-status]', 'data-json'));
    const want = JSON.parse(cli('sweep', '--model', 'kws-cnn', '--items', '12', '--codec', 'opus:bitrate=8000,16000', '--codec', 'mulaw'));
    assert.equal(json.points.length, 3);
    for (const [k, p] of want.points.entries()) {
      const g = json.points[k];
      assert.equal(g.codec, p.codec);
      assert.equal(g.value, p.value);
      assert.equal(g.bytes, p.bytes, `${p.codec} ${p.value}: bytes`);
      assert.equal(g.accuracy, p.accuracy, `${p.codec} ${p.value}: accuracy`);
      close(g.audio.stoi, p.audio.stoi, 1e-4, `${p.codec} ${p.value}: STOI`);
    }
    const row = page.locator('[data-testid=au-sweep-table] tbody tr[data-codec=mulaw]');
    assert.equal(Number(await row.getAttribute('data-accuracy')), want.points[2].accuracy);
    assert.ok(await page.locator('[data-testid=au-sweep-plot] svg').count() === 1, 'the plot is drawn');
    assert.match(page.url(), /run=sweep/);
    console.log(`${status} mulaw: ${(100 * want.points[2].accuracy).toFixed(1)} % at ${want.points[2].audio.kbps.toFixed(1)} kbit/s`);
  });

  await t.test('bad audio is refused with its reason, and the clip shown stays', async () => {
    const cases = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/hostile/cases.json'), 'utf8')).audio;
    const shown = await page.textContent('[data-testid=au-source]');
    for (const c of cases) {
      await page.setInputFiles('[data-testid=au-file]', path.join(ROOT, 'tests/hostile/files', c.file));
      await page.waitForSelector('#error:not([hidden])', { timeout: 60_000 });
      const msg = await page.textContent('[data-testid=error-text]');
      assert.ok(msg.startsWith(`Could not open ${c.file}: `), `${c.file}: ${msg}`);
      assert.match(msg, new RegExp(c.message), c.file);
      await page.click('#error-close');
      console.log(`${c.file}: "${msg}"`);
    }
    assert.match(await page.textContent('[data-testid=au-source]'), new RegExp('^' + shown.split(' — ')[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    // Still usable.
    await stale(0);
    await page.click('[data-testid=au-gallery-kws-stop]');
    assert.equal((await side(0)).decoded, 'stop');
  });

  assert.deepEqual(consoleErrors, []);
});
