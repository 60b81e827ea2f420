#!/usr/bin/env python3
"""The workloads of issue 4 in NumPy and PyTorch, measured as `backprop bench` measures them.

Usage: peer_bench.py numpy|torch CONFIG [--threads N] [--epochs N]
CONFIG: a, b-sgd-32, b-sgd-256, b-adam-32, infer-b, lenet (torch only).

Prints one JSON object: {"peer", "config", "threads", "samples_per_second", "epochs": [...]}.

The data are shaped like backprop's synthetic MNIST (`crates/backprop-cli/src/bench/data.rs`):
60,000 x 784 float32 in [0, 1], about 16 % non-zero and denser in the centre (the same per-pixel
probabilities), 10 classes from a random linear teacher on the centred image. NumPy's generator
draws them, so the pixels are not the same bits as backprop's, which does not matter for
throughput: every product is dense. Each epoch is a fresh permutation, a row gather per batch,
forward, backward and update, all timed; one warm-up epoch comes first; samples/s is the median
over the timed epochs.

- A: 784-30-10 sigmoid, binary cross-entropy summed over outputs and averaged over the batch,
  plain SGD eta = 0.5, batch 10.
- B: 784-128-64-10 ReLU, softmax cross-entropy; SGD eta = 0.1 at batch 32 and 256; Adam eta = 1e-3
  (PyTorch's defaults) at batch 32.
- infer-b: B's forward pass at batch 1000 over the inputs.
"""

import argparse
import json
import os
import statistics
import sys
import time

ROWS, PIXELS, CLASSES, SIDE = 60_000, 784, 10, 28
CONFIGS = {
    # name: (sizes, hidden activation, optimiser, learning rate, batch, inference)
    "a": ([784, 30, 10], "sigmoid", "sgd", 0.5, 10, False),
    "b-sgd-32": ([784, 128, 64, 10], "relu", "sgd", 0.1, 32, False),
    "b-sgd-256": ([784, 128, 64, 10], "relu", "sgd", 0.1, 256, False),
    "b-adam-32": ([784, 128, 64, 10], "relu", "adam", 1e-3, 32, False),
    "infer-b": ([784, 128, 64, 10], "relu", "sgd", 0.1, 1000, True),
    # conv 20@5x5, max-pool 2, conv 40@5x5, max-pool 2, then 640-100-10 (torch only)
    "lenet": ([640, 100, 10], "relu", "sgd", 0.1, 64, False),
}
# The convolutional benchmark trains on a tenth of the rows, as `backprop bench --config lenet`.
LENET_ROWS = 6_400


def synthetic(np, seed=1):
    """x (ROWS x 784 float32) and integer labels, as described in the module docstring."""
    centre = (SIDE - 1) / 2
    r, c = np.divmod(np.arange(PIXELS), SIDE)
    bump = np.exp(-((r - centre) ** 2 + (c - centre) ** 2) / (2 * 5.0**2))
    p = np.minimum(bump * 0.16 * PIXELS / bump.sum(), 1.0).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = np.empty((ROWS, PIXELS), dtype=np.float32)
    for start in range(0, ROWS, 5000):
        block = rng.random((min(5000, ROWS - start), PIXELS), dtype=np.float32)
        values = 0.25 + 0.75 * rng.random(block.shape, dtype=np.float32)
        x[start : start + len(block)] = np.where(block < p, values, 0.0)
    teacher = rng.standard_normal((CLASSES, PIXELS)).astype(np.float32)
    labels = np.argmax((x - p * 0.625) @ teacher.T, axis=1)
    return x, labels


def init(np, sizes, rng):
    """PyTorch's default initialisation, U(+-1/sqrt(fan_in)) for weights and biases."""
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, fan_out).astype(np.float32)
        layers.append([w, b])
    return layers


def numpy_epochs(config, epochs):
    import numpy as np

    sizes, hidden, optimiser, rate, batch, inference = CONFIGS[config]
    x, labels = synthetic(np)
    onehot = np.eye(CLASSES, dtype=np.float32)[labels]
    rng = np.random.default_rng(2)
    layers = init(np, sizes, rng)
    moments = [[np.zeros_like(p) for p in layer] for layer in layers]
    squares = [[np.zeros_like(p) for p in layer] for layer in layers]
    step = 0
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))

    def forward(xb):
        activations = [xb]
        for i, (w, b) in enumerate(layers):
            z = activations[-1] @ w.T + b
            last = i == len(layers) - 1
            if last and hidden == "sigmoid":
                a = sigmoid(z)
            elif last:
                z = z - z.max(axis=1, keepdims=True)
                e = np.exp(z)
                a = e / e.sum(axis=1, keepdims=True)
            else:
                a = sigmoid(z) if hidden == "sigmoid" else np.maximum(z, 0.0)
            activations.append(a)
        return activations

    def train_batch(rows):
        nonlocal step
        xb, yb = x[rows], onehot[rows]
        activations = forward(xb)
        delta = (activations[-1] - yb) / len(rows)  # softmax+CE and sigmoid+BCE alike
        step += 1
        for i in reversed(range(len(layers))):
            w, b = layers[i]
            grads = [delta.T @ activations[i], delta.sum(axis=0)]
            if i > 0:
                back = delta @ w
                a = activations[i]
                delta = back * (a * (1 - a)) if hidden == "sigmoid" else back * (a > 0)
            for j, g in enumerate(grads):
                if optimiser == "sgd":
                    layers[i][j] -= rate * g
                else:
                    m, v = moments[i][j], squares[i][j]
                    m *= 0.9
                    m += 0.1 * g
                    v *= 0.999
                    v += 0.001 * g * g
                    corrected = rate / (1 - 0.9**step)
                    denom = np.sqrt(v) / np.sqrt(1 - 0.999**step) + 1e-8
                    layers[i][j] -= corrected * m / denom

    speeds = []
    for _ in range(epochs + 1):
        started = time.perf_counter()
        if inference:
            for start in range(0, ROWS, batch):
                forward(x[start : start + batch])
        else:
            order = rng.permutation(ROWS)
            for start in range(0, ROWS, batch):
                train_batch(order[start : start + batch])
        speeds.append(ROWS / (time.perf_counter() - started))
    return speeds


def torch_epochs(config, epochs, threads):
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(2)
    sizes, hidden, optimiser, rate, batch, inference = CONFIGS[config]
    x_np, labels_np = synthetic(np)
    x, labels = torch.from_numpy(x_np), torch.from_numpy(labels_np)
    onehot = torch.nn.functional.one_hot(labels, CLASSES).float()
    modules = []
    rows_per_epoch = ROWS
    if config == "lenet":
        rows_per_epoch = LENET_ROWS
        x = x.view(-1, 1, SIDE, SIDE)
        modules += [torch.nn.Conv2d(1, 20, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                    torch.nn.Conv2d(20, 40, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                    torch.nn.Flatten()]
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        modules.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            modules.append(torch.nn.Sigmoid() if hidden == "sigmoid" else torch.nn.ReLU())
    model = torch.nn.Sequential(*modules)
    if optimiser == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=rate)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=rate)

    def loss_of(logits, rows):
        if hidden == "sigmoid":  # A: BCE summed over outputs, mean over the batch
            target = onehot[rows]
            bce = torch.nn.functional.binary_cross_entropy_with_logits
            return bce(logits, target, reduction="sum") / len(rows)
        return torch.nn.functional.cross_entropy(logits, labels[rows])

    speeds = []
    for _ in range(epochs + 1):
        started = time.perf_counter()
        if inference:
            with torch.no_grad():
                for start in range(0, ROWS, batch):
                    torch.softmax(model(x[start : start + batch]), dim=1)
        else:
            order = torch.randperm(rows_per_epoch)
            for start in range(0, rows_per_epoch, batch):
                rows = order[start : start + batch]
                opt.zero_grad(set_to_none=True)
                loss_of(model(x.index_select(0, rows)), rows).backward()
                opt.step()
        speeds.append(rows_per_epoch / (time.perf_counter() - started))
    return speeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("peer", choices=["numpy", "torch"])
    parser.add_argument("config", choices=sorted(CONFIGS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    if args.peer == "numpy" and args.config == "lenet":
        parser.error("the numpy peer has no convolutions: lenet runs against torch only")
    if args.peer == "numpy":
        # OpenBLAS reads its thread count when NumPy is first imported.
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = str(args.threads)
        speeds = numpy_epochs(args.config, args.epochs)
    else:
        speeds = torch_epochs(args.config, args.epochs, args.threads)
    result = {
        "peer": args.peer,
        "config": args.config,
        "threads": args.threads,
        "samples_per_second": statistics.median(speeds[1:]),
        "epochs": speeds[1:],
        "warmup": speeds[0],
    }
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
