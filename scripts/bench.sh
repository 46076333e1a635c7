#!/usr/bin/env bash
# The price of running in the browser: times every codec on the same three gallery photos
# natively (`mpqlab bench`, release build) and in the page (headless Chromium, wasm in a Web
# Worker), one after the other on this machine, and prints the wasm/native ratio per codec.
#   scripts/bench.sh [RUNS]     (default 3; results in tests/out/bench-*.json)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
runs="${1:-3}"
mkdir -p tests/out
timed cargo build --release -p mpq-cli
"$ROOT/scripts/build-web.sh"   # seconds when dist/ is up to date
TARGET_DIR="$(cargo_target_dir)"
timed "$TARGET_DIR/release/mpqlab" bench --runs "$runs" > tests/out/bench-native.json
port_file="$(mktemp)"
node tests/e2e/serve.mjs dist 0 >"$port_file" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$port_file"' EXIT
for _ in $(seq 100); do grep -q serving "$port_file" && break; sleep 0.1; done
timed node tests/e2e/page_bench.mjs "$(grep -o 'http://[^ ]*' "$port_file")" "$runs" > tests/out/bench-wasm.json
node - <<'JS'
const fs = require('fs');
const nat = JSON.parse(fs.readFileSync('tests/out/bench-native.json'));
const web = JSON.parse(fs.readFileSync('tests/out/bench-wasm.json'));
const codecs = [...new Set(web.map((r) => r.codec))];
const sum = (rows, k) => rows.reduce((a, r) => a + (r[k] || 0), 0);
console.log('codec            native enc   wasm enc  ratio | native dec   wasm dec  ratio   (ms, summed over photos; medians)');
for (const c of codecs) {
  const n = nat.filter((r) => r.codec === c), w = web.filter((r) => r.codec === c && !r.error);
  if (!w.length) { console.log(`${c.padEnd(16)} (not available in this browser)`); continue; }
  const f = (x) => x.toFixed(1).padStart(10);
  if (!n.length) { console.log(`${c.padEnd(16)} ${'—'.padStart(10)} ${f(sum(w, 'encode_ms'))}      — | ${'—'.padStart(10)} ${f(sum(w, 'decode_ms'))}      —   (browser-native)`); continue; }
  const [ne, we, nd, wd] = [sum(n, 'encode_ms'), sum(w, 'encode_ms'), sum(n, 'decode_ms'), sum(w, 'decode_ms')];
  console.log(`${c.padEnd(16)} ${f(ne)} ${f(we)} ${(we / ne).toFixed(2).padStart(6)} | ${f(nd)} ${f(wd)} ${(wd / nd).toFixed(2).padStart(6)}`);
}
JS
