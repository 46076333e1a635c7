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
# The log-structure codec's: a header that claims more than the limit, a small claim over a
# bomb (the xz bomb above as its back-end's stream), columns that build more than the header
# states (their container through xz), and a stream cut short (needs a built mpqlab:
# MPQLAB_BIN, default the debug build).
bin="${MPQLAB_BIN:-$(cd ../../.. && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/mpqlab}"
python3 - <<'PY'
import lzma, struct
def header(backend, layout, n):
    return b"MPLG" + bytes([1, backend, layout]) + struct.pack("<I", n)
open("text-claims.mplog", "wb").write(header(0, 0, 17 << 20) + open("text-bomb.xz", "rb").read()[:64])
open("text-bomb.mplog", "wb").write(header(0, 0, 1000) + open("text-bomb.xz", "rb").read())
# One template "\0" used by 3 lines, its one column of strings 1000 bytes each: 3000 bytes of
# text where the header states 10.
container = bytes([0, 3, 1]) + b"\0\n" + bytes([0, 0, 0]) + bytes([0]) + (b"7" * 1000 + b"\n") * 3
open("text-lies.mplog", "wb").write(header(0, 1, 10) + lzma.compress(container, preset=9))
PY
"$bin" compress ../../../www/gallery/text/logs/http-access.log -c logs:backend=xz -o "$tmp/a.mplog" 2>/dev/null && cut_half "$tmp/a.mplog" text-cut.mplog
ls -l text-*.mplog
