#!/usr/bin/env bash
# Peak memory of each decoder on its worst input (a benchmark, not a test): the largest image
# the lab accepts (24 megapixels, zeros: the hostile suite's bomb) in every format, and the
# hostile files that claim more than that (refused before anything is allocated). Reads each
# with `mpqlab info` under /usr/bin/time and prints the maximum resident set size.
#   scripts/peak-memory.sh            (MPQLAB_BIN=… to use another build of mpqlab)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
if [ -z "${MPQLAB_BIN:-}" ]; then
  timed cargo build --release -p mpq-cli
  MPQLAB_BIN="$(cargo_target_dir)/release/mpqlab"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bomb=tests/hostile/files/bomb-6000x4000.png
cp "$bomb" "$work/24mp.png"
for c in jpeg webp-lossless qoi "avif -p speed=10"; do
  ext=$(echo "$c" | cut -d' ' -f1 | sed 's/webp-lossless/webp/')
  # shellcheck disable=SC2086
  "$MPQLAB_BIN" compress "$bomb" -c $c -o "$work/24mp.$ext" 2>/dev/null
done
printf '%-28s %10s %8s  %s\n' "input" "bytes" "peak MB" "answer"
for f in "$work"/24mp.* tests/hostile/files/bomb-8192x8192.png tests/hostile/files/header-*; do
  out=$( { /usr/bin/time -f 'PEAK %M' "$MPQLAB_BIN" info "$f" >/dev/null; } 2>&1 || true)
  peak=$(echo "$out" | sed -n 's/^PEAK //p')
  answer=$(echo "$out" | { grep -v '^PEAK' || true; } | sed 's/^mpqlab: error: [^:]*: //' | head -1)
  printf '%-28s %10s %8.1f  %s\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(echo "$peak / 1024" | bc -l)" "${answer:-decoded}"
done
