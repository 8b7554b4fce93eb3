"""etpu.learn.backprop.softmax_regression — pycoral's module path:
``SoftmaxRegression`` (defined in etpu.learn)."""
from .. import SoftmaxRegression

__all__ = ["SoftmaxRegression"]
