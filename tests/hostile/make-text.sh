#!/usr/bin/env bash
# Writes the text lab's decompression bombs into tests/hostile/files/ with the reference tools:
# 17 MiB of zeros (just past the 16 MiB text limit) through each compressor at its strongest.
# Each file is tens of kilobytes or less (LZ4's longest match caps its ratio near 255:1, so its
# bomb is larger). Committed with the files; rerun only to change them.
set -euo pipefail
cd "$(dirname "$0")/files"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
head -c $((17 * 1024 * 1024)) /dev/zero > "$tmp/text.txt"
gzip -9c "$tmp/text.txt" > text-bomb.gz
python3 -c 'import sys,zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1],"rb").read(), 9))' "$tmp/text.txt" > text-bomb.zz
zstd -19cq "$tmp/text.txt" > text-bomb.zst
brotli -q 11 -c "$tmp/text.txt" > text-bomb.br
xz -9c "$tmp/text.txt" > text-bomb.xz
bzip2 -9c "$tmp/text.txt" > text-bomb.bz2
lz4 -9cq -BD "$tmp/text.txt" > text-bomb.lz4
rm -f text-bomb.7z
(cd "$tmp" && 7zz a -bso0 -m0=PPMd "$OLDPWD/text-bomb.7z" text.txt)
ls -l text-bomb.*
# Streams cut short: the first half of each tool's stream of a gallery text.
src=../../../www/gallery/text/doyle-scandal-in-bohemia.txt
cut_half() { local n; n=$(($(wc -c < "$1") / 2)); head -c "$n" "$1" > "$2"; rm -f "$1"; }
gzip -9c "$src" > "$tmp/a" && cut_half "$tmp/a" text-cut.gz
zstd -19cq "$src" > "$tmp/a" && cut_half "$tmp/a" text-cut.zst
xz -9c "$src" > "$tmp/a" && cut_half "$tmp/a" text-cut.xz
bzip2 -9c "$src" > "$tmp/a" && cut_half "$tmp/a" text-cut.bz2
brotli -q 11 -c "$src" > "$tmp/a" && cut_half "$tmp/a" text-cut.br
lz4 -9cq "$src" > "$tmp/a" && cut_half "$tmp/a" text-cut.lz4
(cd "$tmp" && cp "$OLDPWD/$src" text.txt && 7zz a -bso0 -m0=PPMd "$tmp/a.7z" text.txt) && cut_half "$tmp/a.7z" text-cut.7z
: > text-empty.gz
ls -l text-cut.* text-empty.gz
