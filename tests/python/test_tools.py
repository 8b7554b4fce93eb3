"""test_tools.py — etpu.compile and etpu.quantize against `etpu compile` and
`etpu quantize`: the same bytes for the same inputs, the per-op mapping the
command's --json reports, and bad arguments (a malformed model, an unknown
-i tensor, representative datasets of the wrong shape or type, empty or
raising) as ValueError / OSError with etpu's message, never a crash.
"""
import json
import os

import numpy as np
import pytest

import etpu
from conftest import DATA, cli, coral, read

MNV1 = coral("mobilenet_v1_0.25_128_quant.tflite")
DEEPLAB = coral("deeplabv3_mnv2_dm05_pascal_quant.tflite")
RESNET = os.path.join(DATA, "float", "pretrainedResnet.tflite")


# ---- compile ---------------------------------------------------------------


@pytest.mark.parametrize("model,flags,kwargs", [
    (MNV1, [], {}),
    (DEEPLAB, ["-m", "12"], {"min_runtime_version": 12}),
    (MNV1, ["-n", "2"], {"num_segments": 2}),
    (DEEPLAB, ["-i", "OP20"], {"intermediate_tensors": "OP20"}),
])
def test_compile_writes_what_the_cli_writes(model, flags, kwargs, tmp_path):
    if "OP20" in flags:  # -i: the output of op 20
        m = etpu.Model(model)
        name = m.tensors[m.ops[20]["outputs"][0]]["name"]
        flags, kwargs = ["-i", name], {"intermediate_tensors": name}
    cli_dir, py_dir = tmp_path / "cli", tmp_path / "py"
    cli_dir.mkdir()
    py_dir.mkdir()
    cli("compile", *flags, "-o", cli_dir, model)
    doc = json.loads(cli("compile", *flags, "-o", cli_dir, "--json", model))["models"][0]
    c = etpu.compile(model, **kwargs)
    written = c.save(str(cli_dir))  # the same folder: the .log names it
    names = sorted(os.listdir(cli_dir))
    assert [os.path.basename(p) for p in written] == [n for n in names if n.endswith(".tflite")]
    for p in written:
        assert read(p) == c.models[written.index(p)]
    # Byte-identical with what the command wrote (it wrote again just now).
    cli("compile", *flags, "-o", py_dir, model)
    for n in names:
        data = read(cli_dir / n)
        again = read(py_dir / n)
        if n.endswith(".log"):
            again = again.replace(str(py_dir).encode(), str(cli_dir).encode())
        assert data == again, n
    # The per-op mapping and the figures are the command's report.
    assert [(o["op"], o["type"], o["status"], o["reason"], o["fix"]) for o in c.ops] == \
        [(o["index"], o["name"], o["status"], o.get("reason", ""), o.get("fix", "")) for o in doc["ops"]]
    assert c.memory == {k: v for k, v in doc["memory"].items() if k != "estimate"}
    assert c.summary["edgetpu_ops"] == doc["edgetpu_ops"] and c.summary["cpu_ops"] == doc["cpu_ops"]
    assert c.log == c.logs[0] and c.log.startswith("Edge TPU Compiler version")
    assert "Compilation succeeded!" in c.report()


def test_cocompile_as_the_cli(tmp_path):
    """etpu.compile([A, B]) is `etpu compile A B`: the same files, and B
    gets the on-chip memory A leaves."""
    a, b = MNV1, coral("mobilenet_v1_0.5_160_quant.tflite")
    cli("compile", "-o", tmp_path, a, b)
    doc = json.loads(cli("compile", "-o", tmp_path, "--json", a, b))["models"]
    want = {n: read(tmp_path / n) for n in os.listdir(tmp_path)}
    both = etpu.compile([a, b])
    for c, d in zip(both, doc):
        assert c.memory == {k: v for k, v in d["memory"].items() if k != "estimate"}
        c.save(str(tmp_path))
    assert {n: read(tmp_path / n) for n in os.listdir(tmp_path)} == want
    alone = etpu.compile(b)
    # Both fit: B's remaining on-chip memory is what A left less B's own.
    assert both[1].memory["on_chip_remaining_bytes"] == \
        alone.memory["on_chip_remaining_bytes"] - both[0].memory["on_chip_bytes"]
    with pytest.raises(ValueError, match="one intermediate_tensors entry"):
        etpu.compile([a, b], intermediate_tensors=["x"])
    with pytest.raises(ValueError, match="one model at a time"):
        etpu.compile([a, b], num_segments=2)


def test_compile_reasons_and_memory():
    c = etpu.compile(DEEPLAB)
    cpu = [o for o in c.ops if not o["on_edgetpu"]]
    assert cpu and cpu[0]["type"] == "RESIZE_BILINEAR" and "33" in cpu[0]["reason"] and cpu[0]["fix"]
    assert c.memory["parameter_bytes"] > 0 and c.json()["cpu_ops"] == len(cpu)
    # From bytes: the same model bytes, named after `name`.
    b = etpu.compile(read(DEEPLAB), name="deeplab.tflite")
    assert b.model == c.model and b.paths("out")[0][0] == os.path.join("out", "deeplab_edgetpu.tflite")
    # The compiled model runs in etpu's interpreter, with the delegate.
    i = etpu.Interpreter(model_content=etpu.compile(MNV1).model,
                         experimental_delegates=[etpu.load_delegate("libedgetpu.so.1")])
    i.allocate_tensors()
    i.set_tensor(i.get_input_details()[0]["index"], i.image_to_input(coral("cat.bmp")))
    i.invoke()


def test_compile_errors(tmp_path):
    with pytest.raises(ValueError):
        etpu.compile(b"\0" * 64)
    with pytest.raises(ValueError, match="not quantized|quantiz|float"):
        etpu.compile(RESNET)
    with pytest.raises(ValueError, match="no_such_tensor"):
        etpu.compile(MNV1, intermediate_tensors=["no_such_tensor"])
    with pytest.raises(ValueError, match="min_runtime_version"):
        etpu.compile(MNV1, min_runtime_version=9)
    with pytest.raises(ValueError, match="num_segments"):
        etpu.compile(MNV1, num_segments=0)
    with pytest.raises(ValueError):
        etpu.compile(MNV1, intermediate_tensors=[3])
    with pytest.raises(ValueError, match="Google|edgetpu|compiled"):
        etpu.compile(coral("mobilenet_v1_0.25_128_quant_edgetpu.tflite"))
    c = etpu.compile(MNV1)
    with pytest.raises(OSError):
        c.save(str(tmp_path / "missing"))
    assert os.listdir(tmp_path) == []


# ---- quantize --------------------------------------------------------------


def samples(n=5, shape=(1, 32, 32, 3), seed=3):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) * 2 for _ in range(n)]


@pytest.mark.parametrize("io,flags,kwargs", [
    ("uint8", [], {}),
    ("int8", ["--gptq", "--bias-correct"], {"gptq": True, "bias_correct": True}),
    ("float", ["--calib-method", "percentile=99.5"], {"calibration": "percentile=99.5"}),
])
def test_quantize_generator_same_bytes_as_cli(io, flags, kwargs, tmp_path):
    xs = samples()
    calib = tmp_path / "calib"
    calib.mkdir()
    for k, x in enumerate(xs):
        np.save(str(calib / ("s%02d.npy" % k)), x)
    out = tmp_path / "cli.tflite"
    cli("quantize", RESNET, "--calib", calib, "--io", io, "-q", "-o", out, *flags)
    t = {"uint8": np.uint8, "int8": np.int8, "float": np.float32}[io]

    def representative_dataset():
        for x in xs:
            yield [x]

    q = etpu.quantize(RESNET, representative_dataset, inference_input_type=t, inference_output_type=t, **kwargs)
    assert isinstance(q, bytes) and q == read(out)
    r = q.report
    assert r["samples"] == 5 and r["outputs"] and r["outputs"][0]["sqnr_db"] > 5
    assert any(e["sqnr_db"] is not None for e in r["tensors"])
    assert r["refine"]["gptq"] == bool(kwargs.get("gptq"))
    m = etpu.Model(q)
    assert m.tensors[m.inputs[0]]["dtype"] is t


def test_quantize_bad_datasets():
    good = samples(2)
    with pytest.raises(ValueError, match=r"sample 1, input 0 'input_1'?.*shape \(1, 16, 16, 3\)"):
        etpu.quantize(RESNET, lambda: iter([[good[0]], [np.zeros((1, 16, 16, 3), np.float32)]]))
    with pytest.raises(ValueError, match="dtype float64"):
        etpu.quantize(RESNET, lambda: iter([[good[0].astype(np.float64)]]))
    with pytest.raises(ValueError, match="no samples"):
        etpu.quantize(RESNET, lambda: iter([]))
    with pytest.raises(ValueError, match="no samples"):
        etpu.quantize(RESNET)

    def raising():
        yield [good[0]]
        raise KeyError("boom")

    with pytest.raises(ValueError, match="raised at sample 1: KeyError"):
        etpu.quantize(RESNET, raising)
    with pytest.raises(ValueError, match="callable"):
        etpu.quantize(RESNET, [[good[0]]])
    with pytest.raises(ValueError, match="sample 0 is numpy.ndarray"):
        etpu.quantize(RESNET, lambda: iter([good[0]]))
    with pytest.raises(ValueError, match="holds 2 array"):
        etpu.quantize(RESNET, lambda: iter([[good[0], good[1]]]))
    with pytest.raises(ValueError, match="dtype"):
        etpu.quantize(RESNET, lambda: iter([[np.array(["x"] * 10)]]))
    with pytest.raises(ValueError, match="inference_input_type"):
        etpu.quantize(RESNET, lambda: iter([good]), inference_input_type=np.int16)
    with pytest.raises(ValueError, match="differ"):
        etpu.quantize(RESNET, lambda: iter([good]), inference_input_type=np.int8)
    with pytest.raises(ValueError, match="calibration"):
        etpu.quantize(RESNET, lambda: iter([good]), calibration="percentile=20")
    with pytest.raises(ValueError):  # already quantized: nothing float to calibrate
        etpu.quantize(MNV1, lambda: iter([good]))
    with pytest.raises(ValueError):
        etpu.quantize(b"\0" * 64, lambda: iter([good]))
    # Still usable after every failure.
    assert len(etpu.quantize(RESNET, lambda: iter([[x] for x in good]))) > 0
