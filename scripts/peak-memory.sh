#!/usr/bin/env bash
# Peak memory against the decompressed input (issue 6: "peak memory stays within a small
# multiple of the decompressed input"). Writes an MNIST-shaped folder of gzipped IDX files
# (IMAGES training and IMAGES/6 test images of 28x28, random pixels) and a CSV of the same
# pixels, gzipped; trains one epoch of a linear model on each under /usr/bin/time -v, and
# fails when the peak resident set, less that of a run on the 4-row xor table (the binary and
# its threads), exceeds LIMIT times the decompressed input.
#
# Usage: scripts/peak-memory.sh [BINARY] (default target/release/backprop); env IMAGES
# (default 20000), LIMIT (default 8: the f32 copy of a byte image alone is 4x, and a second
# copy of the features, as the CLI made until it moved unscaled features, reaches about 9x).
set -euo pipefail
binary=${1:-target/release/backprop}
images=${IMAGES:-20000}
limit=${LIMIT:-8}
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT

python3 - "$folder" "$images" <<'PY'
import gzip, os, random, struct, sys
folder, count = sys.argv[1], int(sys.argv[2])
random.seed(0)
os.makedirs(f"{folder}/mnist")
def write(name, data):
    with gzip.open(f"{folder}/mnist/{name}.gz", "wb", compresslevel=1) as file:
        file.write(data)
for stem, n in (("train", count), ("t10k", count // 6)):
    pixels = random.randbytes(n * 784)
    labels = bytes(random.randrange(10) for _ in range(n))
    write(f"{stem}-images-idx3-ubyte", bytes([0, 0, 8, 3]) + struct.pack(">III", n, 28, 28) + pixels)
    write(f"{stem}-labels-idx1-ubyte", bytes([0, 0, 8, 1]) + struct.pack(">I", n) + labels)
    if stem == "train":
        with gzip.open(f"{folder}/pixels.csv.gz", "wt", compresslevel=1) as file:
            file.write(",".join(f"p{i}" for i in range(784)) + ",label\n")
            for row in range(n):
                start = row * 784
                file.write(",".join(map(str, pixels[start:start + 784])) + f",{labels[row]}\n")
PY

peak_kib() { # ARGS... -> the peak resident set of `backprop train ARGS...` in KiB
    { /usr/bin/time -v "$binary" train "$@" --epochs 1 -q --out "$folder/model.safetensors" \
        > /dev/null; } 2>&1 | sed -n 's/.*Maximum resident set size (kbytes): //p'
}
baseline=$(peak_kib --data xor-table)

measure() { # NAME DECOMPRESSED_BYTES ARGS...
    local name=$1 bytes=$2
    shift 2
    local kib
    kib=$(peak_kib "$@" --layers none --batch-size 1000)
    python3 - "$name" "$bytes" "$kib" "$limit" "$baseline" <<'PY'
import sys
name, size, kib, limit, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
ratio = (kib - base) * 1024 / size
print(f"{name}: decompressed input {size / 2**20:.1f} MiB, peak RSS {kib / 1024:.1f} MiB "
      f"({base / 1024:.1f} MiB on xor-table): {ratio:.2f}x the input above that")
if ratio > limit:
    sys.exit(f"{name}: peak memory {ratio:.2f}x the decompressed input, more than {limit}x")
PY
}

idx_bytes=0
for file in "$folder"/mnist/*.gz; do
    idx_bytes=$((idx_bytes + $(gzip -dc "$file" | wc -c)))
done
measure "mnist (IDX, gzip)" "$idx_bytes" --data "mnist:$folder/mnist"
measure "CSV (gzip)" "$(gzip -dc "$folder/pixels.csv.gz" | wc -c)" --data "$folder/pixels.csv.gz"
