# Sourced by the other scripts: paths, and the wasm toolchain this machine can use.
#
#   MPQ_WASM_TOOLCHAIN=auto|prebuilt|debian-build-std   (default auto: detect)
#
# 1. prebuilt: the default rustc has a wasm32-unknown-unknown std (an ordinary laptop after
#    `rustup target add wasm32-unknown-unknown`); setup.sh tries that `rustup target add` first.
# 2. debian-build-std: Debian's rustc-web/cargo-web 1.96 with std sources, building std with
#    -Zbuild-std (RUSTC_BOOTSTRAP=1). Only the wasm build sees these settings, through a shim
#    folder whose cargo/rustc/rustdoc are Debian's; native `cargo test` is untouched.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true TRUNK_COLOR=never RUST_BACKTRACE=${RUST_BACKTRACE:-0}

log() { echo "[mpqlab] $*" >&2; }
die() { echo "[mpqlab] error: $*" >&2; exit 1; }
timed() { local t0=$SECONDS rc=0; "$@" || rc=$?; log "$((SECONDS - t0)) s (rc=$rc): $*"; return $rc; }

has_prebuilt_wasm_std() {
  local sysroot
  sysroot="$(rustc --print sysroot 2>/dev/null)" || return 1
  [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]
}

has_debian_wasm_route() {
  [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/src/rust/library ] && [ -e /usr/bin/rust-lld ]
}

# Puts the chosen wasm toolchain into this shell's environment (call only before wasm builds).
use_wasm_toolchain() {
  local mode="${MPQ_WASM_TOOLCHAIN:-auto}"
  if [ "$mode" = auto ]; then
    if has_prebuilt_wasm_std; then mode=prebuilt
    elif has_debian_wasm_route; then mode=debian-build-std
    else die "no wasm32 toolchain: run scripts/setup.sh"; fi
  fi
  case "$mode" in
    prebuilt) ;;
    debian-build-std)
      has_debian_wasm_route || die "Debian wasm route missing: apt-get install rustc-web cargo-web rust-web-src lld-22"
      local shim="$ROOT/.debian-rust-bin"
      mkdir -p "$shim"
      for t in cargo rustc rustdoc; do ln -sfn "/usr/bin/$t" "$shim/$t"; done
      export PATH="$shim:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
      export RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort ;;
    *) die "unknown MPQ_WASM_TOOLCHAIN=$mode" ;;
  esac
  # wasm-opt from npm's binaryen (Debian's binaryen 108 corrupts wasm-bindgen output).
  export PATH="$ROOT/node_modules/.bin:$PATH"
  export MPQ_WASM_MODE="$mode"
  log "wasm toolchain: $mode ($(cargo --version))"
}

# The wasm-bindgen version the web crate pins (crates/web/Cargo.toml).
wasm_bindgen_version() {
  sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$ROOT/crates/web/Cargo.toml"
}

# Where cargo puts its builds (honours CARGO_TARGET_DIR and any cargo config).
cargo_target_dir() {
  cargo metadata --format-version 1 --no-deps --manifest-path "$ROOT/Cargo.toml" \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))'
}
