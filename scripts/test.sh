#!/usr/bin/env bash
# Sets everything up and runs every test: native (cargo test --workspace, with the reference
# tools required), a sweep through a one-node Slurm, a short run of every fuzz target, then the
# page built with trunk and driven in headless Chromium.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

# 1. Native: every crate, web included (its plain logic), with djpeg/cjpeg interop required.
# (This also builds target/debug/mpqlab: the CLI's integration tests run the binary. A separate
# `cargo build -p mpq-cli` would resolve features differently and rebuild half the tree.)
# MPQ_REQUIRE_GPU=1: the WGSL kernel tests must find an adapter (lavapipe at least).
MPQ_REQUIRE_TOOLS=1 MPQ_REQUIRE_GPU=1 timed cargo test --workspace
TARGET_DIR="$(cargo_target_dir)"
export MPQLAB_BIN="$TARGET_DIR/debug/mpqlab"
[ -x "$MPQLAB_BIN" ] || die "$MPQLAB_BIN was not built by cargo test"

# 1b. A sharded sweep through a real scheduler: a one-node Slurm on loopback (started and
# stopped by the test) runs it as an array job; merged, it must equal the unsharded run.
timed "$ROOT/tests/slurm/cluster_sweep.sh"

# 2. Every fuzz target for a few seconds (the long run is scripts/fuzz.sh 600): a crash, a leak
# or an allocation beyond the limits fails the test. MPQ_FUZZ_SECONDS=0 skips it. The targets
# that need mpq-models are left out (their sanitizer build of burn and wgpu took ~10 minutes
# on a fresh machine); `cargo test` above replays their seeds (crates/models/tests/fuzz_seeds.rs).
if [ "${MPQ_FUZZ_SECONDS:-8}" != 0 ]; then
  MPQ_FUZZ_MODELS="${MPQ_FUZZ_MODELS:-0}" timed "$ROOT/scripts/fuzz.sh" "${MPQ_FUZZ_SECONDS:-8}"
fi

# 3. The page: build, serve on loopback, drive it in Chromium.
"$ROOT/scripts/build-web.sh"
port_file="$(mktemp)"
node "$ROOT/tests/e2e/serve.mjs" "$ROOT/dist" 0 >"$port_file" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$port_file"' EXIT
for _ in $(seq 100); do grep -q 'serving' "$port_file" && break; sleep 0.1; done
MPQ_URL="$(grep -o 'http://[^ ]*' "$port_file")"
[ -n "$MPQ_URL" ] || die "static server did not start: $(cat "$port_file")"
log "page served at $MPQ_URL"
# One test file at a time: each drives its own Chromium, and the sweep timing is reported.
MPQ_URL="$MPQ_URL" timed node --test --test-concurrency=1 --test-reporter=spec "$ROOT"/tests/e2e/*.test.mjs
log "all tests passed"
