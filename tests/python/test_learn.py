"""test_learn.py — pycoral's on-device learning flows through etpu.learn.

The imprinting and backprop flows below are written the way pycoral's
examples (examples/imprinting_learning.py, examples/backprop_last_layer.py)
write them, with ``pycoral`` changed to ``etpu`` in the imports; images come
from etpu's image helper instead of PIL. They run twice:

  - with ``etpu.make_interpreter`` (pycoral's helper; only the imports
    changed): the retrained models put every test image in the class the
    command-line's models put it in;
  - with an interpreter on the ``tflite-ref`` profile, the arithmetic `etpu
    imprint` / `etpu train` compute embeddings with: the serialized models
    are byte for byte the files the commands write for the same images
    (and seed).

Bad arguments (wrong lengths, frozen classes, labels out of range, a model
that is not an imprinting model) raise ValueError with etpu's message.
"""
import os

import numpy as np
import pytest

import etpu
from etpu import make_interpreter  # was: from pycoral.utils.edgetpu import make_interpreter
from etpu.learn.backprop.softmax_regression import SoftmaxRegression  # was: from pycoral.learn.backprop...
from etpu.learn.imprinting.engine import ImprintingEngine  # was: from pycoral.learn.imprinting.engine ...
from conftest import cli, coral, etpu_run_json, read
from test_pycoral_style import get_scores, set_input

X = coral("mobilenet_v1_1.0_224_quant_embedding_extractor.tflite")


def img(name):
    return coral("imprinting", name + ".bmp")


def tflite_ref_interpreter(model_path_or_content):
    """make_interpreter with the arithmetic of `etpu imprint` / `etpu train`."""
    if isinstance(model_path_or_content, bytes):
        return etpu.Interpreter(model_content=model_path_or_content, profile="tflite-ref")
    return etpu.Interpreter(model_path=model_path_or_content, profile="tflite-ref")


def embedding(interpreter, path):
    """pycoral's loop body: set the input, invoke, dequantized scores."""
    set_input(interpreter, interpreter.image_to_input(path)[0])  # was: PIL's img.resize(shape, Image.NEAREST)
    interpreter.invoke()
    return get_scores(interpreter)


# ---- imprinting (examples/imprinting_learning.py's flow) ------------------


def imprint(model_path, train_set, make, keep_classes=False):
    """train_set: list of (class offset, [image paths]) in class order."""
    engine = ImprintingEngine(model_path, keep_classes=keep_classes)
    extractor = make(engine.serialize_extractor_model())
    extractor.allocate_tensors()
    num_classes = engine.num_classes
    for class_id, images in train_set:
        for path in images:
            engine.train(embedding(extractor, path), class_id=num_classes + class_id)
    return engine


def top1(model, image, make):
    interpreter = make(model)
    interpreter.allocate_tensors()
    scores = embedding(interpreter, image)
    return int(np.argmax(scores)), float(scores.max())


@pytest.fixture(scope="module")
def imprint_cli(tmp_path_factory):
    """The command line's imprinting models: m (etpu's imprinting tail on
    the extractor), b (cat 0, hotdog 1), c (b kept, hotdog extended, dog 2)."""
    d = tmp_path_factory.mktemp("imprint")
    m, b, c, e = (str(d / n) for n in ("m.tflite", "b.tflite", "c.tflite", "e.tflite"))
    cli("imprint", "--make-model", X, "-o", m)
    cli("imprint", m, "--class", 0, img("cat_train_0"), "--class", 1, img("hotdog_train_0"), "-o", b)
    cli("imprint", b, "--keep-classes", "--class", 1, img("hotdog_train_1"), "--class", 2, img("dog_train_0"), "-o", c)
    cli("imprint", m, "--class", 0, img("cat_train_0"), "--class", 1, img("hotdog_train_0"), "--class", 2,
        img("dog_train_0"), "-o", e)
    return m, b, c, e


def test_imprinting_same_bytes_as_cli(imprint_cli):
    m, b, c, _ = imprint_cli
    engine = imprint(m, [(0, [img("cat_train_0")]), (1, [img("hotdog_train_0")])], tflite_ref_interpreter)
    assert engine.num_classes == 2 and engine.embedding_dim == 1024
    assert engine.serialize_model() == read(b)
    # keep_classes: hotdog (imprinted before) takes one more image, dog is new.
    engine = ImprintingEngine(b, keep_classes=True)
    assert engine.num_classes == 2
    extractor = tflite_ref_interpreter(engine.serialize_extractor_model())
    extractor.allocate_tensors()
    engine.train(embedding(extractor, img("hotdog_train_1")), class_id=1)
    engine.train(embedding(extractor, img("dog_train_0")), class_id=2)
    assert engine.num_classes == 3
    assert engine.serialize_model() == read(c)


def test_imprinting_pycoral_flow_same_labels(imprint_cli, tmp_path):
    """Only the imports changed: litert embeddings, the CLI's classes."""
    m, _, _, e = imprint_cli
    engine = imprint(m, [(0, [img("cat_train_0")]), (1, [img("hotdog_train_0")]), (2, [img("dog_train_0")])],
                     make_interpreter)
    out = str(tmp_path / "mine.tflite")
    with open(out, "wb") as f:
        f.write(engine.serialize_model())
    for name, want in (("cat_test_0", 0), ("hotdog_test_0", 1), ("dog_test_0", 2)):
        got, score = top1(out, img(name), make_interpreter)
        top = etpu_run_json(e, [img(name)])["outputs"][0]["top"][0]
        # The same class as the CLI's model of the same images, and as sure
        # of it within two uint8 steps (the embeddings differ by profile).
        assert got == want == top["class"] and abs(score - top["score"]) <= 2 / 256, (name, got, top, score)


def test_imprinting_errors(imprint_cli):
    m, b, _, _ = imprint_cli
    with pytest.raises(ValueError, match="not an imprinting|L2_NORMALIZATION|imprint"):
        ImprintingEngine(coral("mobilenet_v1_0.25_128_quant.tflite"))
    with pytest.raises(ValueError):
        ImprintingEngine(b"\0" * 64)
    engine = ImprintingEngine(b, keep_classes=True)
    with pytest.raises(ValueError, match="Invalid number of weights"):
        engine.train(np.zeros(10, np.float32), 2)
    with pytest.raises(ValueError, match="too large"):
        engine.train(np.full(1024, 0.03, np.float32), 5)
    with pytest.raises(ValueError, match="not finite|finite"):
        engine.train(np.full(1024, np.nan, np.float32), 2)
    with pytest.raises(ValueError):
        engine.train(np.array(["a"] * 1024), 2)
    with pytest.raises(ValueError):
        engine.train(np.ones(1024, np.float32), -1)
    with pytest.raises(RuntimeError, match="not trained"):
        ImprintingEngine(m).serialize_model()


# ---- backprop (examples/backprop_last_layer.py's flow) --------------------

CLASSES = (("cat", ["cat_test_0", "cat_train_0"]), ("dog", ["dog_test_0", "dog_train_0"]),
           ("hotdog", ["hotdog_test_0", "hotdog_train_0", "hotdog_train_1"]))


def extract_embeddings(image_paths, interpreter):
    feature_dim = int(np.prod(interpreter.get_output_details()[0]["shape"]))  # was: classify.num_classes
    embeddings = np.empty((len(image_paths), feature_dim), dtype=np.float32)
    for idx, path in enumerate(image_paths):
        embeddings[idx, :] = embedding(interpreter, path)
    return embeddings


def backprop_dataset(make):
    """The split `etpu train --val 0.5` makes: per class, in name order,
    every second image to validation."""
    paths = {"train": [], "val": []}
    labels = {"train": [], "val": []}
    for label, (_, names) in enumerate(CLASSES):
        for i, n in enumerate(sorted(names)):
            part = "val" if int((i + 1) * 0.5) > int(i * 0.5) else "train"
            paths[part].append(img(n))
            labels[part].append(label)
    interpreter = make(X)
    interpreter.allocate_tensors()
    return {"data_train": extract_embeddings(paths["train"], interpreter),
            "labels_train": np.array(labels["train"]),
            "data_val": extract_embeddings(paths["val"], interpreter),
            "labels_val": np.array(labels["val"])}


@pytest.fixture(scope="module")
def train_cli(tmp_path_factory):
    d = tmp_path_factory.mktemp("train")
    data = d / "data"
    for cls, names in CLASSES:
        (data / cls).mkdir(parents=True)
        for n in names:
            os.symlink(os.path.abspath(img(n)), str(data / cls / (n + ".bmp")))
    out = str(d / "t.tflite")
    text = cli("train", X, "--data", data, "--val", 0.5, "--iters", 50, "--batch", 8, "--lr", 0.01,
               "--weight-scale", 0.05, "-o", out)
    assert "4 training and 3 validation images, 3 classes" in text, text
    return out


def test_backprop_same_bytes_as_cli(train_cli):
    dataset = backprop_dataset(tflite_ref_interpreter)
    model = SoftmaxRegression(dataset["data_train"].shape[1], 3, weight_scale=5e-2, reg=0.0)
    model.train_with_sgd(dataset, 50, 1e-2, batch_size=8)
    assert model.serialize_model(X) == read(train_cli)
    # Another seed draws other weights: other bytes.
    other = SoftmaxRegression(1024, 3, weight_scale=5e-2, seed=2)
    other.train_with_sgd(dataset, 50, 1e-2, batch_size=8)
    assert other.serialize_model(X) != read(train_cli)


def test_backprop_pycoral_flow(train_cli, tmp_path, capsys):
    """Only the imports changed (litert embeddings): it learns the training
    set and the retrained model classifies as the CLI's does."""
    dataset = backprop_dataset(make_interpreter)
    feature_dim = dataset["data_train"].shape[1]
    num_classes = np.max(dataset["labels_train"]) + 1
    model = SoftmaxRegression(feature_dim, num_classes, weight_scale=5e-2, reg=0.0)
    model.train_with_sgd(dataset, 300, 1e-2, batch_size=100, print_every=100)
    printed = capsys.readouterr().out
    assert printed.count("Iteration") == 3, printed
    assert model.get_accuracy(dataset["data_train"], dataset["labels_train"]) == 1.0
    out = str(tmp_path / "retrained.tflite")
    with open(out, "wb") as f:
        f.write(model.serialize_model(X))
    ops = [o["type"] for o in etpu.Model(out).ops]
    assert ops[-3:] == ["FULLY_CONNECTED", "RESHAPE", "SOFTMAX"] or ops[-2:] == ["FULLY_CONNECTED", "SOFTMAX"]
    for label, (_, names) in enumerate(CLASSES):
        for n in names:
            ours = top1(out, img(n), make_interpreter)[0]
            theirs = top1(train_cli, img(n), make_interpreter)[0]
            if n in ("cat_test_0", "dog_test_0", "hotdog_test_0", "hotdog_train_1"):  # trained on
                assert ours == label, n
            assert ours == theirs or n not in ("cat_test_0", "dog_test_0"), n


def test_backprop_errors():
    with pytest.raises(ValueError, match="at least 1 feature and 2 classes"):
        SoftmaxRegression(16, 1)
    with pytest.raises(ValueError):
        SoftmaxRegression()
    model = SoftmaxRegression(4, 2)
    x = np.eye(4, dtype=np.float32)
    good = {"data_train": x, "labels_train": np.array([0, 1, 0, 1]), "data_val": x[:0], "labels_val": np.array([])}
    with pytest.raises(ValueError, match="N x 4"):
        model.train_with_sgd(dict(good, data_train=np.ones((4, 5), np.float32)), 10, 0.1)
    with pytest.raises(ValueError, match="not a class"):
        model.train_with_sgd(dict(good, labels_train=np.array([0, 1, 2, 0])), 10, 0.1)
    with pytest.raises(ValueError, match="integer class ids"):
        model.train_with_sgd(dict(good, labels_train=np.array([0.5, 1, 0, 1])), 10, 0.1)
    with pytest.raises(ValueError, match="lacks data_train"):
        model.train_with_sgd({}, 10, 0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        model.train_with_sgd(good, 10, -1.0)
    with pytest.raises(RuntimeError):
        model.train_with_sgd(dict(good, data_train=x[:0], labels_train=np.array([], np.int64)), 10, 0.1)
    model.train_with_sgd(good, 200, 0.5, batch_size=4)
    assert model.get_accuracy(x, np.array([0, 1, 0, 1])) == 1.0
    # Each call trains on the data it is given (pycoral's semantics): the
    # examples held before are dropped (etpu_softmax_regression_clear).
    flipped = {"data_train": x[:2], "labels_train": np.array([1, 0]), "data_val": x[:0], "labels_val": []}
    model.train_with_sgd(flipped, 0, 0.1)
    assert model._model.evaluate(False)[1] == 0.0  # 0 of these 2, not 4 of 6
    with pytest.raises(ValueError):
        model.get_accuracy(np.ones((2, 3), np.float32), np.array([0, 1]))
    with pytest.raises(ValueError):
        model.serialize_model(coral("mobilenet_v1_0.25_128_quant.tflite"))  # a classifier, not an extractor
