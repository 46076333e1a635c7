#!/usr/bin/env bash
# The cluster sweep on a real scheduler: a one-node Slurm (munged, slurmctld, slurmd from
# Debian, on loopback, started and stopped here) runs a small sweep as an array job through
# scripts/cluster-sweep.sh, both ways (waiting here, and a dependent merge job); the merged
# JSON, CSV and SVG must equal one unsharded run's byte for byte.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${MPQLAB_BIN:?set MPQLAB_BIN to the mpqlab binary}"
work="$(mktemp -d)"
cleanup() { "$ROOT/scripts/slurm-local.sh" stop "$work/slurm" || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "cluster sweep test: $*" >&2; exit 1; }

eval "$("$ROOT/scripts/slurm-local.sh" start "$work/slurm")"
export SLURM_CONF
sinfo

# Two image codecs (an image model's sweep) — 7 points over 4 shards, so shards differ in size.
image=(--model fashion-cnn --items 60 --codec jpeg:quality=5..95:4 --codec webp-ll-down:scale=20..80:3 --no-timings)
(cd "$ROOT" && "$MPQLAB_BIN" sweep "${image[@]}" --csv "$work/one.csv" --svg "$work/one.svg" >"$work/one.json" 2>/dev/null)
MPQLAB_BIN="$MPQLAB_BIN" "$ROOT/scripts/cluster-sweep.sh" --shards 4 --out "$work/image" -- "${image[@]}"
for ext in json csv svg; do
  cmp "$work/one.$ext" "$work/image/sweep.$ext" || fail "the merged sweep.$ext differs from the unsharded run's"
done
n="$(grep -c '"codec":' "$work/image/sweep.json")"
[ "$n" = 7 ] || fail "$n points merged, 7 planned"
for i in 0 1 2 3; do grep -q '"format": "mpqlab-sweep-shard"' "$work/image/shard-$i.json" || fail "shard $i wrote no shard file"; done
echo "image sweep: 4 Slurm array tasks merged = the unsharded run (json, csv, svg)"

# The audio sweep, submitted without waiting: the merge is a job that depends on the array.
audio=(--model kws-cnn --items 40 --codec opus:bitrate=6000,12000,24000 --codec mulaw --no-timings)
(cd "$ROOT" && "$MPQLAB_BIN" sweep "${audio[@]}" --csv "$work/audio.csv" >"$work/audio.json" 2>/dev/null)
MPQLAB_BIN="$MPQLAB_BIN" "$ROOT/scripts/cluster-sweep.sh" --no-wait --shards 3 --out "$work/audio" -- "${audio[@]}"
for _ in $(seq 600); do [ -f "$work/audio/sweep.json" ] && break; sleep 0.5; done
[ -f "$work/audio/sweep.json" ] || { squeue >&2 || true; cat "$work/audio"/*.log >&2 || true; fail "the merge job did not finish in 5 minutes"; }
cmp "$work/audio.json" "$work/audio/sweep.json" || fail "the audio sweep merged by its Slurm job differs from the unsharded run"
cmp "$work/audio.csv" "$work/audio/sweep.csv" || fail "the audio sweep's CSV differs"
echo "audio sweep: 3 array tasks and a dependent merge job = the unsharded run (json, csv)"

# A failing shard fails the script, with the shard's reason.
if MPQLAB_BIN="$MPQLAB_BIN" "$ROOT/scripts/cluster-sweep.sh" --shards 2 --out "$work/bad" -- --model fashion-cnn --codec nosuchcodec:q=1,2 2>"$work/bad.err"; then
  fail "a sweep with an unknown codec passed"
fi
grep -q "unknown codec 'nosuchcodec'" "$work/bad.err" || fail "the failing shard's reason was not shown: $(cat "$work/bad.err")"
echo "cluster sweep test passed"
