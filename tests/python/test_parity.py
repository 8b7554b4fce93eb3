"""test_parity.py — etpu.Interpreter and `etpu run --output-dir` give
byte-identical outputs on every shared Coral model both can run, with both
arithmetic profiles, on the same inputs (seeded random .npy bytes, so every
input of every model is covered, images or not). A model one side refuses
must be refused by the other too (the same etpu message). Also checks that
the thread count does not change an output byte."""
import glob
import os

import numpy as np
import pytest

import etpu
from conftest import CORAL, run_cli

MODELS = sorted(os.path.relpath(p, CORAL) for p in glob.glob(os.path.join(CORAL, "**", "*.tflite"), recursive=True))


def random_input(rng, d):
    shape = [int(x) for x in d["shape"]]
    t = np.dtype(d["dtype"])
    if t.kind == "f":
        return rng.standard_normal(shape).astype(t)
    if t == np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    info = np.iinfo(t)
    return rng.integers(max(info.min, -(1 << 31)), min(info.max, (1 << 31) - 1), shape, dtype=t, endpoint=True)


@pytest.mark.parametrize("profile", ["litert", "tflite-ref"])
@pytest.mark.parametrize("model", MODELS)
def test_same_bytes_as_etpu_run(model, profile, tmp_path):
    path = os.path.join(CORAL, model)
    try:
        interp = etpu.Interpreter(model_path=path, profile=profile, num_threads=2)
    except ValueError as e:
        # etpu run must refuse it as well, with the same reason.
        r = run_cli(["run", path, "--input", path, "--profile", profile])
        assert r.returncode != 0 and str(e).split(": ", 1)[1][:60] in r.stderr, (str(e), r.stderr)
        pytest.skip("neither runs it: %s" % str(e)[:150])
    interp.allocate_tensors()
    rng = np.random.default_rng(sum(map(ord, model)))  # fixed per model (hash() is salted)
    files = []
    for k, d in enumerate(interp.get_input_details()):
        x = random_input(rng, d)
        interp.set_tensor(d["index"], x)
        f = tmp_path / ("in%d.npy" % k)
        np.save(f, x)
        files.append(str(f))
    interp.invoke()
    out = tmp_path / "out"
    cmd = ["run", path, "--profile", profile, "--output-dir", str(out)]
    for f in files:
        cmd += ["--input", f]
    r = run_cli(cmd)
    assert r.returncode == 0, r.stderr
    for k, d in enumerate(interp.get_output_details()):
        want = np.load(out / ("output_%d.npy" % k))
        got = interp.get_tensor(d["index"])
        assert got.dtype == want.dtype and got.shape == want.shape, (k, got.dtype, got.shape, want.dtype, want.shape)
        assert got.tobytes() == want.tobytes(), "%s output %d: %d of %d bytes differ" % (
            model, k, int(np.count_nonzero(got.view(np.uint8) != want.view(np.uint8))), got.nbytes)
    # One thread gives the same bytes.
    one = etpu.Interpreter(model_path=path, profile=profile, num_threads=1)
    one.allocate_tensors()
    for d in interp.get_input_details():
        one.set_tensor(d["index"], interp.get_tensor(d["index"]))
    one.invoke()
    for d in interp.get_output_details():
        assert one.get_tensor(d["index"]).tobytes() == interp.get_tensor(d["index"]).tobytes()
