#!/usr/bin/env bash
# Seeds of the text_decode target: for each text codec (in registry order, which the first
# byte picks), a stream of a short gallery text, made by `mpqlab compress`. Committed with the
# seeds; rerun (with a built mpqlab: MPQLAB_BIN, default the debug build) after a text codec
# joins or changes its stream.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${MPQLAB_BIN:-$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/mpqlab}"
out=fuzz/seeds/text_decode
mkdir -p "$out"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
head -c 2000 www/gallery/text/doyle-scandal-in-bohemia.txt > "$tmp/t.txt"
head -c 300 www/gallery/text/udhr-ru.txt > "$tmp/short.txt"
i=0
for spec in gzip zlib zstd brotli xz bzip2 lz4 ppmd lm:chunk=1; do
  src="$tmp/t.txt"; [ "${spec%%:*}" = lm ] && src="$tmp/short.txt"
  "$bin" compress "$src" -c "$spec" -o "$tmp/s" 2>/dev/null
  { printf "\\x$(printf %02x $i)"; cat "$tmp/s"; } > "$out/${spec%%:*}"
  i=$((i + 1))
done
ls -l "$out"
