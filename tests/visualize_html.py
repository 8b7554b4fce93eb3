#!/usr/bin/env python3
"""visualize_html.py — etpu visualize: the page itself and the command.

For the demo model, its etpu-compiled form, a model with no graph input
ops and (with the shared data) the models of the browser test: the page is
well formed, needs no network and holds only the tags and attributes it
should (html_check.py); every op of the model is a node, coloured as etpu
compile places it (compile --json), the ops of an etpu payload expanded
into as many nodes as its header says, Google's custom op one opaque node;
a float model (refused by the compiler) says so and shows every op as not
compiled; -i moves the ops behind the tensor it names to the CPU, as in
etpu compile -i; two runs give the same bytes; the model file is not modified.
The command: default output NAME.html in the current folder, -o and
--output=, --json, -h, and the exit-code table (bad -m, unknown -i tensor,
extra model: 2; malformed model: 1; missing model or unwritable output: 3,
with nothing written).

visualize_browser.py imports MODELS, prepare() and expected() from here.
Prints each check, then "N passed, N failed"; exits 1 if any failed.
Python 3 standard library only.
"""

import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

import html_check
from cli_util import Tally

# The models of the browser test (issue 15, must-show 1), under the shared data.
# "compile": the model is compiled by etpu compile first and the result drawn.
MODELS = [
    ("classifier", "coral/mobilenet_v1_0.25_128_quant.tflite", False),
    ("deeplab", "coral/deeplabv3_mnv2_pascal_quant.tflite", False),
    ("posenet", "coral/posenet/posenet_mobilenet_v1_075_353_481_16_quant_decoder.tflite", False),
    ("etpu_compiled", "coral/deeplabv3_mnv2_pascal_quant.tflite", True),
    ("google_compiled", "coral/deeplabv3_mnv2_pascal_quant_edgetpu.tflite", False),
    ("largest", "float/selfie_segmentation.tflite", False),
    ("traffic", "coral/traffic_model.tflite", False),
]


def run(cmd, cwd=None):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, timeout=600)


def prepare(etpu, shared, name, rel, compile_first, tmp):
    """The model file to draw (compiled into tmp first when asked)."""
    src = os.path.join(shared, rel)
    if not compile_first:
        return src
    out = os.path.join(tmp, "compiled_" + name)
    os.makedirs(out, exist_ok=True)
    r = run([etpu, "compile", "-o", out, src])
    if r.returncode != 0:
        raise RuntimeError("etpu compile %s: %s" % (src, r.stderr.decode("utf-8", "replace")))
    base = os.path.basename(rel)[:-len(".tflite")]
    return os.path.join(out, base + "_edgetpu.tflite")


def payload_op_counts(path):
    """Op count of each etpu payload in the file (compile.h: magic, then the
    op count at byte 40 of the 48-byte header)."""
    with open(path, "rb") as f:
        data = f.read()
    counts, at = [], data.find(b"ETPUSIM1")
    while at >= 0:
        counts.append(struct.unpack_from("<I", data, at + 40)[0])
        at = data.find(b"ETPUSIM1", at + 8)
    return counts


def expected(etpu, model, tmp, flags=()):
    """What the page must draw (made with the compile flags given): ({"op:I":
    where}, inner node count, a tensor name to search, info)."""
    r = run([etpu, "inspect", "--json", model])
    if r.returncode != 0:
        raise RuntimeError("etpu inspect %s: %s" % (model, r.stderr.decode("utf-8", "replace")))
    doc = json.loads(r.stdout)
    ops = doc["subgraphs"][0]["ops"]
    tensors = doc["subgraphs"][0]["tensors"]
    compiled = doc["edgetpu"]["compiled"]
    want, inner = {}, 0
    placement = {}
    if not compiled:
        out = os.path.join(tmp, "expect_compile")
        os.makedirs(out, exist_ok=True)
        c = run([etpu, "compile", "--json", "-o", out] + list(flags) + [model])
        if c.returncode == 0:
            for o in json.loads(c.stdout)["models"][0]["ops"]:
                placement[o["index"]] = "tpu" if o["placement"] == "edgetpu" else "cpu"
    ours = compiled and doc["edgetpu"].get("payload_format") == "etpu-simulation"
    for op in ops:
        i = op["index"]
        if op.get("custom_code") == "edgetpu-custom-op":
            if ours:
                continue  # expanded into its payload's ops
            want["op:%d" % i] = "tpu"
        elif compiled:
            want["op:%d" % i] = "cpu"
        else:
            want["op:%d" % i] = placement.get(i, "none")
    if ours:
        inner = sum(payload_op_counts(model))
    # A named tensor to search for: the first output of the op in the middle.
    mid = ops[len(ops) // 2]
    name = tensors[mid["outputs"][0]]["name"] if mid["outputs"] else ""
    info = {"ops": len(ops), "compiled": compiled, "ours": ours, "placement": placement}
    return want, inner, name, info


def compare_nodes(nodes, want, inner):
    """Problems with the drawn nodes against what inspect and compile say."""
    problems, seen, inner_seen = [], {}, 0
    for a in nodes:
        if a.get("data-op") is not None:
            seen["op:" + a["data-op"]] = a.get("data-where")
        elif a.get("data-inner") is not None:
            inner_seen += 1
            if a.get("data-where") != "tpu":
                problems.append("payload op %s is not marked Edge TPU" % a["data-inner"])
    for k, w in sorted(want.items()):
        if k not in seen:
            problems.append("%s is not drawn" % k)
        elif seen[k] != w:
            problems.append("%s is marked %s, want %s" % (k, seen[k], w))
    for k in sorted(set(seen) - set(want)):
        problems.append("%s is drawn but is not an op of the model's top level" % k)
    if inner_seen != inner:
        problems.append("%d payload ops drawn, the payloads hold %d" % (inner_seen, inner))
    return problems


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etpu", required=True)
    ap.add_argument("--shared", help="the shared data folder")
    args = ap.parse_args()
    etpu = os.path.abspath(args.etpu)
    T = Tally()
    result = T.result

    with tempfile.TemporaryDirectory() as tmp:
        demo = os.path.join(tmp, "demo.tflite")
        if run([etpu, "demo", demo]).returncode != 0:
            print("setup failed: etpu demo")
            return 1
        cdir = os.path.join(tmp, "c")
        os.mkdir(cdir)
        run([etpu, "compile", "-o", cdir, demo])
        cdemo = os.path.join(cdir, "demo_edgetpu.tflite")

        def page_checks(label, model, want_refused=False, flags=()):
            before = sha(model)
            out = os.path.join(tmp, label + ".html")
            r = run([etpu, "visualize", model, "-o", out] + list(flags))
            if r.returncode != 0:
                result("visualize %s" % label, ["exit %d: %s" % (r.returncode, r.stderr.decode("utf-8", "replace"))])
                return
            with open(out, "rb") as f:
                data = f.read()
            result("%s: well formed, no network, only the page's own tags" % label, html_check.problems(data))
            want, inner, _, _ = expected(etpu, model, tmp, flags)
            result("%s: every op drawn where etpu compile puts it" % label,
                   compare_nodes(html_check.nodes(data), want, inner))
            refused = b'id="refused"' in data
            result("%s: %s" % (label, "the compiler's refusal is shown" if want_refused else "no refusal banner"),
                   [] if refused == want_refused else ["refusal banner %s" % ("missing" if want_refused else "shown")])
            r2 = run([etpu, "visualize", model, "--output=" + out + ".2"] + list(flags))
            same = r2.returncode == 0 and open(out + ".2", "rb").read() == data
            result("%s: two runs give the same bytes" % label, [] if same else ["the pages differ"])
            result("%s: the model is not modified" % label, [] if sha(model) == before else ["model changed"])

        page_checks("demo", demo)
        page_checks("compiled demo", cdemo)
        flt = os.path.join(args.shared or "", "float", "selfie_segmentation.tflite")

        # The command line.
        r = run([etpu, "visualize", "-h"])
        result("-h prints the usage, exit 0", [] if r.returncode == 0 and b"usage: etpu visualize" in r.stdout
               else ["exit %d" % r.returncode])
        r = run([etpu, "visualize", demo], cwd=tmp)
        ok = r.returncode == 0 and os.path.exists(os.path.join(tmp, "demo.html")) and b"demo.html" in r.stdout
        result("default output: NAME.html in the current folder, and it says so", [] if ok else [r.stdout, r.stderr])
        r = run([etpu, "visualize", demo, "-o", os.path.join(tmp, "j.html"), "--json"])
        try:
            doc = json.loads(r.stdout)
            bad = [] if doc["bytes"] == os.path.getsize(os.path.join(tmp, "j.html")) else ["bytes differ"]
        except (ValueError, KeyError, OSError) as e:
            bad = ["--json: %s" % e]
        result("--json names the output and its size", bad)
        r = run([etpu, "visualize", demo, "-o", os.path.join(tmp, "m10.html"), "-m=10", "-a"])
        result("-m=10 -a accepted", [] if r.returncode == 0 else [r.stderr])
        for label, cmd, rc in (
                ("-m 9 is a usage error", [etpu, "visualize", demo, "-m", "9"], 2),
                ("-m without a value", [etpu, "visualize", demo, "-m"], 2),
                ("unknown option", [etpu, "visualize", demo, "--bogus"], 2),
                ("two models", [etpu, "visualize", demo, demo], 2),
                ("no model", [etpu, "visualize"], 2),
                ("-i naming no tensor", [etpu, "visualize", demo, "-i", "no_such_tensor", "-o",
                                         os.path.join(tmp, "i.html")], 2),
                ("missing model", [etpu, "visualize", os.path.join(tmp, "none.tflite"), "-o",
                                   os.path.join(tmp, "x.html")], 3),
                ("unwritable output", [etpu, "visualize", demo, "-o", os.path.join(tmp, "no", "dir", "x.html")], 3)):
            r = run(cmd)
            problems = [] if r.returncode == rc else ["exit %d, want %d: %r" % (r.returncode, rc, r.stderr)]
            if rc and not r.stderr.startswith(b"etpu: error:"):
                problems.append("no 'etpu: error:' line: %r" % r.stderr)
            result("%s: exit %d" % (label, rc), problems)
        junk = os.path.join(tmp, "junk.tflite")
        with open(junk, "wb") as f:
            f.write(b"\x1c\x00\x00\x00TFL3" + b"\xff" * 40)
        r = run([etpu, "visualize", junk, "-o", os.path.join(tmp, "junk.html")])
        result("malformed model: exit 1, nothing written",
               [] if r.returncode == 1 and not os.path.exists(os.path.join(tmp, "junk.html")) else
               ["exit %d" % r.returncode])

        if args.shared and os.path.isdir(args.shared):
            for name, rel, comp in MODELS:
                model = prepare(etpu, args.shared, name, rel, comp, tmp)
                page_checks(name, model, want_refused=model == flt)
            # -i: the Edge TPU part stops at a tensor in the middle, as etpu compile -i stops it.
            deeplab = os.path.join(args.shared, MODELS[1][1])
            _, _, middle, _ = expected(etpu, deeplab, tmp)
            page_checks("deeplab -i", deeplab, flags=["-i", middle])
        elif os.environ.get("ETPU_REQUIRE_SHARED_DATA") == "1":
            result("the shared data is required (ETPU_REQUIRE_SHARED_DATA=1)", ["%s is missing" % args.shared])
        else:
            print("note: no shared data (--shared): the real models are not checked")
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
