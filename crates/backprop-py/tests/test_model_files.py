"""save(path) / backprop.load(path) in the command line's safetensors format, both ways."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.preprocessing import StandardScaler

import backprop

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _cli():
    """The backprop binary: $BACKPROP_CLI, else target/release/backprop. Under CI=true a missing
    binary fails the test instead of skipping it."""
    root = Path(__file__).resolve().parents[3]
    path = os.environ.get("BACKPROP_CLI") or str(root / "target" / "release" / "backprop")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and the backprop binary is not at %s" % path)
        pytest.skip("no backprop binary at %s (cargo build --release -p backprop-cli)" % path)
    return path


@pytest.fixture(scope="module")
def iris_frame():
    data = load_iris(as_frame=True)
    X = pd.DataFrame(StandardScaler().fit_transform(data.data), columns=["sl", "sw", "pl", "pw"])
    species = np.asarray(data.target_names)[data.target]
    return X, species


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_and_load_round_trip(tmp_path, iris_frame, dtype):
    X, species = iris_frame
    X = X.astype(dtype)
    clf = backprop.MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", max_iter=30,
                                 learning_rate_init=0.01, random_state=0).fit(X, species)
    clf.save(tmp_path / "iris.safetensors")
    again = backprop.load(tmp_path / "iris.safetensors")
    assert isinstance(again, backprop.MLPClassifier)
    assert again.get_params() == {**clf.get_params(), "random_state": None}
    assert list(again.classes_) == list(clf.classes_)
    assert list(again.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    assert again.loss_curve_ == clf.loss_curve_ and again.n_iter_ == 30
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    assert again.coefs_[0].dtype == np.float32


def test_regressor_and_binary_round_trip(tmp_path):
    X, y = make_regression(n_samples=100, n_features=3, n_targets=2, random_state=0)
    reg = backprop.MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    reg.save(tmp_path / "reg.safetensors")
    np.testing.assert_allclose(backprop.load(tmp_path / "reg.safetensors").predict(X),
                               reg.predict(X), rtol=1e-4, atol=1e-4)
    clf = backprop.MLPClassifier(max_iter=5, random_state=0).fit(X, X[:, 0] > 0)
    clf.save(tmp_path / "bin.safetensors")
    again = backprop.load(tmp_path / "bin.safetensors")
    assert list(again.classes_) == [False, True]
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))


def test_bad_files_raise(tmp_path):
    with pytest.raises(FileNotFoundError):
        backprop.load(tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a model")
    with pytest.raises(ValueError):
        backprop.load(tmp_path / "junk.safetensors")
    clf = backprop.MLPClassifier(max_iter=2).fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(OSError):
        clf.save(tmp_path / "no" / "such" / "dir" / "m.safetensors")


def _predict_json(cli, model, frame, tmp_path):
    frame.to_csv(tmp_path / "rows.csv", index=False)
    out = subprocess.run([cli, "predict", "--model", str(model), "--input",
                          str(tmp_path / "rows.csv"), "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_python_model_runs_in_backprop_predict(tmp_path, iris_frame):
    cli = _cli()
    X, species = iris_frame
    clf = backprop.MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, learning_rate_init=0.01,
                                 random_state=0).fit(X.astype(np.float32), species)
    clf.save(tmp_path / "iris.safetensors")
    result = _predict_json(cli, tmp_path / "iris.safetensors", X, tmp_path)
    rows = result["predictions"]
    assert [r["prediction"] for r in rows] == list(clf.predict(X.astype(np.float32)))
    cli_proba = np.array([[r["probabilities"][c] for c in clf.classes_] for r in rows])
    np.testing.assert_allclose(cli_proba, clf.predict_proba(X.astype(np.float32)), atol=1e-5)


def test_cli_model_loads_with_its_scaling(tmp_path):
    cli = _cli()
    X, y = make_regression(n_samples=300, n_features=4, noise=1.0, random_state=0)
    frame = pd.DataFrame(X * [1, 10, 100, 1000] + 50, columns=["a", "b", "c", "d"])
    frame["target"] = y * 3 + 200
    frame.to_csv(tmp_path / "train.csv", index=False)
    subprocess.run([cli, "train", "--data", str(tmp_path / "train.csv"), "--target", "target",
                    "--epochs", "5", "--out", str(tmp_path / "reg.safetensors")],
                   check=True, capture_output=True)
    reg = backprop.load(tmp_path / "reg.safetensors")
    assert isinstance(reg, backprop.MLPRegressor) and reg.n_features_in_ == 4
    features = frame[["a", "b", "c", "d"]]
    rows = _predict_json(cli, tmp_path / "reg.safetensors", features, tmp_path)["predictions"]
    cli_values = np.array([r["prediction"] for r in rows], dtype=float)
    ours = reg.predict(features.to_numpy())
    np.testing.assert_allclose(ours, cli_values, rtol=1e-4, atol=1e-3)
    assert abs(ours.mean() - frame["target"].mean()) < 0.5 * frame["target"].std()


def test_cli_model_with_string_columns_predicts_a_dataframe_as_backprop_predict(tmp_path):
    """A model trained by the command line on a CSV file with a string column and missing
    cells: a DataFrame with those columns (an unseen category and missing cells among them)
    predicts what `backprop predict` prints for the same rows."""
    cli = _cli()
    rng = np.random.RandomState(0)
    n = 300
    color = rng.choice(["red", "green", "blue"], size=n)
    size = rng.normal(10, 3, size=n)
    weight = rng.normal(50, 10, size=n)
    label = np.where((color == "red") | (size > 11), "big", "small")
    frame = pd.DataFrame({"size": size, "color": color, "weight": weight, "label": label})
    frame.loc[::17, "weight"] = np.nan
    frame.loc[5::23, "color"] = np.nan
    frame.to_csv(tmp_path / "train.csv", index=False)
    subprocess.run([cli, "train", "--data", str(tmp_path / "train.csv"), "--target", "label",
                    "--missing", "mean", "--epochs", "20", "--layers", "8",
                    "--out", str(tmp_path / "cat.safetensors")],
                   check=True, capture_output=True)
    clf = backprop.load(tmp_path / "cat.safetensors")
    assert isinstance(clf, backprop.MLPClassifier)
    rows = frame.drop(columns="label").iloc[:60].copy()
    rows.loc[rows.index[3], "color"] = "purple"  # not seen in training: all zeros
    rows = rows[["weight", "color", "size"]]  # columns are matched by name, in any order
    result = _predict_json(cli, tmp_path / "cat.safetensors", rows, tmp_path)["predictions"]
    assert [r["prediction"] for r in result] == list(clf.predict(rows))
    cli_proba = np.array([[r["probabilities"][c] for c in clf.classes_] for r in result])
    np.testing.assert_allclose(clf.predict_proba(rows), cli_proba, atol=1e-5)
    assert len(set(clf.predict(rows))) == 2
    with pytest.raises(ValueError, match="color"):
        clf.predict(rows.drop(columns="color"))
