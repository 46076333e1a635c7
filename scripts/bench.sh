#!/usr/bin/env bash
# The price of running in the browser: times every image codec on the same three gallery
# photos, and every audio codec on the same 10 s of keyword windows, natively (`mpqlab bench`,
# `mpqlab bench audio`, release build) and in the page (headless Chromium, wasm in a Web
# Worker), one after the other on this machine, and prints the wasm/native ratio per codec,
# and the keyword model's time per window natively, in the page's CPU backend and on WebGPU.
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
url="$(grep -o 'http://[^ ]*' "$port_file")"
timed node tests/e2e/page_bench.mjs "$url" "$runs" > tests/out/bench-wasm.json
timed "$TARGET_DIR/release/mpqlab" bench audio --seconds 10 --runs "$runs" > tests/out/bench-audio-native.json
timed node tests/e2e/page_bench.mjs "$url" "$runs" audio > tests/out/bench-audio-wasm.json
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
node - <<'JS'
const fs = require('fs');
const nat = JSON.parse(fs.readFileSync('tests/out/bench-audio-native.json'));
const web = JSON.parse(fs.readFileSync('tests/out/bench-audio-wasm.json'));
console.log('\naudio codec      native enc   wasm enc  ratio | native dec   wasm dec  ratio   (ms for 10 s of 16 kHz speech; medians)');
const f = (x) => x.toFixed(2).padStart(10);
for (const w of web.codecs) {
  const n = nat.codecs.find((r) => r.codec === w.codec);
  if (!n) continue;
  console.log(`${w.codec.padEnd(16)} ${f(n.encode_ms)} ${f(w.encode_ms)} ${(w.encode_ms / n.encode_ms).toFixed(2).padStart(6)} | ${f(n.decode_ms)} ${f(w.decode_ms)} ${(w.decode_ms / n.decode_ms).toFixed(2).padStart(6)}`);
}
console.log(`kws_cnn per 1 s window: native CPU ${nat.model.ms_per_window.toFixed(2)} ms` + web.model.map((m) =>
  `, page ${m.backend} ${m.ms_per_window == null ? `— (${m.error})` : `${m.ms_per_window.toFixed(2)} ms (${(m.ms_per_window / nat.model.ms_per_window).toFixed(2)}×)`}`).join(''));
JS
