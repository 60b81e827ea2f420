#!/usr/bin/env python3
"""Convolutions checked against references written apart from the engine.

Trains nothing itself: it asks the real binary for a small convolutional model at its initial
weights (`--epochs 0`) and for the same model after one full-batch SGD step with learning rate
1 (`--epochs 1 --optimizer sgd --learning-rate 1`, every row in the one batch), then

  1. recomputes the forward pass in NumPy, straight from the definitions (loops over filters,
     channels and kernel offsets; max-pool ties to the first maximum; floored outputs), and
     compares the class probabilities with `backprop predict`;
  2. recomputes one batch's gradients in NumPy (softmax cross-entropy, the mean over the batch,
     back through dense, average-pool, convolution, max-pool and convolution) and compares
     w0 − 1 · ∂C/∂w with the binary's weights after its step;
  3. where torch is installed (CI never installs it: PyPI's build here is 5 GB), does both again
     with torch.nn.Conv2d, MaxPool2d and AvgPool2d and autograd.

Two layer stacks run: `same` padding with stride 1, and `valid` with stride 2 and tanh.

Usage: python3 scripts/conv-reference.py [BINARY]     (default target/release/backprop)
Exit status 0 when every comparison holds, 1 otherwise.
"""

import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

BINARY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/backprop")
SHAPE = (2, 6, 6)
ROWS = 24
CLASSES = 3
STACKS = [
    ("same, max-pool, valid, avg-pool", "relu", "conv:3:3:1:same,maxpool:2,conv:2:2,avgpool:2"),
    ("stride 2, tanh, dense hidden", "tanh", "conv:4:3:2:valid,maxpool:2,5"),
]


def read_safetensors(path):
    """The float32 tensors of a safetensors file, by name."""
    with open(path, "rb") as handle:
        data = handle.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: {info['dtype']}"
        start, end = info["data_offsets"]
        raw = data[8 + length + start : 8 + length + end]
        tensors[name] = np.frombuffer(raw, dtype="<f4").astype(np.float64).reshape(info["shape"])
    return tensors


def parse_layers(text):
    layers = []
    for entry in text.split(","):
        parts = entry.split(":")
        if parts[0] == "conv":
            filters, kernel = int(parts[1]), int(parts[2])
            stride = int(parts[3]) if len(parts) > 3 else 1
            padding = parts[4] if len(parts) > 4 else "valid"
            layers.append(("conv", filters, kernel, stride, padding))
        elif parts[0] in ("maxpool", "avgpool"):
            layers.append((parts[0], int(parts[1])))
        else:
            layers.append(("dense", int(entry)))
    return layers


def activation(name, z):
    return np.maximum(z, 0.0) if name == "relu" else np.tanh(z)


def activation_derivative(name, z, a):
    return (z > 0).astype(np.float64) if name == "relu" else 1.0 - a * a


def conv_forward(x, w, b, stride, padding):
    k = w.shape[2]
    pad = (k - 1) // 2 if padding == "same" else 0
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h = (xp.shape[2] - k) // stride + 1
    out_w = (xp.shape[3] - k) // stride + 1
    z = np.zeros((x.shape[0], w.shape[0], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            patch = xp[:, :, i * stride : i * stride + k, j * stride : j * stride + k]
            z[:, :, i, j] = np.einsum("bcuv,fcuv->bf", patch, w) + b
    return z, xp, pad


def conv_backward(dz, xp, w, stride, pad, x_shape):
    k = w.shape[2]
    dw = np.zeros_like(w)
    dxp = np.zeros_like(xp)
    for i in range(dz.shape[2]):
        for j in range(dz.shape[3]):
            patch = xp[:, :, i * stride : i * stride + k, j * stride : j * stride + k]
            dw += np.einsum("bf,bcuv->fcuv", dz[:, :, i, j], patch)
            dxp[:, :, i * stride : i * stride + k, j * stride : j * stride + k] += np.einsum(
                "bf,fcuv->bcuv", dz[:, :, i, j], w
            )
    dx = dxp[:, :, pad : pad + x_shape[2], pad : pad + x_shape[3]]
    return dw, dz.sum(axis=(0, 2, 3)), dx


def pool_forward(kind, x, size):
    out_h, out_w = x.shape[2] // size, x.shape[3] // size
    out = np.zeros(x.shape[:2] + (out_h, out_w))
    winners = {}
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * size : (i + 1) * size, j * size : (j + 1) * size]
            flat = window.reshape(x.shape[0], x.shape[1], -1)
            if kind == "maxpool":
                first = flat.argmax(axis=2)  # the first maximum in row-major order
                winners[(i, j)] = first
                out[:, :, i, j] = np.take_along_axis(flat, first[..., None], 2)[..., 0]
            else:
                out[:, :, i, j] = flat.mean(axis=2)
    return out, winners


def pool_backward(kind, d_out, x_shape, size, winners):
    dx = np.zeros(x_shape)
    for i in range(d_out.shape[2]):
        for j in range(d_out.shape[3]):
            if kind == "maxpool":
                first = winners[(i, j)]
                for b in range(x_shape[0]):
                    for c in range(x_shape[1]):
                        u, v = divmod(int(first[b, c]), size)
                        dx[b, c, i * size + u, j * size + v] += d_out[b, c, i, j]
            else:
                dx[:, :, i * size : (i + 1) * size, j * size : (j + 1) * size] += (
                    d_out[:, :, i, j][..., None, None] / (size * size)
                )
    return dx


def numpy_reference(layers, act, tensors, x, y):
    """Class probabilities and every parameter's gradient of the mean cross-entropy."""
    caches, a = [], x
    index = 0
    dense_started = False
    for layer in layers:
        if layer[0] == "conv":
            w, b = tensors[f"layers.{index}.weight"], tensors[f"layers.{index}.bias"]
            z, xp, pad = conv_forward(a, w, b, layer[3], layer[4])
            out = activation(act, z)
            caches.append(("conv", index, a.shape, xp, pad, layer[3], z, out))
            a = out
        elif layer[0] in ("maxpool", "avgpool"):
            out, winners = pool_forward(layer[0], a, layer[1])
            caches.append((layer[0], index, a.shape, layer[1], winners))
            a = out
        else:
            if not dense_started:
                caches.append(("flatten", index, a.shape))
                a = a.reshape(a.shape[0], -1)
                dense_started = True
            w, b = tensors[f"layers.{index}.weight"], tensors[f"layers.{index}.bias"]
            z = a @ w.T + b
            out = activation(act, z)
            caches.append(("dense", index, a, z, out))
            a = out
        index += 1
    if not dense_started:
        caches.append(("flatten", index, a.shape))
        a = a.reshape(a.shape[0], -1)
    w, b = tensors[f"layers.{index}.weight"], tensors[f"layers.{index}.bias"]
    logits = a @ w.T + b
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    gradients = {}
    dz = (p - y) / x.shape[0]  # softmax with cross-entropy, mean over the batch
    gradients[f"layers.{index}.weight"] = dz.T @ a
    gradients[f"layers.{index}.bias"] = dz.sum(axis=0)
    d = dz @ w
    for cache in reversed(caches):
        kind, i = cache[0], cache[1]
        if kind == "dense":
            _, _, a_in, z, out = cache
            dz = d * activation_derivative(act, z, out)
            w = tensors[f"layers.{i}.weight"]
            gradients[f"layers.{i}.weight"] = dz.T @ a_in
            gradients[f"layers.{i}.bias"] = dz.sum(axis=0)
            d = dz @ w
        elif kind == "flatten":
            d = d.reshape(cache[2])
        elif kind == "conv":
            _, _, x_shape, xp, pad, stride, z, out = cache
            dz = d * activation_derivative(act, z, out)
            dw, db, d = conv_backward(dz, xp, tensors[f"layers.{i}.weight"], stride, pad, x_shape)
            gradients[f"layers.{i}.weight"], gradients[f"layers.{i}.bias"] = dw, db
        else:
            _, _, x_shape, size, winners = cache
            d = pool_backward(kind, d, x_shape, size, winners)
    return p, gradients


def torch_reference(layers, act, tensors, x, y):
    import torch

    torch.set_default_dtype(torch.float64)
    modules, index, channels, dense_started = [], 0, SHAPE[0], False
    parameters = {}
    width = None
    for layer in layers:
        if layer[0] == "conv":
            _, filters, kernel, stride, padding = layer
            conv = torch.nn.Conv2d(channels, filters, kernel, stride=stride, padding=padding)
            parameters[index] = conv
            modules += [conv, torch.nn.ReLU() if act == "relu" else torch.nn.Tanh()]
            channels = filters
        elif layer[0] == "maxpool":
            modules.append(torch.nn.MaxPool2d(layer[1]))
        elif layer[0] == "avgpool":
            modules.append(torch.nn.AvgPool2d(layer[1]))
        else:
            if not dense_started:
                modules.append(torch.nn.Flatten())
                dense_started = True
            w = tensors[f"layers.{index}.weight"]
            linear = torch.nn.Linear(w.shape[1], w.shape[0])
            parameters[index] = linear
            modules += [linear, torch.nn.ReLU() if act == "relu" else torch.nn.Tanh()]
        index += 1
    if not dense_started:
        modules.append(torch.nn.Flatten())
    w = tensors[f"layers.{index}.weight"]
    last = torch.nn.Linear(w.shape[1], w.shape[0])
    parameters[index] = last
    modules.append(last)
    net = torch.nn.Sequential(*modules)
    with torch.no_grad():
        for i, module in parameters.items():
            module.weight.copy_(torch.tensor(tensors[f"layers.{i}.weight"]))
            module.bias.copy_(torch.tensor(tensors[f"layers.{i}.bias"]))
    logits = net(torch.tensor(x))
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y.argmax(axis=1)))
    loss.backward()
    gradients = {}
    for i, module in parameters.items():
        gradients[f"layers.{i}.weight"] = module.weight.grad.numpy()
        gradients[f"layers.{i}.bias"] = module.bias.grad.numpy()
    return torch.softmax(logits, dim=1).detach().numpy(), gradients


def run(arguments, folder):
    result = subprocess.run([BINARY, *arguments], cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"conv-reference: {' '.join(arguments)} failed:\n{result.stderr}")
    return result.stdout


def check(name, reference, computed, tolerance):
    error = float(np.max(np.abs(reference - computed) / (1e-3 + np.abs(reference))))
    ok = error <= tolerance
    print(f"{'ok  ' if ok else 'FAIL'} {name}: largest relative difference {error:.1e}")
    return ok


def main():
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, size=(ROWS,) + SHAPE).round(3)
    labels = np.arange(ROWS) % CLASSES
    y = np.eye(CLASSES)[labels]
    passed = True
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
        print("note: torch is not installed here; the torch.nn.Conv2d comparison is left out")
    with tempfile.TemporaryDirectory() as folder:
        columns = [f"p{i}" for i in range(x[0].size)]
        with open(os.path.join(folder, "images.csv"), "w") as handle:
            handle.write(",".join(columns + ["label"]) + "\n")
            for row, label in zip(x.reshape(ROWS, -1), labels):
                handle.write(",".join(f"{v:.3f}" for v in row) + f",{label}\n")
        shape = "x".join(str(s) for s in SHAPE)
        for name, act, layers in STACKS:
            common = ["train", "--data", "images.csv", "--input-shape", shape, "--layers",
                      layers, "--activation", act, "--test-split", "0", "--validation", "0",
                      "--seed", "3", "-q"]
            run(common + ["--epochs", "0", "--out", "w0.safetensors"], folder)
            run(common + ["--epochs", "1", "--optimizer", "sgd", "--learning-rate", "1",
                          "--batch-size", str(ROWS), "--no-shuffle", "--out", "w1.safetensors"],
                folder)
            before = read_safetensors(os.path.join(folder, "w0.safetensors"))
            after = read_safetensors(os.path.join(folder, "w1.safetensors"))
            predicted = json.loads(run(["predict", "--model", "w0.safetensors", "--input",
                                        "images.csv", "--format", "json"], folder))
            engine = np.array([[p["probabilities"][str(c)] for c in range(CLASSES)]
                               for p in predicted["predictions"]])
            references = [("NumPy", numpy_reference)]
            if have_torch:
                references.append(("torch", torch_reference))
            for reference_name, reference in references:
                p, gradients = reference(parse_layers(layers), act, before, x, y)
                passed &= check(f"{name} [{reference_name}]: probabilities", p, engine, 1e-4)
                for tensor in sorted(gradients):
                    stepped = before[tensor] - gradients[tensor]
                    passed &= check(f"{name} [{reference_name}]: {tensor} after one step",
                                    stepped, after[tensor], 1e-4)
    print("every comparison holds" if passed else "conv-reference: a comparison failed")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
