// Puts a strict Content-Security-Policy into the built page (dist/index.html), as a <meta> so
// that it travels with the page to any static host:
//   * scripts only from the page's own origin, plus trunk's one inline loader by its SHA-256
//     (no other inline script, no eval; 'wasm-unsafe-eval' lets WebAssembly compile);
//   * workers (the service worker too), the web app manifest, fetches, images and styles from the same origin only (blob: for the downloads
//     and pictures the page makes itself); no plugins, no <base>, no forms.
// Nothing the page shows from a file, a link or a worker is inserted as HTML (crates/web/src/ui),
// and the CSP is the second wall if something ever were.
//   node scripts/csp.mjs dist/index.html
import fs from 'node:fs';
import crypto from 'node:crypto';

const file = process.argv[2] || 'dist/index.html';
let html = fs.readFileSync(file, 'utf8');
html = html.replace(/\s*<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
const hashes = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)]
  .map((m) => `'sha256-${crypto.createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
const policy = [
  "default-src 'none'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
  "worker-src 'self'",
  "manifest-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob:",
  "style-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');
const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}">`;
if (!/<meta charset="utf-8">/.test(html)) throw new Error(`${file}: no <meta charset="utf-8"> to put the policy after`);
html = html.replace('<meta charset="utf-8">', `<meta charset="utf-8">\n  ${meta}`);
fs.writeFileSync(file, html);
console.error(`[mpqlab] Content-Security-Policy: ${hashes.length} inline script(s) allowed by hash`);
