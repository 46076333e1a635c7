#!/usr/bin/env bash
# Installs everything mpqlab needs to build, serve and test, on Debian 12 (this project's
# machines) or an ordinary developer machine. Idempotent: each step is skipped when its result
# is already in place, so a second run takes seconds.
#
#   MPQ_SKIP_APT=1        never call apt-get (you installed the packages yourself)
#   MPQ_WASM_TOOLCHAIN    see scripts/env.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
export DEBIAN_FRONTEND=noninteractive
t_start=$SECONDS

# --- 1. wasm32 std: prebuilt → rustup target add → Debian's rustc-web with build-std -----------
wasm_route=""
if has_prebuilt_wasm_std; then
  wasm_route=prebuilt
elif command -v rustup >/dev/null && timeout 120 rustup target add wasm32-unknown-unknown >/dev/null 2>&1 && has_prebuilt_wasm_std; then
  wasm_route=prebuilt
  log "installed the wasm32-unknown-unknown target with rustup"
else
  wasm_route=debian-build-std
fi
log "wasm route: $wasm_route"

# --- 2. system packages --------------------------------------------------------------------------
# chromium: the browser the end-to-end tests drive (never a downloaded one);
# libjpeg-turbo-progs: djpeg/cjpeg, reference tools the codec tests check interop against;
# mesa-vulkan-drivers: lavapipe, a CPU Vulkan driver, so the WGSL kernels run natively without
# a GPU; nodejs/npm: playwright-core and wasm-opt; curl: readiness checks; sox, flac and
# opus-tools: the references the audio codecs' tests check G.711, IMA ADPCM, FLAC and Opus against;
# gzip, zstd, xz-utils, bzip2, lz4, brotli and 7zip: the reference tools the text codecs' streams
# must interoperate with (both ways); slurm-wlm and munge: a one-node Slurm on loopback that
# the cluster-sweep test runs a sharded sweep through (tests/slurm/cluster_sweep.sh).
pkgs=(chromium libjpeg-turbo-progs mesa-vulkan-drivers curl sox flac opus-tools
      gzip zstd xz-utils bzip2 lz4 brotli 7zip slurm-wlm munge)
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
[ "$wasm_route" = debian-build-std ] && pkgs+=(rustc-web cargo-web rust-web-src lld-22)
missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${MPQ_SKIP_APT:-0}" = 1 ] || ! command -v apt-get >/dev/null; then
    log "please install: ${missing[*]}"
  else
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    timed $SUDO apt-get update -q >/dev/null
    timed $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
  fi
fi

# --- 3. cargo-installed tools: wasm-bindgen-cli (exactly the crate's version) and trunk ---------
have_version() { command -v "$1" >/dev/null 2>&1 && [ "$("$1" --version 2>/dev/null | awk '{print $2}')" = "$2" ]; }
WB_VERSION="$(wasm_bindgen_version)"
[ -n "$WB_VERSION" ] || die "cannot read the wasm-bindgen pin from crates/web/Cargo.toml"
if ! have_version wasm-bindgen "$WB_VERSION"; then
  # --locked can fail where the registry lacks a crate version the CLI's lock pins; then let
  # cargo resolve afresh.
  timed cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked \
    || timed cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi
TRUNK_VERSION=0.21.14   # 0.22 needs rustc >= 1.96.1
if ! have_version trunk "$TRUNK_VERSION"; then
  timed cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# --- 4. npm: playwright-core (drives Debian's chromium) and binaryen (wasm-opt) ------------------
if [ ! -x "$ROOT/node_modules/.bin/wasm-opt" ] || [ ! -d "$ROOT/node_modules/playwright-core" ] \
   || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  (cd "$ROOT" && timed npm ci --no-audit --no-fund --loglevel=error)
fi

log "setup done in $((SECONDS - t_start)) s"
