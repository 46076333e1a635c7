// Makes a built page a web app that works offline (www/sw.js, www/pwa.js):
//   * writes BUILD into DIST/sw.js: the build's id (the SHA-256 over every file's name and hash)
//     and the SHA-256 of every file the page may load; `shell` names those the service worker
//     precaches on install, the rest (the worker module, gallery, test sets) being saved after
//     first use; `onUse` names those saved only when the page uses them (the WebGPU module);
//   * adds "build" (that id) to DIST/build.json, which the page and its exports name.
// Run after everything else has written DIST (scripts/csp.mjs edits index.html) and before
// scripts/precompress.mjs. Running it again on a changed DIST gives that DIST's new build.
//   node scripts/pwa.mjs dist
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const root = path.resolve(process.argv[2] || 'dist');
// Not served to the page as files of the build: the service worker itself (it changes with
// BUILD), compressed copies (the server picks them), the build stamp.
const skip = (rel) => rel === 'sw.js' || rel.endsWith('.br') || rel.endsWith('.gz') || path.basename(rel).startsWith('.');
// Saved only when used, never by the service worker's `install` or `fill`: the WebGPU worker
// module (~3× the CPU one) and its glue are downloaded only for a user who asks for WebGPU,
// online or to be saved. (The glue was once precached with the shell, so a page that never used
// WebGPU still fetched mpq-worker-gpu.js.)
const onUse = (rel) => rel === 'mpq-worker-gpu_bg.wasm' || rel === 'mpq-worker-gpu.js';
// Saved after first use instead of on install: the big worker modules and the labs' data.
const later = (rel) => onUse(rel) || rel === 'mpq-worker_bg.wasm' || rel.startsWith('gallery/') || rel.startsWith('datasets/');

function* walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield path.relative(root, p).split(path.sep).join('/');
  }
}

const sha = (data) => crypto.createHash('sha256').update(data).digest('hex');
const buildJson = path.join(root, 'build.json');
const info = fs.existsSync(buildJson) ? JSON.parse(fs.readFileSync(buildJson, 'utf8')) : {};
delete info.build;
fs.writeFileSync(buildJson, JSON.stringify(info));

const files = {};
for (const rel of walk(root)) if (!skip(rel) && rel !== 'build.json') files[rel] = sha(fs.readFileSync(path.join(root, rel)));
const id = sha(Object.entries(files).map(([p, h]) => `${p} ${h}\n`).join('')).slice(0, 16);
info.build = id;
fs.writeFileSync(buildJson, JSON.stringify(info));
files['build.json'] = sha(fs.readFileSync(buildJson));

const shell = Object.keys(files).filter((p) => !later(p));
const swFile = path.join(root, 'sw.js');
const sw = fs.readFileSync(swFile, 'utf8');
const marked = /\/\*BUILD\*\/[\s\S]*?\/\*END\*\//;
if (!marked.test(sw)) throw new Error(`${swFile}: no /*BUILD*/…/*END*/ to write the build into`);
const used = Object.keys(files).filter(onUse);
fs.writeFileSync(swFile, sw.replace(marked, `/*BUILD*/const BUILD = ${JSON.stringify({ id, shell, onUse: used, files })};/*END*/`));
const bytes = (list) => list.reduce((n, p) => n + fs.statSync(path.join(root, p)).size, 0);
console.error(`[mpqlab] build ${id}: ${Object.keys(files).length} files; the service worker precaches ${shell.length} (${bytes(shell)} B) and saves ${Object.keys(files).length - shell.length} (${bytes(Object.keys(files).filter(later))} B) after first use, ${used.length} of them (${bytes(used)} B) only if used`);
