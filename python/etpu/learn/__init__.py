"""etpu.learn — on-device transfer learning with pycoral's API.

``ImprintingEngine`` (pycoral.learn.imprinting.engine) and
``SoftmaxRegression`` (pycoral.learn.backprop.softmax_regression) over
libetpu's etpu_imprint and etpu_softmax_regression: the bytes they serialize
are the bytes ``etpu imprint`` and ``etpu train`` write for the same
embeddings (and seed). pycoral's module paths work too, so pycoral code
needs only ``pycoral`` changed to ``etpu`` in its imports::

    from etpu.learn.imprinting.engine import ImprintingEngine
    from etpu.learn.backprop.softmax_regression import SoftmaxRegression

Embeddings are what the caller's interpreter computes. ``etpu imprint`` and
``etpu train`` compute them with the ``tflite-ref`` profile: to get their
bytes, run the extractor with ``Interpreter(..., profile='tflite-ref')``;
the default ``litert`` profile gives embeddings a few steps apart, and so
slightly different weights.
"""
import numpy as np

from .. import _etpu

__all__ = ["ImprintingEngine", "SoftmaxRegression"]


class ImprintingEngine:
    """Weight imprinting (pycoral's ``ImprintingEngine``): low-shot learning
    of new classes on a model ending L2Norm -> Conv2D 1x1 -> Mul -> Reshape
    -> Softmax (Coral's imprinting models; ``etpu imprint --make-model``
    makes one from any embedding extractor).

    ``model_path``: the model's path (or its bytes). ``keep_classes``: keep
    the model's classes (ones imprinted before can take more embeddings, the
    base classes are frozen) and add new ones after them; False starts with
    none. A model that is not an imprinting model raises ValueError naming
    the op and libcoral's rule."""

    def __init__(self, model_path, keep_classes=False):
        self._engine = _etpu._Imprint(model_path, bool(keep_classes))

    @property
    def embedding_dim(self):
        """Length of the embeddings ``train`` takes."""
        return self._engine.info()["embedding_dim"]

    @property
    def num_classes(self):
        """Classes the model has now (kept and trained)."""
        return self._engine.info()["classes"]

    def serialize_extractor_model(self):
        """The embedding extractor as ``bytes``: the model with its output set
        to the L2Norm output (run it to get the embeddings ``train`` takes)."""
        return self._engine.extractor()

    def serialize_model(self):
        """The model with the classes trained so far, as ``bytes`` (what
        ``etpu imprint`` writes). RuntimeError before any class exists."""
        return self._engine.model()

    def train(self, embedding, class_id):
        """Add one embedding (the extractor's output, dequantized: a numpy
        array of ``embedding_dim`` values) to class ``class_id``: an existing
        class trained by imprinting, or ``num_classes`` to add a new one.
        ValueError for a wrong length, a frozen base class, an id beyond
        ``num_classes`` or values that are not finite."""
        self._engine.train(embedding, int(class_id))


class SoftmaxRegression:
    """Last-layer backpropagation (pycoral's ``SoftmaxRegression``): a
    fully-connected layer with softmax trained by SGD on embeddings, then
    appended to the embedding extractor.

    ``feature_dim``: embedding length; ``num_classes``: classes (>= 2);
    ``weight_scale``: initial weights are weight_scale x N(0, 1); ``reg``: L2
    regularization strength. ``seed`` (etpu's addition; pycoral draws from
    an unseeded generator) makes training reproducible: the same seed, data
    and calls give the bytes ``etpu train --seed`` gives (default 1, the
    command's default)."""

    def __init__(self, feature_dim=None, num_classes=None, weight_scale=0.01, reg=0.0, seed=1):
        if feature_dim is None or num_classes is None:
            raise ValueError("SoftmaxRegression needs feature_dim and num_classes")
        self.feature_dim = int(feature_dim)
        self.num_classes = int(num_classes)
        self._model = _etpu._SoftmaxRegression(self.feature_dim, self.num_classes, float(weight_scale), float(reg),
                                               int(seed))

    def serialize_model(self, in_model_path):
        """The embedding extractor at ``in_model_path`` (or its bytes) with
        the trained layer appended (FULLY_CONNECTED [+ RESHAPE] + SOFTMAX,
        weights quantized as libcoral does), as ``bytes``."""
        return self._model.append(in_model_path)

    def get_accuracy(self, mat_x, labels):
        """Fraction (0..1) of the rows of ``mat_x`` (N x feature_dim) whose
        largest logit is their entry of ``labels`` (N class ids)."""
        return self._model.accuracy(mat_x, labels)

    def train_with_sgd(self, data, num_iter, learning_rate, batch_size=100, print_every=-1):
        """Mini-batch SGD on softmax cross-entropy. ``data`` is pycoral's
        dict: ``'data_train'`` (N x feature_dim embeddings), ``'labels_train'``
        (N class ids), ``'data_val'`` and ``'labels_val'`` (validation, only
        measured; may be empty). Each call trains on the data it is given,
        continuing from the current weights. ``print_every`` > 0 prints the
        loss and accuracies every so many iterations."""
        if not isinstance(data, dict):
            raise ValueError("train_with_sgd: data must be a dict with data_train, labels_train, data_val, labels_val")
        missing = [k for k in ("data_train", "labels_train") if k not in data]
        if missing:
            raise ValueError("train_with_sgd: data lacks %s" % ", ".join(missing))
        empty_x = np.zeros((0, self.feature_dim), np.float32)
        empty_y = np.zeros((0,), np.int64)
        x_val = data.get("data_val")
        y_val = data.get("labels_val")
        self._model.set_data(data["data_train"], data["labels_train"],
                             empty_x if x_val is None or len(x_val) == 0 else x_val,
                             empty_y if y_val is None or len(y_val) == 0 else y_val)
        self._model.train(int(num_iter), float(learning_rate), int(batch_size), int(print_every))
