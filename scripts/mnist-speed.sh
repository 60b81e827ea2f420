#!/usr/bin/env bash
# How long the default MNIST preset takes, end to end: process start, loading and hashing the
# data, training, the final evaluation and the model file, as a user sees it.
#
#   scripts/mnist-speed.sh DATA_DIR [BINARY ...]        # default: this checkout's release build
#   SEEDS="0 1 2" THREADS=2 PARSED=cold scripts/mnist-speed.sh ../shared/data old/backprop new/backprop
#
# For every seed, each binary runs once in turn (taking turns keeps a comparison fair on a
# machine whose speed drifts). Before each run the operating system's file cache is dropped
# when this runs as root (`/proc/sys/vm/drop_caches`; otherwise the runs are "warm" and the
# table says so), and with PARSED=cold (default: warm) backprop's own cache of decompressed
# IDX files is emptied too (it lives in a scratch folder here, never the user's). The table
# gives each run's wall time and test accuracy and, per binary, the medians.
#
# Never part of CI: it measures.
set -euo pipefail
data=${1:?usage: scripts/mnist-speed.sh DATA_DIR [BINARY ...]}
shift
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"0 1 2"}
THREADS=${THREADS:-2}
PARSED=${PARSED:-warm}
binaries=("$@")
if [ ${#binaries[@]} -eq 0 ]; then
    cargo build --quiet --release -p backprop-cli
    binaries=("${CARGO_TARGET_DIR:-target}/release/backprop")
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export BACKPROP_CACHE_DIR=$scratch/cache

drop_os_cache() {
    if [ -w /proc/sys/vm/drop_caches ]; then
        sync
        echo 3 > /proc/sys/vm/drop_caches
        echo cold
    else
        echo warm
    fi
}

# Fill the parsed cache once when runs are to find it warm.
if [ "$PARSED" = warm ]; then
    "${binaries[0]}" train --data "mnist:$data/mnist" --epochs 1 --layers 10 --threads "$THREADS" \
        --out "$scratch/warm-up.safetensors" > /dev/null 2>&1
fi

printf '%-40s %5s %9s %9s %10s\n' binary seed "os cache" "wall (s)" "test acc."
results=$scratch/results
for seed in $SEEDS; do
    for binary in "${binaries[@]}"; do
        [ "$PARSED" = cold ] && rm -rf "$BACKPROP_CACHE_DIR"
        os_cache=$(drop_os_cache)
        started=$(date +%s.%N)
        json=$("$binary" train --data "mnist:$data/mnist" --seed "$seed" --threads "$THREADS" \
            --json --out "$scratch/model.safetensors" 2> /dev/null)
        ended=$(date +%s.%N)
        wall=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$started" "$ended")
        accuracy=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["test_accuracy"])' "$json")
        printf '%-40s %5s %9s %9s %10s\n' "$binary" "$seed" "$os_cache" "$wall" "$accuracy"
        echo "$binary $wall $accuracy" >> "$results"
    done
done
python3 - "$results" "$PARSED" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    binary, wall, accuracy = line.split()
    runs.setdefault(binary, []).append((float(wall), float(accuracy)))
print(f"\nmedians (parsed IDX cache {sys.argv[2]}):")
for binary, values in runs.items():
    wall = statistics.median(w for w, _ in values)
    accuracy = statistics.median(a for _, a in values)
    print(f"  {binary}: {wall:.2f} s wall, test accuracy {accuracy * 100:.2f} % "
          f"(goal: >= 98 % in <= 1.5 s)")
PY
