#!/usr/bin/env bash
# Accuracy on real data, measured with the command line's default flags and presets.
#
#   scripts/accuracy.sh DATA_DIR        # DATA_DIR holds mnist/, iris/, breast-cancer/, diabetes/
#
# Each line runs `backprop train`, reads its --json result, and checks it against the goal of
# issue 3. Exits 1 when a goal is missed. .ci/run calls it with ../shared/data when present.
# Results and timings measured here are recorded in docs/accuracy.md.
set -euo pipefail
data=${1:?usage: scripts/accuracy.sh DATA_DIR}
cd "$(dirname "$0")/.."
cargo build --quiet --release -p backprop-cli
binary=$PWD/target/release/backprop
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
export TIMES=$scratch/times

# check NAME FIELD MINIMUM -- ARGUMENTS…: trains, prints the figure and the time, checks it.
check() {
    local name=$1 field=$2 minimum=$3
    shift 4
    local started ended result
    started=$(date +%s.%N)
    result=$("$binary" train "$@" --json -q --out "$scratch/$name.safetensors" 2> "$scratch/$name.log") || {
        echo "FAIL $name: backprop exited with an error"; tail -5 "$scratch/$name.log"; failures=$((failures + 1)); return
    }
    ended=$(date +%s.%N)
    if python3 - "$result" "$field" "$minimum" "$name" "$started" "$ended" "$*" <<'PY'
import json, os, sys
result, field, minimum, name, started, ended, arguments = sys.argv[1:]
value = json.loads(result)[field]
ok = value >= float(minimum)
seconds = float(ended) - float(started)
print(f"{'ok  ' if ok else 'FAIL'} {name:14} {field} {value:.4f} (goal >= {minimum})  "
      f"{seconds:6.2f} s  backprop train {arguments}")
with open(os.environ["TIMES"], "a") as times:
    times.write(f"{name} {seconds} {value}\n")
sys.exit(0 if ok else 1)
PY
    then :; else failures=$((failures + 1)); fi
}

check digits test_accuracy 0.96 --
check iris test_accuracy 0.95 -- --data "$data/iris/iris-with-header.csv.gz"
check breast-cancer test_accuracy 0.95 -- --data "$data/breast-cancer/breast-cancer-with-header.csv.gz"
check diabetes test_r2 0.45 -- --data "$data/diabetes/diabetes-with-header.csv.gz"
# A small convolutional network on the 8×8 digits: >= 98.5 % as the median of 3 seeds.
for seed in 0 1 2; do
    check "digits-conv-seed-$seed" test_accuracy 0.97 -- --data digits --seed "$seed" \
        --layers conv:32:3:1:same,maxpool:2,conv:64:3:1:same,maxpool:2,dropout:0.25,128 \
        --scale minmax --learning-rate 0.002 --epochs 30
done
python3 - "$TIMES" <<'PY' || failures=$((failures + 1))
import statistics, sys
runs = [line.split() for line in open(sys.argv[1]) if line.startswith("digits-conv-seed-")]
accuracy = statistics.median(float(r[2]) for r in runs)
ok = accuracy >= 0.985
print(f"{'ok  ' if ok else 'FAIL'} digits-conv, median of {len(runs)} seeds: test accuracy "
      f"{accuracy:.4f} (goal >= 0.985)")
sys.exit(0 if ok else 1)
PY
if [ -d "$data/mnist" ]; then
    # Issue 4's goal: >= 98 % in at most 4 s of wall time, data loading included, as the median
    # of 3 seeds. The time is reported, not checked: a busy machine can double it.
    for seed in 0 1 2; do
        check "mnist-seed-$seed" test_accuracy 0.98 -- --data "mnist:$data/mnist" --seed "$seed"
    done
    python3 - "$TIMES" <<'PY'
import statistics, sys
runs = [line.split() for line in open(sys.argv[1]) if line.startswith("mnist-seed-")]
seconds = statistics.median(float(r[1]) for r in runs)
accuracy = statistics.median(float(r[2]) for r in runs)
print(f"mnist, median of {len(runs)} seeds: test accuracy {accuracy:.4f}, {seconds:.2f} s wall "
      f"(goal >= 0.98 in <= 4 s{'' if seconds <= 4 else '; slower here: a busy machine?'})")
PY
    # Convolutions: >= 99.3 % as the median of 3 seeds with --preset mnist-conv, in <= 180 s
    # of wall time each, data loading included. Accuracy is checked; the time is reported.
    for seed in 0 1 2; do
        check "mnist-conv-seed-$seed" test_accuracy 0.99 -- --data "mnist:$data/mnist" \
            --preset mnist-conv --seed "$seed"
    done
    python3 - "$TIMES" <<'PY' || failures=$((failures + 1))
import statistics, sys
runs = [line.split() for line in open(sys.argv[1]) if line.startswith("mnist-conv-seed-")]
seconds = statistics.median(float(r[1]) for r in runs)
accuracy = statistics.median(float(r[2]) for r in runs)
ok = accuracy >= 0.993
print(f"{'ok  ' if ok else 'FAIL'} mnist-conv, median of {len(runs)} seeds: test accuracy "
      f"{accuracy:.4f} (goal >= 0.993), {seconds:.2f} s wall (goal <= 180 s"
      f"{'' if seconds <= 180 else '; slower here: a busy machine?'})")
sys.exit(0 if ok else 1)
PY
    # Within one point of Nielsen's book: about 95 % (chapter 1) and 97.92 % (chapter 3).
    check nielsen test_accuracy 0.94 -- --data "mnist:$data/mnist" --preset nielsen
    check nielsen2 test_accuracy 0.9692 -- --data "mnist:$data/mnist" --preset nielsen2
    # The MNIST steps of docs/tutorial.md, with their reports.
    scripts/tutorial-mnist.sh "$data" || failures=$((failures + 1))
elif [ "${CI:-}" = true ]; then
    echo "CI=true and $data/mnist is not here: the MNIST checks cannot run" >&2
    failures=$((failures + 1))
else
    echo "$data/mnist is not here: the MNIST checks are skipped (outside CI)"
fi

if [ "$failures" -gt 0 ]; then
    echo "$failures accuracy goal(s) missed"
    exit 1
fi
echo "every accuracy goal met"
