"""test_interpreter.py — etpu.Interpreter's tflite_runtime semantics and its
refusals: details dicts, set/get/tensor views, the no-view-across-invoke
rule, invoke before allocate_tensors, wrong dtypes and shapes, closed
interpreters, malformed models (truncated and random bytes), delegates,
threads, resize, signatures, etpu.Model and the image helpers. Every error
must be a Python exception with etpu's message, never a crash."""
import gc
import os
import threading

import numpy as np
import pytest

import etpu
from conftest import coral, etpu_run_json

MNV1 = coral("mobilenet_v1_0.25_128_quant.tflite")


@pytest.fixture
def interp():
    i = etpu.Interpreter(model_path=MNV1)
    i.allocate_tensors()
    return i


def test_details_as_tflite_runtime(interp):
    d = interp.get_input_details()
    assert len(d) == 1
    d = d[0]
    assert set(d) == {"name", "index", "shape", "shape_signature", "dtype", "quantization",
                      "quantization_parameters", "sparsity_parameters"}
    assert d["name"] == "input" and d["index"] == 0 and d["dtype"] is np.uint8
    assert d["shape"].dtype == np.int32 and d["shape"].tolist() == [1, 128, 128, 3]
    assert d["quantization"] == (0.0078125, 128)
    qp = d["quantization_parameters"]
    assert qp["scales"].dtype == np.float32 and qp["scales"].tolist() == [0.0078125]
    assert qp["zero_points"].dtype == np.int32 and qp["zero_points"].tolist() == [128]
    assert qp["quantized_dimension"] == 0 and d["sparsity_parameters"] == {}
    o = interp.get_output_details()[0]
    assert o["index"] == 88 and o["shape"].tolist() == [1, 1001] and o["quantization"] == (0.00390625, 0)
    all_t = interp.get_tensor_details()
    assert len(all_t) == 89 and [t["index"] for t in all_t] == list(range(89))
    assert all_t[88]["name"] == o["name"]


def test_per_channel_quantization_details():
    i = etpu.Interpreter(model_path=coral("tf2_mobilenet_v2_1.0_224_ptq.tflite"))
    per_axis = [t for t in i.get_tensor_details() if len(t["quantization_parameters"]["scales"]) > 1]
    assert per_axis, "tf2 MobileNet v2 has per-channel weights"
    t = per_axis[0]
    assert t["quantization"] == (0.0, 0)  # TFLite's legacy pair is per-tensor only
    assert len(t["quantization_parameters"]["zero_points"]) == len(t["quantization_parameters"]["scales"])


def test_set_get_and_views(interp):
    inp = interp.get_input_details()[0]["index"]
    out = interp.get_output_details()[0]["index"]
    x = interp.image_to_input(coral("cat.bmp"))
    interp.set_tensor(inp, x)
    got = interp.get_tensor(inp)
    assert np.array_equal(got, x)
    got[...] = 0  # a copy: the input is unchanged
    assert np.array_equal(interp.get_tensor(inp), x)
    interp.invoke()
    a = interp.get_tensor(out)
    # Writing through a view sets the input (pycoral's set_input does this).
    interp.tensor(inp)()[...] = 0
    assert not interp.get_tensor(inp).any()
    interp.tensor(inp)()[0] = x[0]
    assert np.array_equal(interp.get_tensor(inp), x)
    # Inputs survive invoke (TFLite keeps them): invoking again gives the same output.
    interp.invoke()
    interp.invoke()
    assert np.array_equal(interp.get_tensor(out), a)
    assert np.array_equal(interp.tensor(out)(), a)
    assert a[0].argmax() == 283


def test_view_held_across_invoke_is_refused(interp):
    inp = interp.get_input_details()[0]["index"]
    v = interp.tensor(inp)()
    with pytest.raises(RuntimeError, match="reference to internal data"):
        interp.invoke()
    s = v[0, :4]  # a slice still holds the memory
    del v
    with pytest.raises(RuntimeError, match="reference to internal data"):
        interp.invoke()
    with pytest.raises(RuntimeError, match="reference to internal data"):
        interp.close()
    del s
    gc.collect()
    interp.invoke()
    f = interp.tensor(inp)  # holding the function is fine
    interp.invoke()
    assert f().shape == (1, 128, 128, 3)


def test_view_keeps_memory_alive():
    i = etpu.Interpreter(model_path=MNV1)
    i.allocate_tensors()
    v = i.tensor(i.get_output_details()[0]["index"])()
    del i
    gc.collect()
    assert v.shape == (1, 1001) and int(v.sum()) >= 0  # still valid memory (ASan would say otherwise)


def test_invoke_before_allocate():
    i = etpu.Interpreter(model_path=MNV1)
    with pytest.raises(RuntimeError, match="before allocate_tensors"):
        i.invoke()
    with pytest.raises(RuntimeError, match="before allocate_tensors"):
        i.get_tensor(0)
    with pytest.raises(RuntimeError, match="before allocate_tensors"):
        i.tensor(0)()
    with pytest.raises(RuntimeError, match="before allocate_tensors"):
        i.set_tensor(0, np.zeros((1, 128, 128, 3), np.uint8))
    assert i.get_input_details()[0]["index"] == 0  # details need no allocation
    i.allocate_tensors()
    i.allocate_tensors()  # twice is fine
    i.invoke()


def test_wrong_dtype_and_shape(interp):
    with pytest.raises(ValueError, match=r"tensor 0 'input': got a value of type numpy.float32 but expected type numpy.uint8"):
        interp.set_tensor(0, np.zeros((1, 128, 128, 3), np.float32))
    with pytest.raises(ValueError, match=r"dimension mismatch: got shape \[1, 128, 127, 3\] but expected \[1, 128, 128, 3\]"):
        interp.set_tensor(0, np.zeros((1, 128, 127, 3), np.uint8))
    with pytest.raises(ValueError, match="dimension mismatch"):
        interp.set_tensor(0, np.zeros((128, 128, 3), np.uint8))
    with pytest.raises(ValueError, match="not a graph input"):
        interp.set_tensor(88, np.zeros((1, 1001), np.uint8))
    with pytest.raises(ValueError, match="tensor 89 does not exist"):
        interp.get_tensor(89)
    with pytest.raises(ValueError, match="tensor -1 does not exist"):
        interp.set_tensor(-1, np.zeros(1, np.uint8))
    with pytest.raises(RuntimeError, match="tensor 31 .* is not kept after invoke"):
        interp.get_tensor(31)  # an intermediate: only with experimental_preserve_all_tensors
    # A non-contiguous array of the right type and shape is accepted.
    x = np.zeros((1, 128, 256, 3), np.uint8)[:, :, ::2]
    interp.set_tensor(0, x)


def test_preserve_all_tensors():
    i = etpu.Interpreter(model_path=MNV1, experimental_preserve_all_tensors=True)
    i.allocate_tensors()
    i.set_tensor(0, i.image_to_input(coral("cat.bmp")))
    i.invoke()
    assert i.get_tensor(31).shape == (1, 64, 64, 8)


def test_closed_interpreter(interp):
    interp.close()
    for call in (interp.invoke, interp.allocate_tensors, interp.get_input_details, lambda: interp.get_tensor(0),
                 lambda: interp.tensor(0)(), lambda: interp.set_tensor(0, np.zeros(1))):
        with pytest.raises(ValueError, match="closed"):
            call()
    interp.close()  # twice is fine
    with etpu.Interpreter(model_path=MNV1) as i:
        i.allocate_tensors()
    with pytest.raises(ValueError, match="closed"):
        i.invoke()


def test_malformed_models(tmp_path):
    data = open(MNV1, "rb").read()
    for cut in (0, 7, 100, len(data) // 2, len(data) * 3 // 4):
        with pytest.raises(ValueError) as e:
            etpu.Interpreter(model_content=data[:cut])
        assert "<model_content>" in str(e.value), str(e.value)
    rng = np.random.default_rng(14)
    for n in (8, 64, 4096, 100000):
        with pytest.raises(ValueError):
            etpu.Interpreter(model_content=rng.integers(0, 256, n, dtype=np.uint8).tobytes())
    bad = tmp_path / "truncated.tflite"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match="truncated.tflite"):
        etpu.Interpreter(model_path=str(bad))
    with pytest.raises(ValueError, match="truncated.tflite"):
        etpu.Model(str(bad))
    with pytest.raises(ValueError, match="nonexistent.tflite"):
        etpu.Interpreter(model_path=str(tmp_path / "nonexistent.tflite"))
    with pytest.raises(ValueError, match="exactly one"):
        etpu.Interpreter()
    with pytest.raises(ValueError, match="exactly one"):
        etpu.Interpreter(model_path=MNV1, model_content=data)
    # An op etpu cannot run, named.
    with pytest.raises(ValueError, match="op 0 fake-op-double"):
        etpu.Interpreter(model_path=coral("invalid_models", "model_invoking_error.tflite"))
    # Random bytes where an image should be.
    img = tmp_path / "noise.bmp"
    img.write_bytes(b"BM" + rng.integers(0, 256, 500, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="noise.bmp"):
        etpu.read_image(str(img))


def test_model_content_is_kept_alive():
    data = bytearray(open(MNV1, "rb").read())
    i = etpu.Interpreter(model_content=data)
    data[:] = b"\0" * len(data)  # the caller's buffer changes: the interpreter kept its own bytes
    del data
    gc.collect()
    i.allocate_tensors()
    i.set_tensor(0, i.image_to_input(coral("cat.bmp")))
    i.invoke()
    assert i.get_tensor(88)[0].argmax() == 283
    b = open(MNV1, "rb").read()
    j = etpu.Interpreter(model_content=b)
    del b
    gc.collect()
    j.allocate_tensors()
    j.invoke()


def test_options_and_delegates():
    with pytest.raises(ValueError, match="num_threads"):
        etpu.Interpreter(model_path=MNV1, num_threads=0)
    with pytest.raises(ValueError, match="profile 'fast'"):
        etpu.Interpreter(model_path=MNV1, profile="fast")
    assert etpu.Interpreter(model_path=MNV1, num_threads=1).num_threads() == 1
    assert etpu.Interpreter(model_path=MNV1, num_threads=3).num_threads() == 3
    d = etpu.load_delegate("libedgetpu.so.1", {"device": "usb"})
    assert d.options == {"device": "usb"}
    with pytest.raises(ValueError, match="Failed to load delegate from libfoo.so"):
        etpu.load_delegate("libfoo.so")
    with pytest.raises(ValueError, match="experimental_delegates"):
        etpu.Interpreter(model_path=MNV1, experimental_delegates=["libedgetpu.so.1"])
    # Google's compiled model: refused with etpu run's message, delegate or not.
    with pytest.raises(ValueError, match="compiled by Google's edgetpu_compiler"):
        etpu.Interpreter(model_path=coral("mobilenet_v1_0.25_128_quant_edgetpu.tflite"), experimental_delegates=[d])


def test_resize_and_signatures(interp):
    interp.resize_tensor_input(0, [1, 128, 128, 3])
    with pytest.raises(ValueError, match=r"cannot resize.*\[1, 128, 128, 3\]; asked for \[1, 64, 64, 3\]"):
        interp.resize_tensor_input(0, [1, 64, 64, 3])
    with pytest.raises(ValueError, match="not a graph input"):
        interp.resize_tensor_input(5, [1])
    assert interp.get_signature_list() == {}  # MobileNet v1 records none
    with pytest.raises(ValueError, match="has 0 Signatures"):
        interp.get_signature_runner()


def test_signature_runner():
    """A model with a SignatureDef (TensorFlow's "serving_default"): the
    runner takes inputs by name and gives the outputs invoke() gives."""
    path = os.path.join(os.path.dirname(coral()), "tflite-micro", "hello_world_int8.tflite")
    if not os.path.isfile(path):
        pytest.skip("no tflite-micro/hello_world_int8.tflite in the shared data")
    assert etpu.Model(path).signatures == {"serving_default": {"subgraph": 0, "inputs": {"dense_input": 0},
                                                               "outputs": {"dense_2": 9}}}
    i = etpu.Interpreter(model_path=path)
    assert i.get_signature_list() == {"serving_default": {"inputs": ["dense_input"], "outputs": ["dense_2"]}}
    runner = i.get_signature_runner()
    assert runner.get_input_details()["dense_input"]["index"] == 0
    assert runner.get_output_details()["dense_2"]["index"] == 9
    x = np.array([[17]], np.int8)
    out = runner(dense_input=x)
    assert list(out) == ["dense_2"] and out["dense_2"].dtype == np.int8
    i2 = etpu.Interpreter(model_path=path)
    i2.allocate_tensors()
    i2.set_tensor(0, x)
    i2.invoke()
    np.testing.assert_array_equal(out["dense_2"], i2.get_tensor(9))
    with pytest.raises(ValueError, match="Invalid number of inputs"):
        runner()
    with pytest.raises(ValueError, match="no input 'x'"):
        runner(x=x)
    with pytest.raises(ValueError, match="not found"):
        i.get_signature_runner("other")
    with pytest.raises(ValueError):
        runner(dense_input=np.array([[1.5]], np.float32))


def test_concurrent_invoke_is_refused_not_racy(interp):
    errors = []

    def run():
        for _ in range(20):
            try:
                interp.invoke()
            except RuntimeError as e:
                assert "another thread" in str(e)
                errors.append(e)

    ts = [threading.Thread(target=run) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    interp.invoke()


def test_invoke_releases_the_gil():
    """With a 10 s switch interval a thread that kept the GIL through
    invoke() would starve the main thread until its loop ends; invoke()
    releases it, so the main thread runs while the other thread invokes."""
    import sys
    i = etpu.Interpreter(model_path=coral("mobilenet_v2_1.0_224_quant.tflite"), num_threads=1)
    i.allocate_tensors()
    started, done = threading.Event(), threading.Event()

    def run():
        started.set()
        for _ in range(10):
            i.invoke()
        done.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(10.0)
    try:
        t = threading.Thread(target=run)
        t.start()
        started.wait()
        ran_meanwhile = 0
        while not done.wait(0.001):
            ran_meanwhile += 1
        t.join()
    finally:
        sys.setswitchinterval(old)
    assert ran_meanwhile > 0


def test_model_inspection():
    m = etpu.Model(MNV1)
    assert m.version == 3 and m.subgraphs == 1 and len(m.ops) == 31 and len(m.tensors) == 89
    assert m.ops[0]["type"] == "CONV_2D" and m.ops[0]["outputs"] == [31]
    assert m.ops[-1]["type"] == "SOFTMAX" and m.outputs == [88] and m.inputs == [0]
    assert m.tensors[0]["dtype"] is np.uint8 and m.tensors[0]["shape"].tolist() == [1, 128, 128, 3]
    assert m.normalization(0) == ([127.5], [127.5])  # its tflite-support metadata
    assert m.ops[0]["options_name"] == "Conv2DOptions"
    assert m.ops[0]["options"]["padding"] == "SAME" and m.ops[0]["options"]["stride_w"] == 2
    assert m.ops[0]["options"]["fused_activation_function"] == "RELU6" and m.ops[-1]["options"] == {"beta": 1}
    assert m.signatures == {}
    deeplab = etpu.Model(open(coral("deeplabv3_mnv2_pascal_quant.tflite"), "rb").read())
    assert len(deeplab.ops) > 50
    with pytest.raises(ValueError):
        etpu.Model(b"\0" * 64)


def test_metadata_normalization_and_float_input(tmp_path):
    """A float model whose metadata records normalization: image_to_input
    uses it as `etpu run` does (byte-identical input)."""
    import glob
    floats = [p for p in sorted(glob.glob(os.path.join(os.path.dirname(coral()), "float", "**", "*.tflite"),
                                          recursive=True))
              if etpu.Model(p).normalization(0) is not None]
    if not floats:
        pytest.skip("no float model with normalization metadata in the shared data")
    p = floats[0]
    m = etpu.Model(p)
    mean, std = m.normalization(0)
    assert len(mean) >= 1 and all(s > 0 for s in std)
    i = etpu.Interpreter(model_path=p)
    i.allocate_tensors()
    x = i.image_to_input(coral("cat.bmp"))
    assert x.dtype == np.float32
    x_raw = i.image_to_input(coral("cat.bmp"), mean=0.0, std=1.0)
    np.testing.assert_array_equal(x, ((x_raw - np.float32(mean[0])) / np.float32(std[0])).astype(np.float32))


def test_images(tmp_path):
    img = etpu.read_image(coral("cat.bmp"))
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    i = etpu.Interpreter(model_path=MNV1)
    i.allocate_tensors()
    a = i.image_to_input(coral("cat.bmp"))
    b = i.image_to_input(img)  # the decoded array gives the same input
    assert np.array_equal(a, b) and a.shape == (1, 128, 128, 3)
    assert np.array_equal(etpu.image_to_input(i, img[:, :, 0]), i.image_to_input(img[:, :, 0]))
    n = i.image_to_input(coral("cat.bmp"), resize="nearest")
    assert n.shape == a.shape and not np.array_equal(n, a)
    with pytest.raises(ValueError, match="uint8 HxW or HxWxC"):
        i.image_to_input(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError, match="resize"):
        i.image_to_input(img, resize="cubic")
    with pytest.raises(ValueError, match="input 1 does not exist"):
        i.image_to_input(img, 1)
    # The input etpu run builds from the same file, byte for byte.
    out = tmp_path / "o"
    r = etpu_run_json(MNV1, [coral("cat.bmp")], "--output-dir", str(out))
    assert r["inputs"][0]["kind"] == "image"
    i.set_tensor(0, a)
    i.invoke()
    assert np.array_equal(i.get_tensor(88), np.load(out / "output_0.npy"))


def test_reset_all_variables():
    i = etpu.Interpreter(model_path=coral("keras_lstm_mnist_ptq.tflite"))
    with pytest.raises(RuntimeError, match="before allocate_tensors"):
        i.reset_all_variables()
    i.allocate_tensors()
    d = i.get_input_details()[0]
    i.set_tensor(d["index"], i.image_to_input(coral("mnist_nine.bmp")))
    out = i.get_output_details()[0]["index"]
    i.invoke()
    first = i.get_tensor(out)
    i.reset_all_variables()
    i.invoke()
    assert np.array_equal(i.get_tensor(out), first)
    assert first[0].argmax() == 9
    v = i.tensor(out)()
    with pytest.raises(RuntimeError, match="reference to internal data"):
        i.reset_all_variables()
    del v


def test_constant_views_are_read_only(interp):
    weights = interp.get_tensor_details()[30]  # op 0's filter (CONV_2D inputs 0, 30, 29)
    w = interp.tensor(weights["index"])()
    assert w.shape == tuple(weights["shape"]) and not w.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        w[...] = 0
    assert np.array_equal(w, interp.get_tensor(weights["index"]))
    out = interp.tensor(interp.get_output_details()[0]["index"])()
    assert out.flags.writeable and out.flags.aligned
