#!/usr/bin/env bash
# Runs each fuzz target in turn, one job, for SECONDS_EACH seconds (default 600), into
# work/<target> seeded with corpus/<target>; logs go to logs/<target>.log.
# Usage (from fuzz/): ./run-all.sh [targets...]
set -u
seconds=${SECONDS_EACH:-600}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(csv idx cli_parse model)
for target in "${targets[@]}"; do
    mkdir -p "work/$target"
    echo "start $target $(date -u +%FT%TZ)" >> logs/runs.txt
    cargo +nightly fuzz run -O "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 > "logs/$target.log" 2>&1
    echo "end $target rc=$? $(date -u +%FT%TZ)" >> logs/runs.txt
done
