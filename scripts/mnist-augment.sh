#!/usr/bin/env bash
# MNIST with convolutions and Nielsen's one-pixel shifts: the goal is >= 99.5 % test accuracy in
# at most 10 minutes of wall time, data loading included. Not run by CI (it takes minutes).
#
#   scripts/mnist-augment.sh DATA_DIR [SEED]      # DATA_DIR holds mnist/
set -euo pipefail
data=${1:?usage: scripts/mnist-augment.sh DATA_DIR [SEED]}
seed=${2:-0}
cd "$(dirname "$0")/.."
cargo build --quiet --release -p backprop-cli
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
started=$(date +%s.%N)
result=$(target/release/backprop train --data "mnist:$data/mnist" --preset mnist-conv \
    --augment shift --seed "$seed" --json -q --out "$scratch/model.safetensors")
ended=$(date +%s.%N)
python3 - "$result" "$started" "$ended" <<'PY'
import json, sys
accuracy = json.loads(sys.argv[1])["test_accuracy"]
seconds = float(sys.argv[3]) - float(sys.argv[2])
ok = accuracy >= 0.995 and seconds <= 600
print(f"{'ok  ' if ok else 'FAIL'} mnist-conv --augment shift: test accuracy {accuracy:.4f} "
      f"(goal >= 0.995), {seconds:.1f} s wall (goal <= 600 s)")
sys.exit(0 if ok else 1)
PY
