#!/usr/bin/env bash
# Runs the MNIST steps of docs/tutorial.md (its ```console mnist blocks) against real data.
#
#   scripts/tutorial-mnist.sh DATA_DIR      # DATA_DIR/mnist holds MNIST's four IDX files
#
# The download step is skipped (the data is already there) and `data/mnist` in the commands
# becomes DATA_DIR/mnist. Every command must succeed; the default preset must still reach 98 %
# test accuracy, and the reports must hold their figures. Called by scripts/accuracy.sh when
# MNIST is present; not part of `cargo test`, which has no data.
set -euo pipefail
data=${1:?usage: scripts/tutorial-mnist.sh DATA_DIR}
data=$(cd "$data" && pwd)
cd "$(dirname "$0")/.."
tutorial=$PWD/docs/tutorial.md
cargo build --quiet --release -p backprop-cli
binary=$PWD/target/release/backprop
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"

commands=$(awk '/^```console mnist$/ { inside = 1; next } /^```/ { inside = 0 } inside && /^\$ backprop / { sub(/^\$ /, ""); print }' "$tutorial")
[ -n "$commands" ] || { echo "FAIL tutorial: no \`\`\`console mnist blocks in $tutorial"; exit 1; }
failures=0
while IFS= read -r command; do
    case "$command" in "backprop data download"*) echo "skip $command (the data is in $data/mnist)"; continue ;; esac
    command=${command//data\/mnist/$data/mnist}
    started=$(date +%s.%N)
    # The tutorial's commands hold no quotes, so splitting at spaces is exact.
    read -r -a words <<< "${command#backprop }"
    if "$binary" "${words[@]}" > out.txt 2>&1; then
        printf 'ok   %6.1f s  %s\n' "$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$started" "$(date +%s.%N)")" "$command"
        grep -E "^test |accuracy " out.txt | tail -3 | sed 's/^/       /'
    else
        echo "FAIL $command"; tail -5 out.txt; failures=$((failures + 1))
    fi
done <<< "$commands"

# The default preset's accuracy, from the evaluation of mnist.safetensors.
if [ -f mnist.safetensors ]; then
    accuracy=$("$binary" evaluate --model mnist.safetensors --data "mnist:$data/mnist" --json 2>/dev/null \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["accuracy"])')
    if python3 -c "import sys; sys.exit(0 if $accuracy >= 0.98 else 1)"; then
        echo "ok   mnist.safetensors test accuracy $accuracy (goal >= 0.98)"
    else
        echo "FAIL mnist.safetensors test accuracy $accuracy (goal >= 0.98)"; failures=$((failures + 1))
    fi
fi
for report in *.html; do
    for title in "Loss per epoch" "Learning speed per layer" "Confusion matrix" "The network"; do
        grep -q "$title" "$report" || { echo "FAIL $report lacks \"$title\""; failures=$((failures + 1)); }
    done
    if grep -Eq "(src|href)=\"https?:" "$report"; then
        echo "FAIL $report fetches something"; failures=$((failures + 1))
    fi
done
[ "$failures" -eq 0 ] || { echo "$failures tutorial step(s) failed"; exit 1; }
echo "every MNIST step of the tutorial ran"
