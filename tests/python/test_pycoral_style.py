"""test_pycoral_style.py — code written the way tflite_runtime and pycoral
users write it, with only the import line changed, gives what `etpu run`
gives.

The adapters below (input_size, set_input, get_classes, get_objects,
get_output) are written here from the documented behaviour of pycoral's
``pycoral.adapters`` API (they read ``get_input_details()``, write the input
through ``interpreter.tensor(index)()`` and read outputs through
``tensor()`` views), not copied from it. The classifier is label_image's
flow (tensorflow/lite/examples/python/label_image.py) with etpu's image
helper instead of PIL.
"""
import collections
import os

import numpy as np
import pytest

from etpu import Interpreter, load_delegate  # was: from tflite_runtime.interpreter import Interpreter, load_delegate
import etpu
from conftest import coral, etpu_run_json

# ---- pycoral.adapters.common, as its API documents it --------------------


def input_details(interpreter, key):
    return interpreter.get_input_details()[0][key]


def input_size(interpreter):
    _, height, width, _ = input_details(interpreter, "shape")
    return width, height


def input_tensor(interpreter):
    return interpreter.tensor(input_details(interpreter, "index"))()[0]


def set_input(interpreter, data):
    input_tensor(interpreter)[:, :] = data


def output_tensor(interpreter, i):
    return interpreter.tensor(interpreter.get_output_details()[i]["index"])()


# ---- pycoral.adapters.classify --------------------------------------------

Class = collections.namedtuple("Class", ["id", "score"])


def get_scores(interpreter):
    d = interpreter.get_output_details()[0]
    scores = np.squeeze(output_tensor(interpreter, 0)).copy()
    scale, zero_point = d["quantization"]
    if np.issubdtype(d["dtype"], np.integer):
        return scale * (scores.astype(np.int64) - zero_point)
    return scores


def get_classes(interpreter, top_k=1, score_threshold=-float("inf")):
    scores = get_scores(interpreter)
    top_k = min(top_k, len(scores))
    ids = np.argpartition(scores, -top_k)[-top_k:]
    classes = [Class(int(i), float(scores[i])) for i in ids if scores[i] >= score_threshold]
    return sorted(classes, key=lambda c: (-c.score, c.id))


# ---- pycoral.adapters.detect ----------------------------------------------

Object = collections.namedtuple("Object", ["id", "score", "bbox"])


def get_objects(interpreter, score_threshold=-float("inf"), image_scale=(1.0, 1.0)):
    boxes = output_tensor(interpreter, 0)[0]
    class_ids = output_tensor(interpreter, 1)[0]
    scores = output_tensor(interpreter, 2)[0]
    count = int(output_tensor(interpreter, 3)[0])
    width, height = 1.0, 1.0  # boxes in the input's normalized coordinates
    sx, sy = width / image_scale[0], height / image_scale[1]
    objs = []
    for i in range(count):
        if scores[i] >= score_threshold:
            ymin, xmin, ymax, xmax = boxes[i]
            objs.append(Object(int(class_ids[i]), float(scores[i]),
                               (float(xmin) * sx, float(ymin) * sy, float(xmax) * sx, float(ymax) * sy)))
    return objs


# ---- pycoral.adapters.segment ----------------------------------------------


def get_output(interpreter):
    out = output_tensor(interpreter, 0)[0]
    return out if out.ndim == 2 else np.argmax(out, axis=-1)


# ---- the label_image flow --------------------------------------------------


def label_image(model, image, labels, top_k=5):
    interpreter = Interpreter(model_path=model, num_threads=2)
    interpreter.allocate_tensors()
    input_details_ = interpreter.get_input_details()
    output_details = interpreter.get_output_details()
    height = input_details_[0]["shape"][1]
    width = input_details_[0]["shape"][2]
    input_data = interpreter.image_to_input(image)  # label_image: Image.open(image).resize((width, height))
    assert input_data.shape[1:3] == (height, width)
    interpreter.set_tensor(input_details_[0]["index"], input_data)
    interpreter.invoke()
    results = np.squeeze(interpreter.get_tensor(output_details[0]["index"]))
    top = results.argsort()[-top_k:][::-1]
    lines = [line.strip() for line in open(labels)]
    return [(int(i), float(results[i] / 255.0), lines[i]) for i in top]


def assert_same_top(ids, scores, top, all_scores):
    """Our top-k (ids, scores) against etpu run's: the same scores in order,
    the same classes above the k-th score (classes tied at the k-th score may
    be picked in a different order), each class's score the one in the full
    output."""
    assert list(scores) == [t["score"] for t in top]
    kth = top[-1]["score"]
    assert {i for i, s in zip(ids, scores) if s > kth} == {t["class"] for t in top if t["score"] > kth}
    for i, s in zip(ids, scores):
        assert all_scores[i] == s


CLASSIFIERS = ["mobilenet_v1_0.25_128_quant.tflite", "mobilenet_v1_0.5_160_quant.tflite",
               "mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite"]
# ORACLES.md §9: top-1 of Coral's MobileNets (LiteRT, imagenet_labels.txt line k+1 = class k).
TOP1 = {("mobilenet_v1_0.25_128_quant.tflite", "cat.bmp"): 283, ("mobilenet_v1_0.5_160_quant.tflite", "cat.bmp"): 286,
        ("mobilenet_v2_1.0_224_quant.tflite", "cat.bmp"): 286, ("tf2_mobilenet_v2_1.0_224_ptq.tflite", "cat.bmp"): 286}
for m in CLASSIFIERS:
    TOP1[(m, "bird.bmp")] = 20
    TOP1[(m, "sunflower.bmp")] = 986


@pytest.mark.parametrize("model", CLASSIFIERS)
@pytest.mark.parametrize("image", ["cat.bmp", "bird.bmp", "sunflower.bmp"])
def test_classification_adapters(model, image):
    interpreter = Interpreter(model_path=coral(model))
    interpreter.allocate_tensors()
    assert input_size(interpreter) == tuple(int(x) for x in interpreter.get_input_details()[0]["shape"][2:0:-1])
    set_input(interpreter, interpreter.image_to_input(coral(image))[0])
    interpreter.invoke()
    classes = get_classes(interpreter, top_k=5)
    r = etpu_run_json(coral(model), [coral(image)], "--top", "5", "--labels", coral("imagenet_labels.txt"))
    top = r["outputs"][0]["top"]
    assert_same_top([c.id for c in classes], [c.score for c in classes], top, get_scores(interpreter))
    assert classes[0].id == TOP1[(model, image)], (model, image, classes)


def test_label_image_flow():
    got = label_image(coral("mobilenet_v2_1.0_224_quant.tflite"), coral("cat.bmp"), coral("imagenet_labels.txt"))
    r = etpu_run_json(coral("mobilenet_v2_1.0_224_quant.tflite"), [coral("cat.bmp")], "--top", "5", "--labels",
                      coral("imagenet_labels.txt"))
    top = r["outputs"][0]["top"]
    interpreter = Interpreter(model_path=coral("mobilenet_v2_1.0_224_quant.tflite"))
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_details(interpreter, "index"), interpreter.image_to_input(coral("cat.bmp")))
    interpreter.invoke()
    scale = interpreter.get_output_details()[0]["quantization"][0]
    # label_image prints uint8 / 255; etpu run the dequantized score (uint8 x scale).
    assert_same_top([g[0] for g in got], [round(g[1] * 255) * scale for g in got], top, get_scores(interpreter))
    # label_image indexes the 1001-line file directly: line 286 is "Egyptian cat" (line 0 = background).
    assert got[0][0] == 286 and got[0][2] == top[0]["label"] == "Egyptian cat" and got[0][1] >= 0.7


def test_etpu_compiled_model_with_delegate(tmp_path):
    """An etpu-compiled model runs with the Edge TPU delegate (simulated) and
    without it, and answers what its source model answers."""
    import shutil
    from conftest import run_cli
    src = tmp_path / "m.tflite"
    shutil.copy(coral("mobilenet_v1_0.25_128_quant.tflite"), src)
    r = run_cli(["compile", "-s", "-o", str(tmp_path), str(src)])
    assert r.returncode == 0, r.stderr
    compiled = tmp_path / "m_edgetpu.tflite"
    assert compiled.exists()
    outs = []
    for model, delegates in ((src, None), (compiled, [load_delegate("libedgetpu.so.1")]), (compiled, None)):
        interpreter = Interpreter(model_path=str(model), experimental_delegates=delegates)
        interpreter.allocate_tensors()
        set_input(interpreter, interpreter.image_to_input(coral("cat.bmp"))[0])
        interpreter.invoke()
        outs.append(get_scores(interpreter))
    assert etpu.Model(str(compiled)).ops[0]["type"] == "edgetpu-custom-op"
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])


def test_detection_adapter(tmp_path):
    """Coral's SSD feature layers are Google-compiled, so the SSD head
    (TFLite_Detection_PostProcess, four outputs) stands in for a detector:
    get_objects must read etpu run's boxes, classes, scores and count.
    traffic_model.tflite (once refused for its MUL's requantization scale)
    now prepares and runs."""
    traffic = Interpreter(model_path=coral("traffic_model.tflite"))
    traffic.allocate_tensors()
    traffic.invoke()
    model = coral("tools", "ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite")
    interpreter = Interpreter(model_path=model)
    interpreter.allocate_tensors()
    rng = np.random.default_rng(6)
    files = []
    for k, d in enumerate(interpreter.get_input_details()):
        x = rng.integers(0, 256, d["shape"], dtype=np.uint8)
        interpreter.set_tensor(d["index"], x)
        f = tmp_path / ("in%d.npy" % k)
        np.save(f, x)
        files.append(str(f))
    interpreter.invoke()
    objs = get_objects(interpreter, score_threshold=0.0)
    out = tmp_path / "out"
    etpu_run_json(model, files, "--output-dir", str(out))
    boxes, ids, scores, count = (np.load(out / ("output_%d.npy" % k)) for k in range(4))
    n = int(count[0])
    assert len(objs) == n > 0
    for i, o in enumerate(objs):
        assert o.id == int(ids[0][i]) and o.score == float(scores[0][i])
        ymin, xmin, ymax, xmax = boxes[0][i]
        assert o.bbox == (float(xmin), float(ymin), float(xmax), float(ymax))


def test_segmentation_adapter(tmp_path):
    model = coral("deeplabv3_mnv2_pascal_quant.tflite")
    interpreter = Interpreter(model_path=model)
    interpreter.allocate_tensors()
    width, height = input_size(interpreter)
    set_input(interpreter, interpreter.image_to_input(coral("bird_segmentation.bmp"))[0])
    interpreter.invoke()
    mask = get_output(interpreter)
    assert mask.shape == (height, width)
    out = tmp_path / "out"
    etpu_run_json(model, [coral("bird_segmentation.bmp")], "--output-dir", str(out))
    assert np.array_equal(mask, np.load(out / "output_0.npy")[0])
    labels, counts = np.unique(mask, return_counts=True)
    fg = [(c, l) for l, c in zip(labels, counts) if l != 0]
    assert max(fg)[1] == 3  # PASCAL VOC class 3: bird
