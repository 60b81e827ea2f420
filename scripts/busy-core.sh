#!/usr/bin/env bash
# Does a second thread still help when another process holds a core? `backprop bench` on 1 and
# on 2 threads, taking turns, on a quiet machine and while a busy loop runs pinned to one core.
#
#   scripts/busy-core.sh [BINARY …]                   # b-sgd-256 and b-adam-32, 5 rounds
#   CONFIGS=b-adam-32 RUNS=7 EPOCHS=2 scripts/busy-core.sh target/release/backprop
#   scripts/busy-core.sh /tmp/before/backprop target/release/backprop   # two builds in turns
#
# Each round runs, for each config: 1 thread quiet, 2 threads quiet, then the same two while
# `taskset -c BUSY_CORE` (default: the last core) spins a shell loop that ends by itself after
# BUSY_SECONDS (default 120) or when the measurement is over. The table gives the median
# samples/s of each cell over the rounds and the ratio 2 threads / 1 thread of the medians.
# Goals (docs/performance.md): quiet ≥ 1.6× on b-sgd-256 and ≥ 1.25× on b-adam-32; busy ≥ 0.95×.
#
# Never part of CI: it measures, and needs two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIGS=${CONFIGS:-"b-sgd-256 b-adam-32"}
RUNS=${RUNS:-5}
EPOCHS=${EPOCHS:-3}
BUSY_SECONDS=${BUSY_SECONDS:-120}
BUSY_CORE=${BUSY_CORE:-$(($(nproc) - 1))}
binaries=("$@")
if [ ${#binaries[@]} -eq 0 ]; then
    cargo build --quiet --release -p backprop-cli
    binaries=("${CARGO_TARGET_DIR:-target}/release/backprop")
fi

busy=""
stop_busy() {
    if [ -n "$busy" ]; then kill "$busy" 2> /dev/null || true; wait "$busy" 2> /dev/null || true; fi
    busy=""
}

speed() { # BINARY CONFIG THREADS
    local binary=$1
    shift
    "$binary" bench --config "$1" --threads "$2" --epochs "$EPOCHS" --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["samples_per_second"])'
}

results=$(mktemp)
trap 'stop_busy; rm -f "$results"' EXIT
for run in $(seq "$RUNS"); do
    for config in $CONFIGS; do
        for number in "${!binaries[@]}"; do
            binary=${binaries[$number]}
            echo "round $run/$RUNS: $config, $binary" >&2
            echo "$number $config quiet 1 $(speed "$binary" "$config" 1)" >> "$results"
            echo "$number $config quiet 2 $(speed "$binary" "$config" 2)" >> "$results"
            taskset -c "$BUSY_CORE" timeout "$BUSY_SECONDS" sh -c 'while :; do :; done' &
            busy=$!
            echo "$number $config busy 1 $(speed "$binary" "$config" 1)" >> "$results"
            echo "$number $config busy 2 $(speed "$binary" "$config" 2)" >> "$results"
            stop_busy
        done
    done
done

python3 - "$results" "$RUNS" "$BUSY_CORE" "${binaries[@]}" <<'PY'
import collections, statistics, sys
cells = collections.defaultdict(list)
for line in open(sys.argv[1]):
    number, config, load, threads, rate = line.split()
    cells[int(number), config, load, int(threads)].append(float(rate))
binaries = sys.argv[4:]
print(f"median of {sys.argv[2]} rounds; busy = a shell loop pinned to core {sys.argv[3]}")
print("| binary | config | machine | 1 thread samples/s | 2 threads samples/s | 2 / 1 |")
print("| --- | --- | --- | --- | --- | --- |")
keys = sorted({(c, l, n) for n, c, l, _ in cells}, key=lambda k: (k[0], k[1] != "quiet", k[2]))
for config, load, number in keys:
    one = statistics.median(cells[number, config, load, 1])
    two = statistics.median(cells[number, config, load, 2])
    print(f"| {binaries[number]} | {config} | {load} | {one:,.0f} | {two:,.0f} | {two / one:.2f}x |")
PY
