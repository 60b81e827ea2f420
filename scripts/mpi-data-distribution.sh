#!/usr/bin/env bash
# `--data-distribution read` against `broadcast` (docs/distributed.md, "How the ranks get the
# data"), side by side: for each rank count, the two modes alternate, REPEATS times each.
# Not part of CI's pass/fail.
# Usage: scripts/mpi-data-distribution.sh BINARY DATA [REPEATS] [RANK COUNTS...]
#   BINARY: a release build with --features mpi;  DATA: e.g. mnist:../shared/data/mnist
#   REPEATS: runs per mode and rank count (default 5);  RANK COUNTS: default 2 4
# Every run is `backprop train --epochs 1 --threads 1` on each rank. Measured per run:
#   - data ready: seconds from the start of each process to its data being loaded, split,
#     scaled and hashed, the largest over the ranks (the `data_ready_seconds` of --json);
#   - wall: the whole mpirun command, start to exit.
# Prints every run, then a Markdown table of the medians.
set -euo pipefail
binary=$(realpath "$1")
data=$2
repeats=${3:-5}
shift $(( $# < 3 ? $# : 3 ))
rank_counts=("$@")
[ ${#rank_counts[@]} -gt 0 ] || rank_counts=(2 4)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpirun=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
results="$work/results.tsv"
for ranks in "${rank_counts[@]}"; do
    for repeat in $(seq 1 "$repeats"); do
        for mode in read broadcast; do
            started=$(date +%s.%N)
            "${mpirun[@]}" -np "$ranks" "$binary" train --data "$data" --epochs 1 --threads 1 \
                --data-distribution "$mode" -q --json --out "$work/model.safetensors" \
                > "$work/out.json" 2> "$work/err.log" || { cat "$work/err.log"; exit 1; }
            ended=$(date +%s.%N)
            ready=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data_ready_seconds"])' "$work/out.json")
            wall=$(echo "$ended - $started" | bc)
            printf '%s\t%s\t%s\t%s\t%s\n' "$ranks" "$mode" "$repeat" "$ready" "$wall" | tee -a "$results"
        done
    done
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
print("| ranks | mode | runs | data ready (max over ranks), median | wall, median |")
print("| --- | --- | --- | --- | --- |")
for ranks in dict.fromkeys(row[0] for row in rows):
    for mode in ("read", "broadcast"):
        chosen = [row for row in rows if row[0] == ranks and row[1] == mode]
        ready = statistics.median(float(row[3]) for row in chosen)
        wall = statistics.median(float(row[4]) for row in chosen)
        print(f"| {ranks} | {mode} | {len(chosen)} | {ready:.3f} s | {wall:.2f} s |")
PY
