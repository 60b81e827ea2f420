"""Model files: the JSON check behind ``save`` and ``backprop.load``."""

import json
import os

import numpy as np
from sklearn.preprocessing import LabelBinarizer

from . import _core

def _jsonable(value):
    if isinstance(value, float) and not np.isfinite(value):
        return False
    try:
        json.dumps(value, allow_nan=False)
        return True
    except (TypeError, ValueError):
        return False


_HIDDEN_FROM_FILE = {"sigmoid": "logistic", "relu": "relu", "tanh": "tanh", "identity": "identity",
                     "gelu": "gelu", "leaky-relu": "leaky_relu"}
_OUTPUT_FROM_FILE = {"softmax": "softmax", "sigmoid": "logistic", "identity": "identity"}


def load(path):
    """Reads a model file written by ``save`` or by ``backprop train``.

    Returns a fitted ``MLPClassifier`` or ``MLPRegressor``. For a command-line model, predict
    applies the file's stored input scaling (and, for regression, maps predictions back through
    its target scaling); ``coefs_`` then are the weights of the network itself, which sees
    scaled inputs. A pandas DataFrame given to such a model is read as ``backprop predict``
    reads a CSV file: columns matched by name, string (categorical) columns one-hot encoded
    with the stored categories, missing cells filled with the stored values; a NumPy array must
    hold the encoded features in the order of the file's feature names.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError("No such model file: %r" % path)
    meta_json, pairs = _core.load_model(path)
    meta = json.loads(meta_json)
    arch = meta["architecture"]
    sizes, activations = arch["sizes"], arch["activations"]
    hidden = {_HIDDEN_FROM_FILE.get(a) for a in activations[:-1]}
    if None in hidden or len(hidden) > 1:
        raise ValueError("hidden activations %s have no single scikit-learn name" % activations[:-1])
    output = _OUTPUT_FROM_FILE.get(activations[-1])
    if output is None:
        raise ValueError("output activation %r is not supported" % activations[-1])
    hp = meta.get("hyperparameters", {}).get("sklearn")
    classifier = meta["task"] == "classification"
    from ._mlp import MLPClassifier, MLPRegressor

    cls = MLPClassifier if classifier else MLPRegressor
    if hp is not None and hp.get("estimator") == cls.__name__:
        params = dict(hp["params"])
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    else:
        params = dict(hidden_layer_sizes=tuple(sizes[1:-1]),
                      activation=hidden.pop() if hidden else "relu")
    est = cls(**params)
    est.coefs_ = [np.asarray(c) for c, _ in pairs]
    est.intercepts_ = [np.asarray(b) for _, b in pairs]
    est.n_features_in_ = sizes[0]
    est.n_layers_ = len(sizes)
    est.n_outputs_ = sizes[-1]
    est.out_activation_ = output
    if output == "identity" and params.get("loss") == "poisson":
        est.out_activation_ = "exp"
    est.n_iter_ = hp["n_iter"] if hp else len(meta.get("history", []))
    est.t_ = hp["t"] if hp else 0
    est.loss_curve_ = hp["loss_curve"] if hp else [e["loss"] for e in meta.get("history", [])]
    est.loss_ = est.loss_curve_[-1] if est.loss_curve_ else None
    pre = meta["preprocessing"]
    if hp is None:
        est._table_metadata = meta_json
    if hp and hp.get("feature_names_in"):
        est.feature_names_in_ = np.asarray(pre["feature_names"], dtype=object)
    if classifier:
        classes = hp.get("classes") if hp else None
        if classes is None:
            classes = pre.get("class_names") or [str(i) for i in range(max(2, sizes[-1]))]
        binarizer = LabelBinarizer()
        if hp and hp.get("multilabel"):
            binarizer.fit(np.eye(len(classes), dtype=int))
        else:
            binarizer.fit(classes)
        est._label_binarizer = binarizer
        est.classes_ = binarizer.classes_ if not (hp and hp.get("multilabel")) else np.asarray(classes)
    if pre.get("input_scaler"):
        s = pre["input_scaler"]
        est._input_scaler = (np.asarray(s["center"]), np.asarray(s["scale"]))
    if pre.get("target_scaler") and not classifier:
        s = pre["target_scaler"]
        est._target_scaler = (np.asarray(s["center"]), np.asarray(s["scale"]))
    return est
