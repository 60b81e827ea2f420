"""backprop: scikit-learn-compatible neural networks trained by explicit backpropagation in Rust.

``backprop.MLPClassifier`` and ``backprop.MLPRegressor`` are drop-ins for scikit-learn's
estimators of the same names.
"""

from . import _core
from ._mlp import MLPClassifier, MLPRegressor, load

__version__ = _core.__version__
__all__ = ["MLPClassifier", "MLPRegressor", "load", "__version__"]
