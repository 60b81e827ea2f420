#!/usr/bin/env bash
# Data-parallel training over MPI (issue 8, docs/distributed.md), on built-in data:
#   1. one process (`--shards 8`) against mpirun -np 1, 2, 3 and 4: model tensors bit for bit,
#      and the per-epoch validation loss the same bits (digits, and moons with batches of 6 rows,
#      smaller than S = 8, and a last partial batch);
#   2. --fast-allreduce on 3 ranks within 1e-6 relative of one process (norm-wise per tensor;
#      the largest element-wise difference printed too);
#   3. a rank that cannot read its data (each reading it) aborts every rank, naming itself,
#      within a timeout;
#   4. ranks that read different data (each reading it) stop with a clear error, and so does
#      --dropout on 2 ranks;
#   5. a checkpoint written by rank 0 of 4 ranks resumes on 2 ranks, bit for bit;
#   6. --data-distribution broadcast gives the same bits as read on 2 ranks; rank 1 trains on
#      rank 0's data even when its own --data differs; and rank 0 failing to read the data it
#      would broadcast aborts every rank, naming rank 0, within a timeout.
# Usage: scripts/mpi-check.sh [BINARY]   (a release build with --features mpi)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(realpath "${1:-target/release/backprop}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpirun=(mpirun --allow-run-as-root --oversubscribe)
compare() { python3 scripts/compare_models.py "$@"; }
validation_loss() { python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["history"][-1]["val_loss"]))' "$1"; }

for data in digits moons; do
    case $data in
        digits) flags=(--data digits --epochs 2 --seed 7 --batch-size 50 --validation 0.1) ;;
        moons) flags=(--data moons --samples 203 --epochs 2 --seed 7 --batch-size 6 --validation 0.2
            --optimizer sgd --learning-rate 0.1) ;;
    esac
    echo "--- $data: one process against 1-4 ranks"
    "$binary" train "${flags[@]}" --shards 8 -q --json --out "$work/one.safetensors" \
        > "$work/one.json" 2> "$work/one.log"
    for ranks in 1 2 3 4; do
        "${mpirun[@]}" -np "$ranks" "$binary" train "${flags[@]}" -q --json \
            --out "$work/ranks$ranks.safetensors" > "$work/ranks$ranks.json" 2> "$work/ranks.log" \
            || { cat "$work/ranks.log"; exit 1; }
        printf '%s ranks: ' "$ranks"
        compare "$work/one.safetensors" "$work/ranks$ranks.safetensors"
        if [ "$(validation_loss "$work/one.json")" != "$(validation_loss "$work/ranks$ranks.json")" ]; then
            echo "FAIL: validation loss $(validation_loss "$work/ranks$ranks.json") on $ranks ranks," \
                "$(validation_loss "$work/one.json") in one process"
            exit 1
        fi
    done
    echo "--- $data: --fast-allreduce on 3 ranks"
    "${mpirun[@]}" -np 3 "$binary" train "${flags[@]}" -q --fast-allreduce \
        --out "$work/fast.safetensors" 2> "$work/fast.log" || { cat "$work/fast.log"; exit 1; }
    compare "$work/one.safetensors" "$work/fast.safetensors" --tolerance 1e-6
done

echo "--- a rank that cannot read its data aborts every rank"
status=0
timeout 120 "${mpirun[@]}" -np 1 "$binary" train --data digits --epochs 50 -q \
    --data-distribution read --out "$work/fail.safetensors" : -np 1 "$binary" train \
    --data "$work/missing.csv" --epochs 50 -q --data-distribution read \
    --out "$work/fail.safetensors" > "$work/fail.log" 2>&1 || status=$?
if [ "$status" -eq 0 ] || [ "$status" -eq 124 ] || ! grep -q "error: rank 1 of 2:" "$work/fail.log"; then
    cat "$work/fail.log"
    echo "FAIL: expected an abort naming rank 1 (exit status $status)"
    exit 1
fi
grep "error: rank 1 of 2:" "$work/fail.log"
echo "ok: exit status $status, no rank left waiting"

echo "--- ranks that read different data, and dropout on 2 ranks, are refused"
expect_failure() {
    local expected=$1 status=0
    shift
    timeout 120 "$@" > "$work/refused.log" 2>&1 || status=$?
    if [ "$status" -eq 0 ] || [ "$status" -eq 124 ] || ! grep -q -- "$expected" "$work/refused.log"; then
        cat "$work/refused.log"
        echo "FAIL: expected a failure saying \"$expected\" (exit status $status)"
        exit 1
    fi
    echo "ok ($status): $(grep -m1 -- "$expected" "$work/refused.log")"
}
expect_failure "read different training data" "${mpirun[@]}" -np 1 "$binary" train --data moons \
    --seed 1 -q --data-distribution read --out "$work/x.safetensors" : -np 1 "$binary" train \
    --data moons --seed 2 -q --data-distribution read --out "$work/x.safetensors"
expect_failure "--dropout cannot run on 2 MPI ranks" "${mpirun[@]}" -np 2 "$binary" train \
    --data digits --dropout 0.2 -q --out "$work/x.safetensors"

echo "--- a checkpoint of 4 ranks resumes on 2"
flags=(--data digits --seed 7 --batch-size 50 -q)
"$binary" train "${flags[@]}" --epochs 4 --shards 8 --out "$work/whole.safetensors" \
    2> "$work/whole.log"
"${mpirun[@]}" -np 4 "$binary" train "${flags[@]}" --epochs 2 \
    --checkpoint "$work/ck.safetensors" --out "$work/half.safetensors" 2> "$work/half.log"
"${mpirun[@]}" -np 2 "$binary" train --resume "$work/ck.safetensors" --epochs 4 -q \
    --out "$work/resumed.safetensors" 2> "$work/resumed.log" | grep resuming || true
grep resuming "$work/resumed.log"
compare "$work/whole.safetensors" "$work/resumed.safetensors"
echo "--- rank 0 broadcasting the data: the same bits as every rank reading it"
flags=(--data digits --epochs 2 --seed 7 --batch-size 50 --validation 0.1 -q --json)
for mode in read broadcast; do
    "${mpirun[@]}" -np 2 "$binary" train "${flags[@]}" --data-distribution "$mode" \
        --out "$work/$mode.safetensors" > "$work/$mode.json" 2> "$work/$mode.log" \
        || { cat "$work/$mode.log"; exit 1; }
done
compare "$work/read.safetensors" "$work/broadcast.safetensors"
if [ "$(validation_loss "$work/read.json")" != "$(validation_loss "$work/broadcast.json")" ]; then
    echo "FAIL: validation loss $(validation_loss "$work/broadcast.json") broadcast," \
        "$(validation_loss "$work/read.json") read"
    exit 1
fi

echo "--- rank 1 trains on what rank 0 broadcasts, not on its own --data"
flags=(--data moons --epochs 2 --seed 7 --batch-size 6 --validation 0.2 -q)
"${mpirun[@]}" -np 2 "$binary" train "${flags[@]}" --samples 203 --data-distribution read \
    --out "$work/moons-read.safetensors" 2> "$work/moons.log" || { cat "$work/moons.log"; exit 1; }
"${mpirun[@]}" -np 1 "$binary" train "${flags[@]}" --samples 203 --data-distribution broadcast \
    --out "$work/moons-broadcast.safetensors" : -np 1 "$binary" train "${flags[@]}" --samples 999 \
    --data-distribution broadcast --out "$work/moons-broadcast.safetensors" 2> "$work/moons.log" \
    || { cat "$work/moons.log"; exit 1; }
compare "$work/moons-read.safetensors" "$work/moons-broadcast.safetensors"

echo "--- rank 0 that cannot read the data it would broadcast aborts every rank"
status=0
timeout 120 "${mpirun[@]}" -np 2 "$binary" train --data "$work/missing.csv" --epochs 50 -q \
    --data-distribution broadcast --out "$work/fail.safetensors" > "$work/fail.log" 2>&1 \
    || status=$?
# Rank 1 reads nothing: it waits in the broadcast until the abort ends it.
if [ "$status" -eq 0 ] || [ "$status" -eq 124 ] || ! grep -q "error: rank 0 of 2:" "$work/fail.log" \
    || grep -q "error: rank 1 of 2:" "$work/fail.log"; then
    cat "$work/fail.log"
    echo "FAIL: expected an abort naming rank 0 alone (exit status $status)"
    exit 1
fi
grep "error: rank 0 of 2:" "$work/fail.log"
echo "ok: exit status $status, no rank left waiting"
echo "mpi-check: all passed"
