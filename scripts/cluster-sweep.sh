#!/usr/bin/env bash
# A sweep on a Slurm cluster: its points split over an array job (`sbatch --array`), one
# `mpqlab sweep … --shard i/n` per task, then `mpqlab merge` into the JSON, CSV and SVG that one
# unsharded run writes (byte for byte with --no-timings).
#
#   scripts/cluster-sweep.sh --shards 8 --out runs/jpeg -- --model fashion-cnn --items 1000 \
#       --codec jpeg:quality=1..95:24 --no-timings
#
# Options (before `--`; everything after it goes to `mpqlab sweep`):
#   --shards N        array tasks (default 4)
#   --out DIR         where shard-I.json, shard-I.log and sweep.{json,csv,svg} go (default sweep-out)
#   --partition P     the partition to submit to (default: the cluster's default)
#   --cpus C          CPUs per task (default 1)
#   --time T          time limit per task, as sbatch takes it (default 2:00:00)
#   --no-wait         submit the array and a merge job that waits for it (afterok), then return;
#                     by default the script waits for the array and merges here
# Environment: MPQLAB_BIN (default `mpqlab` on PATH, else this checkout's debug or release build),
# SLURM_CONF as for any Slurm command (scripts/slurm-local.sh starts a one-node cluster).
# The tasks run in this checkout (the gallery and data paths are relative to it), so the folder
# must be on a file system the compute nodes share, as DIR must.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

shards=4; out=sweep-out; partition=""; cpus=1; time_limit=2:00:00; wait=1
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --partition) partition="$2"; shift 2 ;;
    --cpus) cpus="$2"; shift 2 ;;
    --time) time_limit="$2"; shift 2 ;;
    --no-wait) wait=0; shift ;;
    --) shift; break ;;
    *) echo "cluster-sweep: unknown option $1 (the sweep's own options go after --)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "cluster-sweep: no sweep given: … -- --model fashion-cnn --codec jpeg:quality=1..95:8" >&2; exit 2; }
case "$shards" in ''|*[!0-9]*) echo "cluster-sweep: --shards $shards is not a number" >&2; exit 2 ;; esac
[ "$shards" -ge 1 ] || { echo "cluster-sweep: --shards must be at least 1" >&2; exit 2; }
for a in "$@"; do
  case "$a" in --shard|--shard=*|--csv|--csv=*|--svg|--svg=*)
    echo "cluster-sweep: $a is set by this script (each task's shard; the merged --csv and --svg go to --out)" >&2; exit 2 ;;
  esac
done
command -v sbatch >/dev/null || { echo "cluster-sweep: sbatch is missing (Debian: slurm-client or slurm-wlm)" >&2; exit 1; }

bin="${MPQLAB_BIN:-}"
if [ -z "$bin" ]; then
  bin="$(command -v mpqlab || true)"
  target="${CARGO_TARGET_DIR:-$HOME/.cache/mpqlab/target}"
  for b in "$target/release/mpqlab" "$target/debug/mpqlab"; do
    if [ -z "$bin" ] && [ -x "$b" ]; then bin="$b"; fi
  done
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "cluster-sweep: no mpqlab binary (set MPQLAB_BIN, or cargo build -p mpq-cli)" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -f "$out"/shard-*.json "$out"/shard-*.log "$out"/sweep.json "$out"/sweep.csv "$out"/sweep.svg

# The sweep's arguments, quoted for the batch scripts.
sweep_args="$(printf ' %q' "$@")"
common=(--chdir="$ROOT" --cpus-per-task="$cpus" --time="$time_limit" --parsable)
[ -z "$partition" ] || common+=(--partition="$partition")

cat >"$out/shard.sbatch" <<EOF
#!/usr/bin/env bash
#SBATCH --job-name=mpqlab-sweep
#SBATCH --array=0-$((shards - 1))
#SBATCH --output=$out/shard-%a.json
#SBATCH --error=$out/shard-%a.log
# One shard of the sweep: stdout is the shard file, stderr the progress.
set -euo pipefail
exec $(printf '%q' "$bin") sweep$sweep_args --shard "\$SLURM_ARRAY_TASK_ID/$shards"
EOF
cat >"$out/merge.sbatch" <<EOF
#!/usr/bin/env bash
#SBATCH --job-name=mpqlab-merge
#SBATCH --output=$out/merge.log
# The shards joined; sweep.json appears whole (written aside, then renamed).
set -euo pipefail
shards=()
for i in \$(seq 0 $((shards - 1))); do shards+=("$out/shard-\$i.json"); done
$(printf '%q' "$bin") merge "\${shards[@]}" --csv "$out/sweep.csv" --svg "$out/sweep.svg" > "$out/sweep.json.part"
mv "$out/sweep.json.part" "$out/sweep.json"
EOF

if [ "$wait" = 0 ]; then
  array="$(sbatch "${common[@]}" "$out/shard.sbatch")"
  array="${array%%;*}"
  merge="$(sbatch "${common[@]}" --dependency=afterok:"$array" --kill-on-invalid-dep=yes "$out/merge.sbatch")"
  merge="${merge%%;*}"
  echo "submitted array job $array ($shards shards) and merge job $merge; the result will be $out/sweep.json"
  exit 0
fi

started=$(date +%s)
if ! array="$(sbatch "${common[@]}" --wait "$out/shard.sbatch")"; then
  echo "cluster-sweep: a shard failed; their logs:" >&2
  for f in "$out"/shard-*.log; do echo "--- $f" >&2; tail -n 5 "$f" >&2; done
  exit 1
fi
echo "array job ${array%%;*}: $shards shards in $(( $(date +%s) - started )) s" >&2
bash "$out/merge.sbatch"
echo "merged: $out/sweep.json, $out/sweep.csv, $out/sweep.svg" >&2
