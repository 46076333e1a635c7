#!/usr/bin/env bash
# Fuzzes every target in fuzz/ with libFuzzer (cargo-fuzz, AddressSanitizer):
#   scripts/fuzz.sh [SECONDS]  [TARGET…]    (default 60 s each, every target)
#   scripts/fuzz.sh 600                     the long run: 10 minutes per target
# CI runs a few seconds of each (scripts/test.sh). The committed seeds (fuzz/seeds/<target>/)
# start each working corpus (fuzz/corpus/<target>/, not committed). A crash stops the run with
# its input in fuzz/artifacts/<target>/: fix it, then commit the input as a regression (the
# target's seeds, and a case in tests/hostile/ when it is a file a user could open).
# Prints one line per target: executions, coverage (edges), features, corpus size, peak RSS.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
secs="${1:-60}"
shift || true
command -v cargo-fuzz >/dev/null || timed cargo install cargo-fuzz --locked
cd "$ROOT/fuzz"
targets=("$@")
# MPQ_FUZZ_MODELS=0 (CI's short run) builds without mpq-models (burn, wgpu): the targets that
# need it (required-features = ["models"] in fuzz/Cargo.toml) are left out.
with_models="${MPQ_FUZZ_MODELS:-1}"
model_targets="$(awk '/^name = /{n=$3} /^required-features = .*models/{gsub(/"/,"",n); print n}' Cargo.toml)"
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^mpq-fuzz$')
  if [ "$with_models" = 0 ]; then
    mapfile -t targets < <(printf '%s\n' "${targets[@]}" | grep -vxF "$model_targets")
    log "without mpq-models: leaving out $(echo $model_targets)"
  fi
fi
export RUSTC_BOOTSTRAP=1
# Built as shipped (-O: release, no debug assertions). With debug assertions avif-parse's
# `debug_assert!`s fire on bad input; our `catch_unwind` turns them into errors in tests, but
# libFuzzer's panic hook aborts before any unwinding, so every AVIF mutation would "crash".
FUZZ_FLAGS=(-O)
[ "$with_models" = 0 ] && FUZZ_FLAGS+=(--no-default-features)
# Its own target dir (the sanitizer flags would otherwise invalidate the main build's cache),
# beside the main one, so that CI on a warm machine reuses it.
export CARGO_TARGET_DIR="${MPQ_FUZZ_TARGET_DIR:-$(cargo_target_dir)/fuzz}"
timed cargo fuzz build "${FUZZ_FLAGS[@]}" 2>&1 | grep -vE '^\s+(Compiling|Downloaded|Downloading|Fresh) ' >&2 || die "cargo fuzz build failed"
summary=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  log "fuzzing $t for $secs s"
  log_file="$(mktemp)"
  # Weight files are ~0.2 MB; everything else starts from small seeds.
  max_len=$([ "$t" = weights_load ] && echo 524288 || echo 131072)
  # rav1d 1.1 leaks 48 bytes per decoded picture in its own dav1d_picture_unref (a Default
  # picture's Arc, allocated and dropped into a raw pointer): every valid AVIF seed "leaks".
  # The targets that reach it run without LeakSanitizer; every other target keeps it.
  leaks=1
  case "$t" in image_load|codec_decode) leaks=0 ;; esac
  if ! cargo fuzz run "${FUZZ_FLAGS[@]}" "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2560 -timeout=30 \
      -max_len="$max_len" -print_final_stats=1 -detect_leaks="$leaks" -artifact_prefix="artifacts/$t/" >"$log_file" 2>&1; then
    tail -40 "$log_file" >&2
    die "$t found a crash: see fuzz/artifacts/$t/"
  fi
  done_line="$( { grep -E '^#[0-9]+[[:space:]]+DONE' "$log_file" || true; } | tail -1)"
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log_file" | tail -1)"
  rss="$(sed -n 's/^stat::peak_rss_mb: *//p' "$log_file" | tail -1)"
  cov="$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')"
  ft="$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')"
  files="$(find "corpus/$t" -type f | wc -l)"
  summary+=("$(printf '%-15s %12s runs  cov %6s  ft %6s  corpus %5s files  peak %5s MB' "$t" "$runs" "$cov" "$ft" "$files" "$rss")")
  rm -f "$log_file"
done
log "no crashes in ${#targets[@]} targets, $secs s each:"
printf '%s\n' "${summary[@]}" >&2
