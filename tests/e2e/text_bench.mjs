// The text lab's speed in this browser beside mpqlab natively (a benchmark, not a test): the
// held-out sample through xz -9, PPMd and the lm coder with each checkpoint, in the page (its
// codec table and sides, 1 and 3 workers) and with `mpqlab eval`; prints kB/s and ratios.
//   MPQ_URL=http://127.0.0.1:PORT/ MPQLAB_BIN=target/debug/mpqlab node tests/e2e/text_bench.mjs
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, URL_, launch, cli, ready } from './lib.mjs';

const FILE = 'www/gallery/text/heldout-sample.txt';
const size = fs.statSync(path.join(ROOT, FILE)).size;
const { context, page } = await launch({ webgpu: false });
const rows = [];
try {
  for (const workers of [1, 3]) {
    for (const [codec, spec] of [['xz', 'xz:level=9'], ['ppmd', 'ppmd'], ['lm', 'lm:model=gru256-e3'], ['lm', 'lm:model=gru256-e2'], ['lm', 'lm:model=gru256-e1']]) {
      if (workers === 3 && codec !== 'lm') continue;
      await page.goto('about:blank');
      await page.goto(`${URL_}?workers=${workers}#/text?v=1&in=gallery:heldout-sample&l=gzip&r=${spec}`);
      await ready(page);
      await page.waitForFunction(() => document.querySelector('[data-testid=tx-stage-1]')?.dataset.state === 'done', null, { timeout: 600_000 });
      const m = await page.evaluate(() => {
        const d = document.querySelector('[data-testid=tx-metrics-1]');
        const v = (k) => JSON.parse(d.querySelector(`[data-metric=${k}]`).dataset.value);
        return { bytes: v('bytes'), enc: v('encode_ms'), dec: v('decode_ms') };
      });
      const native = JSON.parse(cli('eval', FILE, '-c', spec));
      rows.push({ spec, workers, page_kbps: [size / m.enc, size / m.dec], native_kbps: [size / native.encode_ms, size / native.decode_ms], bytes: [m.bytes, native.bytes] });
    }
  }
} finally {
  await context.close();
}
for (const r of rows) {
  const f = (x) => x.toFixed(1);
  console.log(`${r.spec.padEnd(20)} page (${r.workers} worker${r.workers > 1 ? 's' : ''}): ${f(r.page_kbps[0])} / ${f(r.page_kbps[1])} kB/s  native: ${f(r.native_kbps[0])} / ${f(r.native_kbps[1])} kB/s  `
    + `page/native ${(r.page_kbps[0] / r.native_kbps[0]).toFixed(2)} / ${(r.page_kbps[1] / r.native_kbps[1]).toFixed(2)}  bytes ${r.bytes[0]} / ${r.bytes[1]}`);
}
