"""test_visualize.py — etpu.visualize_html from Python: the same page as the
etpu visualize command for the same model and flags (path or bytes), the
compile flags reaching the compiler (-a, -i) and bad flags or models raising
ValueError with etpu's message."""
import os
import tempfile

import pytest

import etpu
from conftest import coral, run_cli

DEEPLAB = coral("deeplabv3_mnv2_pascal_quant.tflite")


def cli_page(model, *flags):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "page.html")
        r = run_cli(["visualize", model, "-o", out] + list(flags))
        assert r.returncode == 0, r.stderr
        with open(out, encoding="utf-8") as f:
            return f.read()


def test_same_page_as_the_command():
    html = etpu.visualize_html(DEEPLAB)
    assert html == cli_page(DEEPLAB)
    assert html.count('data-where="cpu"') == 8
    with open(DEEPLAB, "rb") as f:
        data = f.read()
    # From bytes only the title differs (the label of a buffer).
    assert etpu.visualize_html(data).count('data-where="cpu"') == 8


def test_flags_reach_the_compiler():
    m = etpu.Model(DEEPLAB)
    middle = m.tensors[m.ops[40]["outputs"][0]]["name"]
    html = etpu.visualize_html(DEEPLAB, intermediate_tensors=[middle])
    assert html == cli_page(DEEPLAB, "-i", middle)
    assert html.count('data-where="cpu"') > 8
    assert etpu.visualize_html(DEEPLAB, min_runtime_version=10, multiple_subgraphs=True) == \
        cli_page(DEEPLAB, "-m", "10", "-a")


def test_errors():
    with pytest.raises(ValueError, match="no tensor is named"):
        etpu.visualize_html(DEEPLAB, intermediate_tensors=["no_such_tensor"])
    with pytest.raises(ValueError, match="runtime"):
        etpu.visualize_html(DEEPLAB, min_runtime_version=9)
    with pytest.raises(ValueError):
        etpu.visualize_html(b"\x1c\x00\x00\x00TFL3" + b"\xff" * 40)
    with pytest.raises(TypeError):
        etpu.visualize_html(DEEPLAB, intermediate_tensors=[1])
