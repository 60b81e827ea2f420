#!/usr/bin/env python3
"""backprop.MLPClassifier against scikit-learn's, side by side (issue 16). Not a test.

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 python scripts/python-speed.py ../shared/data [--repeats 3]

Both with default parameters except those named per row; 2 threads each (backprop: n_threads=2;
scikit-learn: its BLAS, limited by the environment variables above). Prints the median of
`repeats` wall-clock times and the test accuracy of the last run. Each timing starts after a
one-second pause (predict_proba: and one untimed call), so that neither side runs beside the
other's still-spinning threads.

Where PyTorch is installed, the MNIST row is followed by a plain PyTorch training loop with the
same network and recipe (784-100-10, ReLU, Adam at 0.001, batches of 200 reshuffled every
epoch, 10 epochs, float32, 2 threads), PyTorch's default initialisation and no L2 penalty
(scikit-learn's alpha=1e-4 is one); its time covers the loop alone, the tensors already made.
"""

import argparse
import gzip
import statistics
import struct
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLP
from sklearn.preprocessing import StandardScaler

import backprop

warnings.simplefilter("ignore", ConvergenceWarning)


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows * cols)
    return np.frombuffer(data, np.uint8, offset=8)


def mnist(root):
    d = Path(root) / "mnist"
    X = (idx(d / "train-images-idx3-ubyte.gz") / 255.0).astype(np.float32)
    Xt = (idx(d / "t10k-images-idx3-ubyte.gz") / 255.0).astype(np.float32)
    return X, idx(d / "train-labels-idx1-ubyte.gz"), Xt, idx(d / "t10k-labels-idx1-ubyte.gz")


def table(root, folder, name):
    frame = pd.read_csv(Path(root) / folder / name)
    X, y = frame.iloc[:, :-1].to_numpy(np.float64), frame.iloc[:, -1].to_numpy()
    X, Xt, y, yt = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X)
    return scaler.transform(X), y, scaler.transform(Xt), yt


def timed(fn, repeats, warm_up=False):
    # A pause first, for either side: OpenBLAS's threads spin for a while after their last call
    # (and rayon's briefly), and a timing that starts right after the other side's fit shared
    # the two cores with them (measured: our predict_proba 32-37 ms right after scikit-learn's
    # fit, 18-23 ms after a pause). With `warm_up`, one untimed call after the pause.
    time.sleep(1.0)
    if warm_up:
        fn()
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def torch_loop(X, y, Xt, yt, seed=0, epochs=10, batch=200):
    """A plain PyTorch loop: returns a function that trains a fresh model and its accuracy."""
    import torch

    torch.set_num_threads(2)
    inputs, labels = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    test_inputs, test_labels = torch.from_numpy(Xt), torch.from_numpy(yt.astype(np.int64))

    def fit():
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 100), torch.nn.ReLU(),
                                    torch.nn.Linear(100, int(labels.max()) + 1))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss = torch.nn.CrossEntropyLoss()
        for _ in range(epochs):
            order = torch.randperm(len(inputs))
            for start in range(0, len(inputs), batch):
                rows = order[start:start + batch]
                optimizer.zero_grad()
                loss(model(inputs[rows]), labels[rows]).backward()
                optimizer.step()
        with torch.no_grad():
            return (model(test_inputs).argmax(1) == test_labels).float().mean().item()

    return fit


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data", help="the shared data folder (with mnist/, iris/, ...)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default=None, help="one row: mnist, iris, breast-cancer, digits, proba")
    args = parser.parse_args()
    rows = []

    def compare(name, X, y, Xt, yt, **params):
        fits = {}
        for label, make in (("backprop", lambda: backprop.MLPClassifier(n_threads=2, **params)),
                            ("scikit-learn", lambda: SkMLP(**params))):
            seconds, model = timed(lambda: make().fit(X, y), args.repeats)
            fits[label] = (seconds, model.score(Xt, yt))
        (ours, our_acc), (theirs, their_acc) = fits["backprop"], fits["scikit-learn"]
        rows.append((name, ours, theirs, theirs / ours, 100 * our_acc, 100 * their_acc))
        print("%-32s backprop %8.4f s  scikit-learn %8.4f s  %5.1fx  accuracy %.2f %% vs %.2f %%"
              % rows[-1], flush=True)
        return fits

    want = lambda key: args.only in (None, key)
    if want("iris"):
        compare("iris, (100,), max_iter=200", *table(args.data, "iris", "iris-with-header.csv.gz"),
                random_state=0)
    if want("breast-cancer"):
        compare("breast cancer, (100,), max_iter=200",
                *table(args.data, "breast-cancer", "breast-cancer-with-header.csv.gz"), random_state=0)
    if want("digits"):
        compare("8x8 digits, (100,), max_iter=200",
                *table(args.data, "digits-8x8", "digits-with-header.csv.gz"), random_state=0)
    if want("mnist") or want("proba"):
        X, y, Xt, yt = mnist(args.data)
        if want("mnist"):
            fits = compare("MNIST float32, (100,), max_iter=10", X, y, Xt, yt, max_iter=10,
                           random_state=0)
            try:
                fit = torch_loop(X, y, Xt, yt)
            except ImportError:
                print("%-32s PyTorch is not installed here: no PyTorch loop" % "", flush=True)
            else:
                seconds, accuracy = timed(fit, args.repeats)
                ours = fits["backprop"][0]
                print("%-32s PyTorch loop %7.3f s  backprop %5.1fx faster  accuracy %.2f %%"
                      % ("MNIST, plain PyTorch loop", seconds, seconds / ours, 100 * accuracy),
                      flush=True)
        if want("proba"):
            ours = backprop.MLPClassifier(max_iter=1, random_state=0, n_threads=2).fit(X, y)
            theirs = SkMLP(max_iter=1, random_state=0).fit(X, y)
            theirs.coefs_ = [c.copy() for c in ours.coefs_]
            theirs.intercepts_ = [b.copy() for b in ours.intercepts_]
            a, pa = timed(lambda: ours.predict_proba(Xt), max(args.repeats, 5), warm_up=True)
            b, pb = timed(lambda: theirs.predict_proba(Xt), max(args.repeats, 5), warm_up=True)
            assert np.allclose(pa, pb, atol=1e-5)
            print("%-32s backprop %7.4f s  scikit-learn %7.4f s  %5.1fx"
                  % ("predict_proba, 10,000 MNIST rows", a, b, b / a), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
