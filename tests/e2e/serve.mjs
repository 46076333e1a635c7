// The page's static server: dist/ on 127.0.0.1, as a production host would serve it.
//   node tests/e2e/serve.mjs DIR PORT        (PORT 0 = any free port)
//
// * MIME types, application/wasm for streaming compilation;
// * compressed: FILE.br or FILE.gz (made by scripts/precompress.mjs) when the browser accepts
//   them, else gzip on the fly for text-like files (cached), with Vary: Accept-Encoding;
// * cache headers: a strong ETag per file and `Cache-Control: no-cache`, so a reload or a second
//   visit revalidates with a 304 instead of pulling the 25 MB worker module again.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';

const root = path.resolve(process.argv[2] || 'dist');
const port = Number(process.argv[3] || 8080);
const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.css': 'text/css; charset=utf-8', '.json': 'application/json',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.jpg': 'image/jpeg', '.webp': 'image/webp', '.avif': 'image/avif',
  '.webmanifest': 'application/manifest+json', '.bin': 'application/octet-stream', '.md': 'text/markdown; charset=utf-8',
};
const compressible = new Set(['.wasm', '.js', '.mjs', '.css', '.html', '.json', '.svg', '.bin', '.md']);
const cache = new Map(); // path → { mtimeMs, etag, body, gzip? }

function entry(file) {
  const stat = fs.statSync(file);
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) return hit;
  const body = fs.readFileSync(file);
  const e = { mtimeMs: stat.mtimeMs, size: stat.size, body, etag: '"' + crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27) + '"' };
  cache.set(file, e);
  return e;
}

function pick(file, accept) {
  const ext = path.extname(file);
  if (!compressible.has(ext)) return null;
  for (const [enc, suffix] of [['br', '.br'], ['gzip', '.gz']]) {
    if (accept.includes(enc) && fs.existsSync(file + suffix)) return { enc, body: entry(file + suffix).body };
  }
  if (accept.includes('gzip')) {
    const e = entry(file);
    if (e.body.length < 1024) return null;
    e.gzip ??= zlib.gzipSync(e.body, { level: 6 });
    return { enc: 'gzip', body: e.gzip };
  }
  return null;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  let file;
  try { file = path.normalize(path.join(root, decodeURIComponent(url.pathname))); } catch { res.writeHead(400).end(); return; }
  if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const e = entry(file);
  const chosen = pick(file, String(req.headers['accept-encoding'] || ''));
  // One ETag per representation (the compressed bytes differ from the plain ones).
  const etag = chosen ? e.etag.slice(0, -1) + '-' + chosen.enc + '"' : e.etag;
  const headers = {
    'content-type': types[path.extname(file)] || 'application/octet-stream',
    'cache-control': 'no-cache',
    etag,
    vary: 'Accept-Encoding',
  };
  if (req.headers['if-none-match'] === etag) { res.writeHead(304, headers).end(); return; }
  const body = chosen ? chosen.body : e.body;
  if (chosen) headers['content-encoding'] = chosen.enc;
  headers['content-length'] = body.length;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`serving ${root} at http://127.0.0.1:${server.address().port}/`);
});
