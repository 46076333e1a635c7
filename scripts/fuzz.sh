#!/usr/bin/env bash
# Runs every fuzz target for a while (default 60 s each): scripts/fuzz.sh [SECONDS]
# Seeds: the gallery photos and the codec outputs the tests write are good starting corpora.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
secs="${1:-60}"
command -v cargo-fuzz >/dev/null || timed cargo install cargo-fuzz --locked
cd "$ROOT/fuzz"
mkdir -p corpus/image_load
cp -n "$ROOT"/www/gallery/*.png "$ROOT"/tests/fixtures/metrics/*.png corpus/image_load/ 2>/dev/null || true
for t in image_load codec_decode; do
  mkdir -p "corpus/$t"
  RUSTC_BOOTSTRAP=1 timed cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=4096 -max_len=262144
done
