#!/usr/bin/env python3
"""Predict with a backprop model file using only numpy and safetensors (no backprop code).

    python3 scripts/model_predict.py MODEL.safetensors INPUT.csv
    python3 scripts/model_predict.py MODEL.safetensors --self-test [--rows N]

A model file is a safetensors file: tensors layers.{i}.weight (out, in) and layers.{i}.bias (out),
float32, PyTorch's nn.Linear layout; the metadata key "backprop" holds one JSON string with the
architecture, the preprocessing and the rest (see the Rust crate's `backprop::model` docs).

Prediction, as `Model::predict` does it:
  1. x' = (x - center) / scale with the input scaler, when there is one;
  2. each layer: a = activation(a @ W.T + b), with identity, sigmoid, tanh, relu,
     leaky-relu[:slope] (default slope 0.01), gelu (exact, x * Phi(x) through math.erf)
     or softmax over each row;
  3. for regression, x = x' * scale + center with the target scaler, when there is one.

INPUT.csv holds raw feature rows, comma-separated, without categorical encoding. A first line
that is not numeric is a header: its columns are matched to the model's feature names (extra
columns, such as the target, are ignored). Without a header the columns are taken in the
model's feature order. `--self-test` generates random rows around the input scaler instead.

Predictions go to stdout as CSV with a header: one column per output unit (class names for a
classifier, then the predicted class). Calculations are in float64 from the stored float32
weights. When PyTorch is importable, the weights are also loaded into torch.nn.Linear layers and
their outputs are checked against these (a note goes to stderr; a mismatch exits with 1).
"""

import argparse
import csv
import json
import math
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

SUPPORTED_FORMAT_VERSION = 1


def fail(message):
    print(f"model_predict.py: {message}", file=sys.stderr)
    sys.exit(2)


def read_model(path):
    """The model's metadata (dict) and its layers as a list of (W, b, activation name)."""
    try:
        with safe_open(path, framework="np") as handle:
            header = handle.metadata() or {}
    except Exception as error:  # safetensors raises several exception types
        fail(f"{path}: not a valid safetensors file: {error}")
    if "backprop" not in header:
        fail(f"not a backprop model: {path} (a safetensors file without backprop metadata)")
    metadata = json.loads(header["backprop"])
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > SUPPORTED_FORMAT_VERSION:
        fail(
            f"{path}: written by a newer backprop (format version {version}); "
            f"this script reads version {SUPPORTED_FORMAT_VERSION}"
        )
    tensors = load_file(path)
    sizes = metadata["architecture"]["sizes"]
    activations = metadata["architecture"]["activations"]
    layers = []
    for i, activation in enumerate(activations):
        weight = tensors[f"layers.{i}.weight"]
        bias = tensors[f"layers.{i}.bias"]
        expected = (sizes[i + 1], sizes[i])
        if weight.shape != expected or bias.shape != (sizes[i + 1],):
            fail(f"{path}: layer {i} has shapes {weight.shape} and {bias.shape}, expected {expected}")
        layers.append((weight, bias, activation))
    return metadata, layers


def activate(name, z):
    """a = sigma(z) for a batch z (rows are examples), in float64."""
    kind, _, argument = name.partition(":")
    if kind in ("identity", "linear", "none"):
        return z
    if kind in ("sigmoid", "logistic"):
        return 1.0 / (1.0 + np.exp(-z))
    if kind == "tanh":
        return np.tanh(z)
    if kind == "relu":
        return np.maximum(z, 0.0)
    if kind in ("leaky-relu", "leaky_relu", "leakyrelu"):
        slope = float(argument) if argument else 0.01
        return np.where(z > 0.0, z, slope * z)
    if kind == "gelu":
        erf = np.vectorize(math.erf, otypes=[np.float64])
        return z * 0.5 * (1.0 + erf(z / math.sqrt(2.0)))
    if kind == "softmax":
        shifted = np.exp(z - z.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    fail(f"unknown activation '{name}'")


def scale(x, scaler):
    if scaler is None:
        return x
    return (x - np.asarray(scaler["center"], dtype=np.float64)) / np.asarray(
        scaler["scale"], dtype=np.float64
    )


def unscale(x, scaler):
    if scaler is None:
        return x
    return x * np.asarray(scaler["scale"], dtype=np.float64) + np.asarray(
        scaler["center"], dtype=np.float64
    )


def predict(metadata, layers, raw):
    """Outputs for raw feature rows (float64), as the Rust Model::predict computes them."""
    preprocessing = metadata["preprocessing"]
    a = scale(raw, preprocessing.get("input_scaler"))
    for weight, bias, activation in layers:
        a = activate(activation, a @ weight.astype(np.float64).T + bias.astype(np.float64))
    if metadata["task"] == "regression":
        a = unscale(a, preprocessing.get("target_scaler"))
    return a


def torch_check(metadata, layers, raw, expected):
    """Loads the weights into torch.nn.Linear and compares; silent when torch is missing."""
    try:
        import torch
    except ImportError:
        return
    functions = {
        "identity": lambda z: z,
        "linear": lambda z: z,
        "none": lambda z: z,
        "sigmoid": torch.sigmoid,
        "logistic": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "gelu": lambda z: torch.nn.functional.gelu(z),
        "softmax": lambda z: torch.softmax(z, dim=1),
    }
    a = torch.from_numpy(scale(raw, metadata["preprocessing"].get("input_scaler")))
    with torch.no_grad():
        for weight, bias, activation in layers:
            linear = torch.nn.Linear(weight.shape[1], weight.shape[0]).double()
            linear.load_state_dict(
                {"weight": torch.from_numpy(weight.astype(np.float64)),
                 "bias": torch.from_numpy(bias.astype(np.float64))}
            )
            z = linear(a)
            kind, _, argument = activation.partition(":")
            if kind in ("leaky-relu", "leaky_relu", "leakyrelu"):
                a = torch.nn.functional.leaky_relu(z, float(argument) if argument else 0.01)
            else:
                a = functions[kind](z)
    out = a.numpy()
    if metadata["task"] == "regression":
        out = unscale(out, metadata["preprocessing"].get("target_scaler"))
    difference = float(np.max(np.abs(out - expected))) if out.size else 0.0
    print(f"torch check: nn.Linear outputs differ by at most {difference:.3g}", file=sys.stderr)
    if not difference <= 1e-6 * max(1.0, float(np.max(np.abs(expected), initial=0.0))):
        print("torch check FAILED", file=sys.stderr)
        sys.exit(1)


def read_inputs(path, feature_names):
    with open(path, newline="") as handle:
        rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    if not rows:
        return np.zeros((0, len(feature_names)))

    def numeric(row):
        try:
            [float(cell) for cell in row]
            return True
        except ValueError:
            return False

    columns = list(range(len(feature_names)))
    if not numeric(rows[0]):
        header = [cell.strip() for cell in rows[0]]
        missing = [name for name in feature_names if name not in header]
        if missing:
            fail(f"{path}: the header lacks the model's features {missing}")
        columns = [header.index(name) for name in feature_names]
        rows = rows[1:]
    values = []
    for number, row in enumerate(rows, start=1):
        if len(row) < max(columns, default=-1) + 1:
            fail(f"{path}: row {number} has {len(row)} columns, the model needs {len(feature_names)}")
        try:
            values.append([float(row[j]) for j in columns])
        except ValueError as error:
            fail(f"{path}: row {number}: {error}")
    return np.asarray(values, dtype=np.float64).reshape(len(values), len(feature_names))


def self_test_inputs(metadata, rows):
    width = metadata["architecture"]["sizes"][0]
    scaler = metadata["preprocessing"].get("input_scaler")
    generator = np.random.default_rng(0)
    standard = generator.standard_normal((rows, width))
    return unscale(standard, scaler)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a backprop .safetensors model file")
    parser.add_argument("input", nargs="?", help="CSV of raw feature rows")
    parser.add_argument("--self-test", action="store_true", help="predict for generated rows")
    parser.add_argument("--rows", type=int, default=5, help="rows for --self-test (default 5)")
    arguments = parser.parse_args()
    if (arguments.input is None) == (not arguments.self_test):
        parser.error("give an INPUT.csv or --self-test, not both")

    metadata, layers = read_model(arguments.model)
    feature_names = metadata["preprocessing"]["feature_names"]
    if arguments.self_test:
        raw = self_test_inputs(metadata, arguments.rows)
    else:
        raw = read_inputs(arguments.input, feature_names)
    outputs = predict(metadata, layers, raw)
    torch_check(metadata, layers, raw, outputs)

    classification = metadata["task"] == "classification"
    width = outputs.shape[1]
    class_names = metadata["preprocessing"].get("class_names")
    if classification and class_names and len(class_names) == width:
        header = list(class_names)
    elif classification and width == 1:
        header = [f"p({class_names[1]})" if class_names else "probability"]
    else:
        header = [f"output_{j}" for j in range(width)]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header + (["predicted"] if classification else []))
    for row in outputs:
        cells = [repr(float(v)) for v in row]
        if classification:
            if width == 1:
                index = int(row[0] > 0.5)
                names = class_names or ["0", "1"]
            else:
                index = int(np.argmax(row))
                names = class_names or [str(j) for j in range(width)]
            cells.append(names[index])
        writer.writerow(cells)


if __name__ == "__main__":
    main()
