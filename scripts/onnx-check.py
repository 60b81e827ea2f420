#!/usr/bin/env python3
"""`backprop export --format onnx`, checked the way a user deploys it: every exported graph
passes `onnx.checker.check_model(full_check=True)` and, run by onnxruntime (CPU), equals
`backprop predict` on the same rows: probabilities |d| <= 1e-5, regression |d| <= 1e-5*max(1,|y|),
labels identical.

Models: every built-in set, a CSV classifier with scaling, a string column and filled missing
cells, a CSV regression with target scaling, and (with DATA_DIR/mnist) an MNIST model on the
10,000 t10k images.

Usage: scripts/onnx-check.py BINARY [DATA_DIR]   (needs `pip install onnx onnxruntime numpy`)
"""
import csv
import json
import gzip
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

BUILT_IN = ["digits", "xor-table", "circle", "xor", "gaussian", "spiral", "moons", "plane",
            "multi-gaussian"]


def run(binary, *arguments, cwd):
    result = subprocess.run([binary, *arguments], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(arguments)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def export(binary, work, name, train_arguments):
    model = f"{name}.safetensors"
    run(binary, "train", "-q", "--out", model, *train_arguments, cwd=work)
    path = os.path.join(work, f"{name}.onnx")
    run(binary, "export", model, "--format", "onnx", "--out", path, cwd=work)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return model, session


def predicted(binary, work, model, rows_argument):
    """`backprop predict`'s CSV: (labels, numbers) per row."""
    text = run(binary, "predict", "--model", model, "--input", rows_argument, cwd=work)
    reader = list(csv.reader(text.splitlines()))
    header, body = reader[0], reader[1:]
    if header[1] == "prediction" and len(header) > 2 and header[2].startswith("p_"):
        return [r[1] for r in body], np.array([[float(v) for v in r[2:]] for r in body])
    return None, np.array([[float(v) for v in r[1:]] for r in body])


def compare(name, session, feeds, labels, numbers):
    outputs = {o.name: v for o, v in zip(session.get_outputs(), session.run(None, feeds))}
    if labels is not None:
        probabilities = outputs["probabilities"]
        worst = float(np.max(np.abs(probabilities - numbers)))
        assert worst <= 1e-5, f"{name}: probabilities differ by {worst}"
        onnx_labels = [str(v.decode() if isinstance(v, bytes) else v) for v in outputs["label"]]
        assert onnx_labels == labels, f"{name}: labels differ: {onnx_labels[:5]} vs {labels[:5]}"
        print(f"ok   {name:16} {len(labels):6} rows, probabilities within {worst:.1e}, labels equal")
    else:
        values = outputs["variable"]
        worst = float(np.max(np.abs(values - numbers) / np.maximum(1.0, np.abs(numbers))))
        assert worst <= 1e-5, f"{name}: values differ by {worst} (relative)"
        print(f"ok   {name:16} {len(values):6} rows, values within {worst:.1e} (relative)")


def numeric_rows(session, count, low, high, seed):
    width = session.get_inputs()[0].shape[1]
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=(count, width)).astype(np.float32)


def write_rows(work, name, header, rows):
    path = os.path.join(work, f"{name}-rows.csv")
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def check_built_in(binary, work):
    cases = [(name, ["--data", name, "--epochs", "3"]) for name in BUILT_IN]
    # Every activation: GELU (its erf form), leaky ReLU, sigmoid hidden units, min-max scaling.
    cases += [
        ("spiral-gelu", ["--data", "spiral", "--activation", "gelu", "--epochs", "5"]),
        ("moons-leaky", ["--data", "moons", "--activation", "leaky-relu:0.2", "--scale", "minmax",
                         "--epochs", "5"]),
        ("circle-sigmoid", ["--data", "circle", "--activation", "sigmoid", "--layers", "6,4",
                            "--epochs", "5"]),
        # Convolutions (same and valid padding, stride 2), max- and average-pooling, dropout.
        ("digits-dropout-between", ["--data", "digits", "--layers", "32,dropout:0.3,16",
                                    "--epochs", "3"]),
        ("digits-conv", ["--data", "digits", "--layers",
                         "conv:4:3:1:same,maxpool:2,conv:6:2:2,dropout:0.2,16", "--epochs", "3"]),
        ("digits-conv-tanh", ["--data", "digits", "--activation", "tanh", "--layers",
                              "conv:3:3,avgpool:2,conv:5:2:1:same,12", "--epochs", "3"]),
    ]
    for seed, (name, arguments) in enumerate(cases):
        model, session = export(binary, work, name, arguments)
        low, high = (0.0, 16.0) if name.startswith("digits") else (-3.0, 3.0)
        rows = numeric_rows(session, 200, low, high, seed)
        # The model's own feature names (in metadata_props), as predict matches columns by name.
        properties = {p.key: p.value for p in onnx.load(os.path.join(work, f"{name}.onnx")).metadata_props}
        header = json.loads(properties["feature_names"])
        path = write_rows(work, name, header, [[repr(float(v)) for v in row] for row in rows])
        labels, numbers = predicted(binary, work, model, path)
        compare(name, session, {"input": rows}, labels, numbers)


def check_csv_models(binary, work):
    # A classifier with a string column, missing cells filled with stored values, scaling.
    lines = ["size,colour,weight,kind"]
    for row in range(120):
        size = (row * 37 % 100) / 10.0
        weight = "NA" if row % 11 == 0 else str((row * 53 % 100) / 20.0)
        colour = ["red", "green", "blue"][row % 3]
        kind = "pear" if size + (0 if weight == "NA" else float(weight)) > 7.5 else "apple"
        lines.append(f"{size},{colour},{weight},{kind}")
    with open(os.path.join(work, "fruit.csv"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    model, session = export(binary, work, "fruit",
                            ["--data", "fruit.csv", "--missing", "mean", "--epochs", "30"])
    # Missing colours: None is fed to onnxruntime as "" and "NA" as itself; both are NA in the CSV.
    rows = [[1.5, "red", 2.0], [8.0, "blue", None], [4.0, "purple", 3.5], [6.5, "green", 0.5],
            [3.0, None, 1.0], [7.0, "NA", None]]
    rows += [[(i * 13 % 100) / 10.0, ["red", "green", "blue"][i % 3], (i * 7 % 100) / 20.0]
             for i in range(60)]
    path = write_rows(work, "fruit", ["size", "colour", "weight"],
                      [[r[0], "NA" if r[1] is None else r[1], "NA" if r[2] is None else r[2]]
                       for r in rows])
    labels, numbers = predicted(binary, work, model, path)
    feeds = {
        "size": np.array([[r[0]] for r in rows], dtype=np.float32),
        "colour": np.array([["" if r[1] is None else r[1]] for r in rows], dtype=object),
        "weight": np.array([[np.nan if r[2] is None else r[2]] for r in rows], dtype=np.float32),
    }
    compare("fruit (csv)", session, feeds, labels, numbers)
    # A regression with input and target scaling.
    lines = ["width,height,depth,volume"]
    for row in range(100):
        w, h, d = 1.0 + row % 7, 2.0 + (row % 5) * 0.5, 10.0 + row % 3
        lines.append(f"{w},{h},{d},{500.0 + w * h * d}")
    with open(os.path.join(work, "boxes.csv"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    model, session = export(binary, work, "boxes", ["--data", "boxes.csv", "--epochs", "40"])
    rows = np.array([[1.0 + i * 0.3, 2.5, 9.0 + i % 4] for i in range(40)], dtype=np.float32)
    path = write_rows(work, "boxes", ["width", "height", "depth"],
                      [[repr(float(v)) for v in row] for row in rows])
    labels, numbers = predicted(binary, work, model, path)
    compare("boxes (regression)", session, {"input": rows}, labels, numbers)


def check_mnist(binary, work, data):
    folder = os.path.join(data, "mnist")
    model, session = export(binary, work, "mnist",
                            ["--data", f"mnist:{folder}", "--epochs", "1"])
    with gzip.open(os.path.join(folder, "t10k-images-idx3-ubyte.gz")) as handle:
        raw = handle.read()
    count = int.from_bytes(raw[4:8], "big")
    images = np.frombuffer(raw[16:], dtype=np.uint8).reshape(count, 784).astype(np.float32) / 255.0
    labels, numbers = predicted(binary, work, model, f"mnist:{folder}")
    compare("mnist", session, {"input": images}, labels, numbers)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    data = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
    with tempfile.TemporaryDirectory() as work:
        check_built_in(binary, work)
        check_csv_models(binary, work)
        if data and os.path.isdir(os.path.join(data, "mnist")):
            check_mnist(binary, work, data)
        elif os.environ.get("CI") == "true":
            sys.exit("CI=true and no DATA_DIR/mnist: the MNIST export cannot be checked")
    print("every ONNX export passed onnx.checker and equals backprop predict")


if __name__ == "__main__":
    main()
