#!/usr/bin/env bash
# Builds the page into dist/ with trunk (release, wasm-opt), using the wasm toolchain that
# scripts/env.sh detects: the UI module (mpq-ui) and the two worker modules (mpq-worker, the
# CPU one, and mpq-worker-gpu, the same with WebGPU). Then
#   * writes dist/build.json (the modules' sizes; the page reads the worker modules' sizes from
#     it to show download progress) and fails when the gzipped UI module exceeds its budget or
#     the CPU worker module has WebGPU in it;
#   * puts a strict Content-Security-Policy into dist/index.html (scripts/csp.mjs);
#   * writes the build's files and hashes into dist/sw.js and its id into build.json
#     (scripts/pwa.mjs: offline use);
#   * precompresses what the page loads (.gz and .br beside each file), as a production host
#     would serve it (tests/e2e/serve.mjs sends them).
# Skips everything when dist/ was built from exactly these sources (MPQ_FORCE_BUILD=1 rebuilds).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
use_wasm_toolchain
cd "$ROOT"

UI_GZIP_BUDGET=${MPQ_UI_GZIP_BUDGET:-400000}   # four labs and the lessons, release-ui with fat LTO and one codegen unit: ~393 KB (issue 28: ≤ 400 KB)

# What dist/ depends on: every tracked or new file of the web build, and the toolchain.
fingerprint() {
  {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
      git ls-files -z -co --exclude-standard -- crates www index.html Trunk.toml Cargo.toml Cargo.lock .cargo \
        scripts/build-web.sh package-lock.json | xargs -0 sha256sum 2>/dev/null
    else
      find crates www index.html Trunk.toml Cargo.toml Cargo.lock .cargo scripts/build-web.sh -type f \
        -not -path '*/target/*' -print0 | sort -z | xargs -0 sha256sum
    fi
    echo "$MPQ_WASM_MODE $(rustc --version) $(trunk --version) $(wasm-bindgen --version)"
  } | sha256sum | cut -d' ' -f1
}
stamp="$ROOT/dist/.build-fingerprint"
want="$(fingerprint)"
if [ "${MPQ_FORCE_BUILD:-0}" != 1 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
   && [ -f "$ROOT/dist/mpq-ui_bg.wasm" ] && [ -f "$ROOT/dist/mpq-worker_bg.wasm" ] && [ -f "$ROOT/dist/mpq-worker-gpu_bg.wasm" ]; then
  log "dist/ is up to date with the sources (MPQ_FORCE_BUILD=1 rebuilds)"
  exit 0
fi
rm -f "$stamp"

timed trunk build --release 2>&1 | grep -vE '^\s+(Compiling|Downloaded|Downloading|Fresh) ' >&2

sizes() { echo "$(stat -c %s "$1") $(gzip -9 -c "$1" | wc -c)"; }
ui="$ROOT/dist/mpq-ui_bg.wasm"
worker="$ROOT/dist/mpq-worker_bg.wasm"
worker_gpu="$ROOT/dist/mpq-worker-gpu_bg.wasm"
for f in "$ui" "$worker" "$worker_gpu"; do [ -f "$f" ] || die "trunk produced no $f"; done
read -r ui_raw ui_gz <<<"$(sizes "$ui")"
read -r worker_raw worker_gz <<<"$(sizes "$worker")"
read -r gpu_raw gpu_gz <<<"$(sizes "$worker_gpu")"
log "UI module: $ui_raw bytes raw, $ui_gz gzipped; worker module: $worker_raw raw, $worker_gz gzipped; with WebGPU: $gpu_raw raw, $gpu_gz gzipped"
cat >"$ROOT/dist/build.json" <<EOF
{"ui_wasm_bytes": $ui_raw, "ui_wasm_gzip": $ui_gz, "worker_wasm_bytes": $worker_raw, "worker_wasm_gzip": $worker_gz, "worker_gpu_wasm_bytes": $gpu_raw, "worker_gpu_wasm_gzip": $gpu_gz}
EOF
# The first screen loads the CPU worker module: WebGPU's JS bindings (wgpu's, burn's) in its glue
# would mean wgpu was linked into it again.
if grep -q "requestAdapter" "$ROOT/dist/mpq-worker.js"; then
  die "the CPU worker module (mpq-worker) has WebGPU in it: wgpu must stay in mpq-worker-gpu"
fi
grep -q "requestAdapter" "$ROOT/dist/mpq-worker-gpu.js" || die "the WebGPU worker module (mpq-worker-gpu) has no WebGPU in it"
if [ "$ui_gz" -gt "$UI_GZIP_BUDGET" ]; then
  die "the UI module is $ui_gz bytes gzipped, over its budget of $UI_GZIP_BUDGET: keep codecs, models and wgpu out of it"
fi

# A strict Content-Security-Policy in the page (trunk's one inline loader allowed by its hash).
timed node "$ROOT/scripts/csp.mjs" "$ROOT/dist/index.html"

# The service worker's list of this build's files and their hashes, and the build's id.
timed node "$ROOT/scripts/pwa.mjs" "$ROOT/dist"

# Precompressed copies for the static server (gzip -9 and brotli 11, through Node's zlib).
timed node "$ROOT/scripts/precompress.mjs" "$ROOT/dist"
echo "$want" >"$stamp"
