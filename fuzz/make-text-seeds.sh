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
for spec in gzip zlib zstd brotli xz bzip2 lz4 ppmd lm:chunk=1 logs; do
  src="$tmp/t.txt"; [ "${spec%%:*}" = lm ] && src="$tmp/short.txt"
  "$bin" compress "$src" -c "$spec" -o "$tmp/s" 2>/dev/null
  { printf "\\x$(printf %02x $i)"; cat "$tmp/s"; } > "$out/${spec%%:*}"
  i=$((i + 1))
done
ls -l "$out"

# Seeds of logs_decode: the columns layouts of a short access log as the parser reads them
# (first byte: the layout's kind, then the text's length as u16 LE; the layout comes out of
# the xz back-end's stream with `xz -d`), and one whole .mplog stream.
out=fuzz/seeds/logs_decode
mkdir -p "$out"
head -c 20000 www/gallery/text/logs/http-access.log > "$tmp/access.log"
"$bin" compress "$tmp/access.log" -c logs:backend=xz -o "$tmp/a.mplog" 2>/dev/null
layout="$(od -An -tu1 -j6 -N1 "$tmp/a.mplog" | tr -d ' ')"
[ "$layout" != 0 ] || { echo "the access log came out plain; pick a more regular excerpt" >&2; exit 1; }
len="$(stat -c %s "$tmp/access.log")"
{ printf "\\x$(printf %02x $((layout - 1)))\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"; tail -c +12 "$tmp/a.mplog" | xz -d; } > "$out/columns"
cp "$tmp/a.mplog" "$out/stream"
ls -l "$out"
