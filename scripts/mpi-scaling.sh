#!/usr/bin/env bash
# Throughput of data-parallel training at 1, 2 and 4 ranks, with the share of each step spent
# in exchanges (docs/distributed.md). Not part of CI's pass/fail.
# Usage: scripts/mpi-scaling.sh BINARY DATA [EXTRA TRAIN FLAGS...]
#   BINARY: a release build with --features mpi;  DATA: e.g. mnist:../shared/data/mnist
# Prints one Markdown table row per run: threads per rank, samples/s over the training epochs,
# on rank 0 the seconds in shard gradients, in combining (tree sums and exchanges) and in
# exchanges alone (MPI collectives, waiting for other ranks included), the exchanges' share of
# gradients + combining, the wall time of the whole command, and the test accuracy.
set -euo pipefail
binary=$(realpath "$1")
data=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpirun=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
report() {
    python3 - "$1" "$2" "$3" "$4" <<'PY'
import json, sys
label, threads, wall, path = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
d = json.load(open(path))
compute, combine = d.get("compute_seconds"), d.get("combine_seconds")
exchange = d.get("communication_seconds")
if compute is None:
    split = "- | - | - | -"
else:
    share = 100 * exchange / (compute + combine)
    split = f"{compute:.2f} s | {combine:.2f} s | {exchange:.2f} s | {share:.1f} %"
print(f"| {label:<22} | {threads} | {d['samples_per_second']:>9,.0f} | {split} | {wall:5.1f} s "
      f"| {d['test_accuracy']:.4f} |")
PY
}
run() {
    local label=$1 threads=$2
    shift 2
    local started ended
    started=$(date +%s.%N)
    "$@" --threads "$threads" --data "$data" -q --json --out "$work/model.safetensors" \
        "${extra[@]}" > "$work/out.json" 2> "$work/err.log" || { cat "$work/err.log"; exit 1; }
    ended=$(date +%s.%N)
    report "$label" "$threads" "$(echo "$ended - $started" | bc)" "$work/out.json"
}
extra=("$@")
echo "| run | threads | samples/s | gradients | combining | exchanges | share | wall | test acc |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
run "plain, 1 process" 2 "$binary" train
run "--shards 8, 1 process" 2 "$binary" train --shards 8
for ranks in 1 2 4; do
    run "mpirun -np $ranks" 1 "${mpirun[@]}" -np "$ranks" "$binary" train
    run "mpirun -np $ranks fast" 1 "${mpirun[@]}" -np "$ranks" "$binary" train --fast-allreduce
done
