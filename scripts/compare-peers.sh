#!/usr/bin/env bash
# Throughput of backprop against NumPy and PyTorch on the workloads of issue 4, side by side.
#
#   scripts/compare-peers.sh                      # every config, both peers, 2 threads
#   PEERS=numpy CONFIGS="a b-sgd-32" RUNS=5 scripts/compare-peers.sh
#
# It builds backprop in release mode, makes a Python virtual environment (VENV, default
# target/peer-venv) and installs NumPy and PyTorch into it from PyPI (pip's default index; set
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu for the 200 MB CPU-only PyTorch wheel
# instead of PyPI's 5 GB one with CUDA libraries). Then, RUNS times (default 3), it runs each
# config once per contender in turn (backprop, NumPy, PyTorch), each run a separate process
# with one warm-up epoch and EPOCHS timed ones (default 3), THREADS threads (default 2). Taking
# turns keeps the ratios meaningful on a machine whose speed drifts; the table gives medians
# over the runs and the ratios of the medians.
#
# Benchmarks are never part of CI's pass/fail (conventions, tier 3): this needs the network
# for pip and takes several minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-3}
RUNS=${RUNS:-3}
CONFIGS=${CONFIGS:-"a b-sgd-32 b-sgd-256 b-adam-32 infer-b lenet"}
PEERS=${PEERS:-"numpy torch"}
VENV=${VENV:-target/peer-venv}

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
for peer in $PEERS; do
    case $peer in
    numpy) "$VENV/bin/pip" install --quiet numpy ;;
    torch) "$VENV/bin/pip" install --quiet numpy torch ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} ;;
    *) echo "unknown peer '$peer' (expected numpy or torch)" >&2; exit 2 ;;
    esac
done
python=$VENV/bin/python

# backprop's own figure: `backprop bench --json`, whose `samples_per_second` is the median over
# the timed epochs.
target=${CARGO_TARGET_DIR:-target}
cargo build --quiet --release -p backprop-cli
backprop_speed() {
    "$target/release/backprop" bench --config "$1" --threads "$THREADS" --epochs "$EPOCHS" --json |
        "$python" -c 'import json, sys; print(json.load(sys.stdin)["samples_per_second"])'
}
peer_speed() {
    "$python" scripts/peer_bench.py "$1" "$2" --threads "$THREADS" --epochs "$EPOCHS" |
        "$python" -c 'import json, sys; print(json.load(sys.stdin)["samples_per_second"])'
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for run in $(seq "$RUNS"); do
    for config in $CONFIGS; do
        echo "run $run/$RUNS: $config" >&2
        echo "$config backprop $(backprop_speed "$config")" >> "$results"
        for peer in $PEERS; do
            # NumPy has no convolutions; the lenet row compares with PyTorch only.
            if [ "$config" = lenet ] && [ "$peer" = numpy ]; then continue; fi
            echo "$config $peer $(peer_speed "$peer" "$config")" >> "$results"
        done
    done
done

"$python" - "$results" "$PEERS" "$THREADS" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    config, contender, speed = line.split()
    rows[(config, contender)].append(float(speed))
peers, threads = sys.argv[2].split(), sys.argv[3]
configs = list(dict.fromkeys(config for config, _ in rows))
header = ["config", "backprop"] + peers + [f"backprop / {p}" for p in peers]
print(f"samples/s, {threads} threads, median of {len(rows[(configs[0], 'backprop')])} runs")
print("| " + " | ".join(header) + " |")
print("|" + " --- |" * len(header))
for config in configs:
    ours = statistics.median(rows[(config, "backprop")])
    theirs = [statistics.median(rows[(config, p)]) if rows[(config, p)] else None for p in peers]
    cells = [config, f"{ours / 1e3:,.1f}k"]
    cells += [f"{t / 1e3:,.1f}k" if t else "-" for t in theirs]
    cells += [f"{ours / t:.2f}" if t else "-" for t in theirs]
    print("| " + " | ".join(cells) + " |")
PY
