#!/usr/bin/env python3
"""Compares the tensors of two backprop model files (safetensors), read with the standard
library only: bit for bit, or within a relative tolerance.

    compare_models.py A.safetensors B.safetensors [--tolerance 1e-6]

Exit 0 when they agree, 1 (with the largest difference) when they do not. The metadata (which
holds timings) is not compared. With a tolerance, the relative difference of two tensors is
norm-wise, ||a - b|| / ||a|| (the usual measure for a sum computed in another order: a value
near zero has no meaningful relative error of its own); the largest element-wise difference,
|a - b| / max(|a|, |b|, 1e-3 max|a|), is printed beside it.
"""
import json
import struct
import sys


def tensors(path):
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
        data = handle.read()
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            sys.exit(f"{path}: {name} is {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        raw = data[start:end]
        out[name] = (raw, struct.unpack(f"<{len(raw) // 4}f", raw))
    return out


def main():
    args = sys.argv[1:]
    tolerance = None
    if "--tolerance" in args:
        index = args.index("--tolerance")
        tolerance = float(args[index + 1])
        del args[index : index + 2]
    first, second = tensors(args[0]), tensors(args[1])
    if sorted(first) != sorted(second):
        sys.exit(f"different tensors: {sorted(first)} against {sorted(second)}")
    largest, differing, norm_wise = 0.0, 0, 0.0
    for name in sorted(first):
        (raw_a, a), (raw_b, b) = first[name], second[name]
        if len(a) != len(b):
            sys.exit(f"{name}: {len(a)} values against {len(b)}")
        if raw_a != raw_b:
            differing += 1
        floor = 1e-3 * max(max(abs(v) for v in a), 1e-30)
        norm = sum(x * x for x in a) ** 0.5
        difference = sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5
        norm_wise = max(norm_wise, difference / max(norm, 1e-30))
        for x, y in zip(a, b):
            largest = max(largest, abs(x - y) / max(abs(x), abs(y), floor))
    count = sum(len(v[1]) for v in first.values())
    if tolerance is None:
        if differing:
            print(f"DIFFER: {differing} tensor(s) not bit-identical; largest relative difference {largest:.3e}")
            return 1
        print(f"bit-identical: {len(first)} tensors, {count} values")
        return 0
    verdict = "within" if norm_wise <= tolerance else "OUTSIDE"
    print(
        f"{verdict} {tolerance:g}: largest norm-wise relative difference of a tensor "
        f"{norm_wise:.3e} (largest element-wise {largest:.3e}, {count} values)"
    )
    return 0 if norm_wise <= tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
