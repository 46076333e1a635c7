// NCD classifications per second per method in this browser beside mpqlab natively (a
// benchmark, not a test): each method's accuracy run over a task's held-out split in the text
// lab's classifier panel (?workers=N, default 2: one per core here), then `mpqlab classify
// --eval` with as many threads; prints both rates, their ratio and both accuracies.
//   MPQ_URL=http://127.0.0.1:PORT/ MPQLAB_BIN=target/debug/mpqlab node tests/e2e/ncd_bench.mjs [lang|dna] [WORKERS] [METHOD…]
import { URL_, launch, cli, ready } from './lib.mjs';

const [task = 'lang', workersArg = '2', ...asked] = process.argv.slice(2);
const workers = Number(workersArg);
const methods = asked.length ? asked : ['gzip', 'zlib', 'zstd', 'brotli', 'xz', 'bzip2', 'lz4', 'ppmd', 'lm', 'ngram'];
const { context, page } = await launch({ webgpu: false });
const rows = [];
try {
  await page.goto(`${URL_}?workers=${workers}#/text?v=1&in=paste:y0jNyckHAA${task === 'lang' ? '' : `&task=${task}`}`);
  await ready(page);
  for (const method of methods) {
    await page.selectOption('[data-testid=tx-clf-method]', method);
    await page.click('[data-testid=tx-clf-eval]');
    await page.waitForFunction((m) => document.querySelector(`[data-testid=tx-clf-accuracy] tr[data-method="${m}"]`)
      && document.querySelector('[data-testid=tx-clf-eval-status]').dataset.state === 'done', method, { timeout: 1_800_000 });
    const p = await page.$eval(`[data-testid=tx-clf-accuracy] tr[data-method="${method}"]`, (r) => ({ accuracy: Number(r.dataset.accuracy), perSecond: Number(r.dataset.perSecond) }));
    const n = JSON.parse(cli('classify', '--eval', '--task', task, '-c', method, '--threads', String(workers))).results[0];
    rows.push({ method, page: p, native: { accuracy: n.accuracy, perSecond: n.classifications_per_second } });
    console.error(`${method}: done`);
  }
} finally {
  await context.close();
}
console.log(`${task}: NCD classifications per second, page (${workers} workers) vs native (${workers} threads)`);
for (const r of rows) {
  console.log(`${r.method.padEnd(7)} page ${r.page.perSecond.toFixed(1).padStart(8)}/s  native ${r.native.perSecond.toFixed(1).padStart(8)}/s  `
    + `page/native ${(r.page.perSecond / r.native.perSecond).toFixed(2)}  top-1 ${r.page.accuracy.toFixed(3)} / ${r.native.accuracy.toFixed(3)}`);
}
