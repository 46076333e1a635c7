// Writes FILE.gz and FILE.br beside every compressible file under DIR, as a production host
// serves a static site (tests/e2e/serve.mjs sends them to browsers that accept them).
//   node scripts/precompress.mjs dist
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const root = process.argv[2] || 'dist';
const compressible = new Set(['.wasm', '.js', '.mjs', '.css', '.html', '.json', '.svg', '.bin', '.csv']);
// Brotli's top quality takes minutes on a 25 MB module with 2 cores; 9 gets within ~3 % of it.
const brotliQuality = (size) => (size > 4 << 20 ? 9 : 11);

function* files(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (compressible.has(path.extname(e.name))) yield p;
  }
}

let raw = 0, gz = 0, br = 0;
for (const file of files(root)) {
  const data = fs.readFileSync(file);
  if (data.length < 1024) continue;
  const g = zlib.gzipSync(data, { level: 9 });
  const b = zlib.brotliCompressSync(data, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: brotliQuality(data.length),
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
    },
  });
  fs.writeFileSync(file + '.gz', g);
  fs.writeFileSync(file + '.br', b);
  raw += data.length; gz += g.length; br += b.length;
}
console.error(`[mpqlab] precompressed ${(raw / 1e6).toFixed(2)} MB: gzip ${(gz / 1e6).toFixed(2)} MB, brotli ${(br / 1e6).toFixed(2)} MB`);
