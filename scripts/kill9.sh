#!/usr/bin/env bash
# kill -9 at random moments: a real `backprop train --checkpoint-every 1` process is killed
# (SIGKILL) again and again, restarted with --resume from whatever checkpoint is there, and after
# every kill `backprop inspect` must read the checkpoint. The previous checkpoint always stays
# whole because checkpoints are written to a temporary file in the same folder, fsynced and
# renamed over the old one.
#
# Usage: scripts/kill9.sh [ROUNDS]   (default 40; needs python3 for the random delays)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-40}
cargo build --quiet --release -p backprop-cli
binary=$PWD/target/release/backprop
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
loaded=0
declare -A states=()
for round in $(seq 1 "$rounds"); do
    if [ -f ck.safetensors ]; then
        "$binary" train -q --resume ck.safetensors > /dev/null 2>&1 &
    else
        "$binary" train -q --data digits --layers 256,256 --batch-size 64 --epochs 100000 \
            --checkpoint-every 1 --checkpoint ck.safetensors --threads 1 > /dev/null 2>&1 &
    fi
    pid=$!
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.05, 1.5), 3))')"
    if ! kill -0 "$pid" 2> /dev/null; then
        echo "round $round: the training process ended by itself" >&2
        exit 1
    fi
    kill -9 "$pid"
    wait "$pid" 2> /dev/null || true
    if [ -f ck.safetensors ]; then
        if ! report=$("$binary" inspect ck.safetensors 2>&1); then
            echo "round $round: the checkpoint does not load after kill -9:" >&2
            echo "$report" >&2
            exit 1
        fi
        state=$(grep '^training state:' <<< "$report" || true)
        if [ -z "$state" ]; then
            echo "round $round: no training state in the checkpoint" >&2
            exit 1
        fi
        if grep -q 'unreadable' <<< "$state"; then
            echo "round $round: the checkpoint loads but its training state does not:" >&2
            echo "$state" >&2
            exit 1
        fi
        states["$state"]=1
        loaded=$((loaded + 1))
    fi
done
leftovers=$(find . -name '.*.tmp' | wc -l)
echo "kill -9: $rounds kills, checkpoint loaded after $loaded of them, ${#states[@]} different" \
     "training states, $leftovers temporary files of cut-short writes left behind (never read)"
if [ "$loaded" -lt $((rounds / 2)) ] || [ "${#states[@]}" -lt 5 ]; then
    echo "too few checkpoints were written to test anything" >&2
    exit 1
fi
