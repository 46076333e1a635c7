#!/usr/bin/env bash
# Builds the page into dist/ with trunk (release, wasm-opt), using the wasm toolchain that
# scripts/env.sh detects. Prints the wasm size raw and gzipped.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
use_wasm_toolchain
cd "$ROOT"
timed trunk build --release 2>&1 | grep -vE '^\s+(Compiling|Downloaded|Downloading|Fresh) ' >&2
wasm="$ROOT/dist/mpq-web_bg.wasm"
[ -f "$wasm" ] || die "trunk produced no $wasm"
log "wasm: $(stat -c %s "$wasm") bytes raw, $(gzip -9 -c "$wasm" | wc -c) bytes gzipped"
