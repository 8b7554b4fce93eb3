#!/usr/bin/env python3
"""oracle_litert.py — etpu's `litert` profile checked live against LiteRT.

For every quantized model under the shared data folder (deduplicated by
content) this feeds identical input bytes to

  * LiteRT.js 2.5.3, XNNPACK in WebAssembly, 1 thread
    (tools/oracle/litert_run.mjs under Node; shared/docs/ORACLES.md §2), and
  * etpu's interpreter with ETPU_PROFILE_LITERT (`etpu run --profile litert`
    when the CLI has it, otherwise tests/oracle_driver.c, which uses the
    public API),

and compares every model output byte for byte.

Inputs per model (--inputs, default 20, at least): the golden input files
of shared/data/goldens whose dtype and size fit (one-input models), edge
fills (the type's minimum, its maximum, the zero point), then seeded random
bytes up to the count, at least --min-random of them (the seed is printed; a
model's stream is seeded with seed + crc32(model name), so one model can be
rerun alone with --models). For a model etpu runs, when `etpu run` can
decode images (--dump-tensors), --images shared images (default 4) are also
decoded and resized by etpu, and the input tensor it made goes to LiteRT
(image inputs up to 300 kB: not deeplab's 513x513, whose runs are slow).

Outcome per model:
  * the case list (CASES below: models added with the ops they need, float
    ones included where every op is IEEE-exact or left by XNNPACK to
    TFLite's builtin kernels): must be compared and equal, else a failure;
  * other pure float models: not compared (the litert profile promises bit
    equality for quantized arithmetic; TFLITE.md §9.2). Selfie segmentation
    is one: XNNPACK's float convolutions sum in another order (its mask
    probabilities differ from etpu's by up to 4.3e-6);
  * LITERT_REFUSES (below): LiteRT must refuse for the reason given, and
    etpu must run the model;
  * LiteRT refuses the model (Edge TPU custom ops, variable tensors,
    dynamic shapes, ...): reported with LiteRT's reason; a failure only for
    the models the litert goldens were made with (the oracle must run them);
  * etpu cannot run it yet (ETPU_UNSUPPORTED): reported, not a failure;
  * etpu runs it: every output of every input must equal LiteRT's, else a
    failure naming the first differing byte.
Also checked: LiteRT, batched, reproduces every stored litert golden output
(made one fresh process per input); for the other models a fresh LiteRT
process must give the batched bytes on run 0.

Without Node, or without `npm ci` in tools/oracle, or without the shared
data, it says so and exits 77 (skipped) — but fails when CI=true (or, for
the shared data, ETPU_REQUIRE_SHARED_DATA=1).
Python standard library only.
"""
import argparse
import hashlib
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed

# ORACLES.md validated LiteRT.js under Node 20; .ci/run installs Debian's
# Node 18 only where no node exists. Any Node must pass the golden check.
NODE_MIN_MAJOR = 18
LITERT_VERSION = "2.5.3"

# The models the litert goldens were made with, by sha256: LiteRT made those
# goldens, so it must run these models and reproduce the stored outputs.
def golden_models(shared):
    out = {}
    d = os.path.join(shared, "goldens", "litert")
    for stem in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        try:
            with open(os.path.join(d, stem, "manifest.json")) as f:
                out[json.load(f)["model"]["sha256"]] = os.path.join(d, stem)
        except (OSError, ValueError, KeyError):
            pass
    return out


DTYPE = {  # name -> (struct code, size)
    "UINT8": ("B", 1), "INT8": ("b", 1), "INT16": ("h", 2), "UINT16": ("H", 2),
    "INT32": ("i", 4), "UINT32": ("I", 4), "INT64": ("q", 8), "FLOAT32": ("f", 4),
    "FLOAT64": ("d", 8), "BOOL": ("?", 1),
}
QUANTIZED = ("UINT8", "INT8", "INT16")
# In order of use (--images N takes the first N). cat and bird are already
# among the golden inputs (resized by ImageMagick there).
# The case list: models that must be compared byte for byte whatever their
# kind (float ones too: their ops are IEEE-exact or XNNPACK leaves them to
# TFLite's builtin kernels), one line per model with the op it was added
# for (issue #16 item 13). Ending as anything but "compared" fails.
CASES = {
    "coral/deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite": "TILE",
    "float/ops/abs.float32.tflite": "ABS",
    "float/ops/abs-sqrt.float32.tflite": "ABS, SQRT",
    "float/ops/abs-add-rsqrt.float32.tflite": "ABS, ADD, RSQRT",
    "float/ops/relu6-power.float32.tflite": "POW (TFLite's builtin std::pow: XNNPACK has no POW)",
    "float/ops/mirror-pad.int32.tflite": "MIRROR_PAD",
    "float/dilated_conv.tflite": "SHAPE, FLOOR_MOD, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND; placeholder shapes resolved",
}
# Models LiteRT.js 2.5.3 refuses, which etpu runs anyway (tests/test_new_ops.c
# checks them against TFLite's kernel source): the reason LiteRT gives must
# contain the text here, so that a LiteRT that starts running one is noticed
# (it would then be compared like any other model).
LITERT_REFUSES = {
    # its LSTM state outputs come back dynamic from LiteRT.js
    "coral/traffic_model.tflite": "cannot return this output",
    # XNNPACK's delegate refuses RESIZE_BILINEAR with differing quantization
    "coral/legacy/deeplabv3_mnv2_pascal_quant.tflite": "failed to delegate RESIZE_BILINEAR",
    "coral/legacy/deeplabv3_mnv2_dm05_pascal_quant.tflite": "failed to delegate RESIZE_BILINEAR",
}

IMAGES = ["grace_hopper.bmp", "parrot.jpg", "squat.bmp", "dog_segmentation.bmp", "sunflower.bmp",
          "dragonfly.bmp", "owl.jpg", "bird_segmentation.bmp"]


def log(msg=""):
    print(msg, flush=True)


def missing(what, ci_var):
    """A prerequisite is absent: skip (77) locally, fail under CI."""
    required = os.environ.get(ci_var, "").lower() in ("1", "true")
    log("oracle_litert: %s; %s" % (what, "FAILING because %s=%s" % (ci_var, os.environ[ci_var])
                                    if required else "skipped"))
    sys.exit(1 if required else 77)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_node(oracle_dir):
    node = shutil.which("node")
    if not node:
        missing("Node.js is not installed (it runs the LiteRT.js oracle; Debian: apt-get install nodejs npm)", "CI")
    try:
        ver = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        missing("node --version failed: %s" % e, "CI")
    m = re.match(r"v(\d+)", ver)
    if not m or int(m.group(1)) < NODE_MIN_MAJOR:
        missing("Node %s is too old: LiteRT.js needs Node >= %d" % (ver or "?", NODE_MIN_MAJOR), "CI")
    pkg = os.path.join(oracle_dir, "node_modules", "@litertjs", "core", "package.json")
    try:
        with open(pkg) as f:
            have = json.load(f).get("version")
    except (OSError, ValueError):
        missing("@litertjs/core is not installed: run `npm ci` in %s" % oracle_dir, "CI")
    if have != LITERT_VERSION:
        missing("@litertjs/core is %s, not %s: run `npm ci` in %s" % (have, LITERT_VERSION, oracle_dir), "CI")
    if int(m.group(1)) < 20:
        log("oracle_litert: note: Node %s; LiteRT.js was validated under Node 20 (the golden check below "
            "guards the oracle either way)" % ver)
    return node, ver


def inspect(etpu, model):
    r = subprocess.run([etpu, "inspect", "--json", model], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("etpu inspect failed (%d): %s" % (r.returncode, r.stderr.strip()[-400:]))
    return json.loads(r.stdout)


def nbytes(t):
    code, size = DTYPE.get(t["type"], (None, 0))
    if code is None or any(d < 0 for d in t["shape"]):
        return None
    n = size
    for d in t["shape"]:
        n *= d
    return n


def find_models(shared):
    """Every .tflite under shared, one path per distinct content (the first in sorted order)."""
    seen, out = {}, []
    for root, dirs, files in os.walk(shared):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".tflite"):
                p = os.path.join(root, f)
                h = sha256(p)
                if h not in seen:
                    seen[h] = p
                    out.append((p, h))
    return sorted(out, key=lambda x: os.path.relpath(x[0], shared))


def golden_inputs(shared):
    """(dtype, nbytes) -> [(label, path)] for every distinct golden input file."""
    out, seen = {}, set()
    g = os.path.join(shared, "goldens")
    for prof in ("litert", "tflite-ref"):
        pd = os.path.join(g, prof)
        if not os.path.isdir(pd):
            continue
        for stem in sorted(os.listdir(pd)):
            try:
                with open(os.path.join(pd, stem, "manifest.json")) as f:
                    man = json.load(f)
            except (OSError, ValueError):
                continue
            tin = man.get("model_input_tensors", [{}])[0]
            for k, name in sorted(tin.get("files", {}).items()):
                p = os.path.join(pd, stem, name)
                if not os.path.exists(p):
                    continue
                h = sha256(p)
                if h in seen:
                    continue
                seen.add(h)
                kind = man["inputs"][int(k)].get("kind", "?") if int(k) < len(man.get("inputs", [])) else "?"
                out.setdefault((tin.get("dtype"), os.path.getsize(p)), []).append(
                    ("golden %s/%s/%s (%s)" % (prof, stem, name, kind), p))
    return out


def quant_of(t):
    q = t.get("quantization") or {}
    zp = q.get("zero_point") or [0]
    return zp[0] if len(zp) == 1 else 0


def fill(t, value_bytes):
    n = nbytes(t)
    return (value_bytes * (n // len(value_bytes)))[:n]


def edge_inputs(t):
    code, size = DTYPE[t["type"]]
    if t["type"] == "FLOAT32":
        vals = [("edge all -1.0", -1.0), ("edge all +1.0", 1.0), ("edge all 0.0", 0.0)]
    elif t["type"] == "BOOL":
        vals = [("edge all false", False), ("edge all true", True)]
    else:
        bits = 8 * size
        lo, hi = (0, (1 << bits) - 1) if code.isupper() else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        vals = [("edge all %d (min)" % lo, lo), ("edge all %d (max)" % hi, hi)]
        zp = quant_of(t)
        if lo <= zp <= hi and zp not in (lo, hi):
            vals.append(("edge all %d (zero point)" % zp, zp))
    return [(label, fill(t, struct.pack("<" + code, v))) for label, v in vals]


def random_input(t, rng):
    code, size = DTYPE[t["type"]]
    n = nbytes(t)
    if t["type"] == "FLOAT32":
        k = n // 4
        return struct.pack("<%df" % k, *[rng.uniform(-1.0, 1.0) for _ in range(k)])
    if t["type"] in ("INT32", "INT64", "UINT32"):
        k = n // size
        return struct.pack("<%d%s" % (k, code), *[rng.randrange(0, 4) for _ in range(k)])
    if t["type"] == "BOOL":
        return bytes(rng.randrange(2) for _ in range(n))
    return rng.randbytes(n) if hasattr(rng, "randbytes") else bytes(rng.getrandbits(8) for _ in range(n))


def read_npy(path):
    """The data bytes of a .npy file (any version), header checked loosely."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:6] != b"\x93NUMPY":
        raise ValueError("%s: not a .npy file" % path)
    if b[6] == 1:
        hl, off = struct.unpack_from("<H", b, 8)[0], 10
    else:
        hl, off = struct.unpack_from("<I", b, 8)[0], 12
    return b[off + hl:]


class Ctx:
    """Settings shared by the model workers (read-only once set)."""


class Result:
    def __init__(self, rel):
        self.rel = rel
        self.kind = None  # compared / not_yet / refused / float / failed
        self.msg = ""
        self.lines = []
        self.inputs = 0
        self.bytes = 0
        self.golden_checked = 0
        self.seconds = 0.0
        self.t_litert = self.t_etpu = 0.0

    def log(self, line):
        self.lines.append(line)

    def fail(self, line):
        self.lines.append("  FAIL %s: %s" % (self.rel, line))
        self.kind = "failed"


def run_litert(ctx, res, model, outroot, files, each=True):
    cmd = [ctx.node, ctx.runner] + (["--each"] if each else []) + [model, outroot] + files
    t0 = time.time()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1500)
    finally:
        res.t_litert += time.time() - t0
    if r.returncode != 0:
        lines = [l for l in r.stderr.splitlines() if l.startswith("litert_run:")] or r.stderr.splitlines()[-3:]
        msg = " ".join(lines).replace("litert_run: ", "").strip()
        base = os.path.basename(model) + ": "
        return r.returncode, (msg[len(base):] if msg.startswith(base) else msg), None
    try:
        return 0, "", json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return 99, "unreadable description from litert_run: %r" % r.stdout[-200:], None


def cli_has_run(etpu):
    """The flags of `etpu run` this test uses, if the CLI has that command."""
    try:
        r = subprocess.run([etpu, "run", "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return set()
    text = r.stdout + r.stderr
    if r.returncode not in (0, 2) or "unknown command" in text:
        return set()
    return {f for f in ("--profile", "--output-dir", "--dump-tensors", "--input", "--top") if f in text}


def classify_etpu(r, via):
    """3 = etpu cannot run the model yet: the driver's exit 3 (ETPU_UNSUPPORTED);
    `etpu run` exits 1 for that and for malformed models, so its message decides."""
    text = (r.stderr or r.stdout).strip()
    first = text.splitlines()[0] if text else "exit %d" % r.returncode
    if r.returncode == 3 or (via == "cli" and r.returncode == 1 and re.search(r"cannot run|unsupported", text, re.I)):
        return 3, re.sub(r"^(unsupported: create: |unsupported: |etpu: error: )", "", first)
    return r.returncode or 1, text[-600:]


def run_etpu(ctx, res, model, outroot, runs, nout):
    """etpu on every run (a list of file lists): (0, "") when it ran them all,
    (3, why) when it cannot run the model yet, (other, message) on an error."""
    t0 = time.time()
    try:
        if ctx.via == "cli":
            for j, files in enumerate(runs):
                d = os.path.join(outroot, str(j))
                os.makedirs(d, exist_ok=True)
                cmd = [ctx.etpu, "run", model, "--profile", "litert", "--top", "0", "--output-dir", d, "--input"] + files
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=1500)
                if r.returncode != 0:
                    return classify_etpu(r, ctx.via)
                for k in range(nout):
                    with open(os.path.join(d, "output_%d.bin" % k), "wb") as f:
                        f.write(read_npy(os.path.join(d, "output_%d.npy" % k)))
            return 0, ""
        cmd = [ctx.driver, "--profile", "litert", model, outroot] + [f for files in runs for f in files]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1500)
        return (0, "") if r.returncode == 0 else classify_etpu(r, ctx.via)
    finally:
        res.t_etpu += time.time() - t0


def first_diff(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b)) if len(a) != len(b) else -1


def element(buf, dtype, i):
    code, size = DTYPE.get(dtype, ("B", 1))
    e = i // size
    if (e + 1) * size > len(buf):
        return e, None
    return e, struct.unpack_from("<" + code, buf, e * size)[0]


def compare(res, runs_meta, lit_root, etpu_root, outs):
    """Every output of every run, byte for byte; the first differing byte of
    each mismatch is reported. Returns the number of mismatching outputs."""
    bad = 0
    for j, (label, _) in enumerate(runs_meta):
        for k, t in enumerate(outs):
            try:
                with open(os.path.join(lit_root, str(j), "output_%d.bin" % k), "rb") as f:
                    a = f.read()
                with open(os.path.join(etpu_root, str(j), "output_%d.bin" % k), "rb") as f:
                    b = f.read()
            except OSError as e:
                res.fail("run %d (%s) output %d: %s" % (j, label, k, e))
                bad += 1
                continue
            res.bytes += len(a)
            i = first_diff(a, b)
            if i < 0:
                continue
            bad += 1
            if bad > 8:
                continue
            ndiff = sum(1 for x, y in zip(a, b) if x != y) + abs(len(a) - len(b))
            e, va = element(a, t["type"], i)
            _, vb = element(b, t["type"], i)
            res.fail("run %d (%s), output %d (tensor %d %s %s): first differing byte %d (element %d): "
                     "etpu %s, LiteRT %s; %d of %d bytes differ%s"
                     % (j, label, k, t["index"], t["type"], t["shape"], i, e, vb, va, ndiff, len(a),
                        "" if len(a) == len(b) else " (sizes: etpu %d, LiteRT %d)" % (len(b), len(a))))
    if bad > 8:
        res.log("  ... %d mismatching outputs in all" % bad)
    return bad


def driver_agrees(ctx, res, model, wd, run0, etpu_root, nout):
    """With `etpu run` doing the comparison, the public API (oracle_driver)
    must give the same bytes on run 0."""
    d = os.path.join(wd, "driver")
    t0 = time.time()
    r = subprocess.run([ctx.driver, "--profile", "litert", model, d] + run0[1], capture_output=True, text=True,
                       timeout=1500)
    res.t_etpu += time.time() - t0
    if r.returncode != 0:
        res.fail("oracle_driver failed where `etpu run` worked: %s" % (r.stderr or r.stdout).strip()[-300:])
        return 1
    for k in range(nout):
        with open(os.path.join(d, "0", "output_%d.bin" % k), "rb") as f1, \
                open(os.path.join(etpu_root, "0", "output_%d.bin" % k), "rb") as f2:
            if f1.read() != f2.read():
                res.fail("output %d on %s: `etpu run` and the public API (oracle_driver) disagree" % (k, run0[0]))
                return 1
    return 0


def image_runs(ctx, res, model, wd, tin, tout):
    """Shared images decoded and resized by `etpu run` (--dump-tensors gives
    the input tensor it made); that tensor goes to LiteRT, and etpu's own
    outputs from the same call are compared with LiteRT's. Returns the
    number of images compared."""
    imgs = [p for p in (os.path.join(ctx.shared, "coral", f) for f in IMAGES) if os.path.exists(p)][:ctx.images]
    ed = os.path.join(wd, "img_etpu")
    files, meta = [], []
    for img in imgs:
        d = os.path.join(ed, str(len(files)))
        dump = os.path.join(wd, "img_dump")
        os.makedirs(d, exist_ok=True)
        os.makedirs(dump, exist_ok=True)
        cmd = [ctx.etpu, "run", model, "--profile", "litert", "--top", "0", "--input", img,
               "--output-dir", d, "--dump-tensors", dump]
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1500)
        res.t_etpu += time.time() - t0
        try:
            if r.returncode != 0:
                raise ValueError((r.stderr or r.stdout).strip()[-300:])
            blob = read_npy(os.path.join(dump, "t%d.npy" % tin["index"]))
            for k in range(len(tout)):
                with open(os.path.join(d, "output_%d.bin" % k), "wb") as f:
                    f.write(read_npy(os.path.join(d, "output_%d.npy" % k)))
        except (OSError, ValueError) as e:
            res.fail("etpu run on %s: %s" % (os.path.basename(img), e))
            return 0
        finally:
            shutil.rmtree(dump, ignore_errors=True)
        p = os.path.join(wd, "in", "img%02d.bin" % len(files))
        with open(p, "wb") as f:
            f.write(blob)
        files.append(p)
        meta.append(("image %s, decoded and resized by etpu" % os.path.basename(img), [p]))
    if not files:
        return 0
    lit = os.path.join(wd, "img_litert")
    rc, msg, _ = run_litert(ctx, res, model, lit, files)
    if rc != 0:
        res.fail("LiteRT on etpu's image tensors: %s" % msg)
        return 0
    compare(res, meta, lit, ed, tout)
    return len(files)


def process(ctx, model, digest):
    """One model, start to end; returns its Result (nothing printed here)."""
    rel = os.path.relpath(model, ctx.shared)
    res = Result(rel)
    t_model = time.time()
    name = rel[:-len(".tflite")]
    try:
        js = inspect(ctx.etpu, model)
    except (RuntimeError, ValueError, subprocess.SubprocessError) as e:
        res.fail(str(e))
        return res
    sg = js["subgraphs"][0]
    T = sg["tensors"]
    tin = [T[i] for i in sg["inputs"]]
    tout = [T[i] for i in sg["outputs"]]
    if rel not in CASES and \
            not any(t["type"] in QUANTIZED and t.get("quantization") and not t.get("constant") for t in T):
        res.kind = "float"
        return res
    if any(t["type"] not in DTYPE or nbytes(t) is None for t in tin):
        res.kind, res.msg = "refused", "not tried: an input this test cannot fill (%s)" % ", ".join(
            "%s%s" % (t["type"], t["shape"]) for t in tin)
        return res
    wd = os.path.join(ctx.work, re.sub(r"[^A-Za-z0-9_.-]", "_", name))
    os.makedirs(os.path.join(wd, "in"))
    runs_meta = []  # run j: (label, [one file per model input])

    def add(label, blobs):
        paths = []
        for i, blob in enumerate(blobs):
            p = os.path.join(wd, "in", "r%03d_i%d.bin" % (len(runs_meta), i))
            with open(p, "wb") as f:
                f.write(blob)
            paths.append(p)
        runs_meta.append((label, paths))

    # Golden inputs that fit; this model's own golden inputs are remembered
    # (run j -> k) so LiteRT's outputs can be checked against the stored ones.
    golden_runs = {}
    own = ctx.required.get(digest)
    if len(tin) == 1:
        for label, p in ctx.gin.get((tin[0]["type"], nbytes(tin[0])), []):
            with open(p, "rb") as f:
                add(label, [f.read()])
        for k in range(3) if own else []:
            p = os.path.join(own, "input_%d.bin" % k)
            if not os.path.exists(p):
                continue
            with open(p, "rb") as f:
                blob = f.read()
            for j, (_, ps) in enumerate(runs_meta):
                with open(ps[0], "rb") as f:
                    if f.read() == blob:
                        golden_runs[j] = k
                        break
            else:
                golden_runs[len(runs_meta)] = k
                add("golden %s/input_%d.bin" % (os.path.relpath(own, ctx.shared), k), [blob])
    edges = [edge_inputs(t) for t in tin]
    for e in range(max(len(x) for x in edges)):
        picks = [x[min(e, len(x) - 1)] for x in edges]
        add(" + ".join(p[0] for p in picks), [p[1] for p in picks])
    rng = random.Random(ctx.seed + zlib.crc32(name.encode()))
    for r in range(max(ctx.min_random, ctx.min_inputs - len(runs_meta))):
        add("random #%d" % r, [random_input(t, rng) for t in tin])

    try:
        # LiteRT: every run in one process.
        lit_root = os.path.join(wd, "litert")
        rc, msg, desc = run_litert(ctx, res, model, lit_root, [p for _, ps in runs_meta for p in ps])
        if rc != 0:
            if own:
                res.fail("LiteRT refused a model the litert goldens were made with: %s" % msg)
            elif rel in CASES:
                res.fail("LiteRT refused a model of the case list (%s): %s" % (CASES[rel], msg))
            elif rel in LITERT_REFUSES:
                if LITERT_REFUSES[rel] not in msg:
                    res.fail("LiteRT refused it for another reason than '%s': %s" % (LITERT_REFUSES[rel], msg))
                # etpu must run it (its arithmetic is checked by tests/test_new_ops.c).
                st, emsg = run_etpu(ctx, res, model, os.path.join(wd, "etpu"), [runs_meta[0][1]], len(tout))
                if st != 0:
                    res.fail("etpu does not run a model LiteRT refuses and etpu should run: %s" % emsg)
                res.kind = res.kind or "refused"
                res.msg = "%s (etpu runs it: tests/test_new_ops.c)" % msg
            else:
                res.kind, res.msg = "refused", msg
            return res
        lo = [(o["type"], o["shape"]) for o in desc["outputs"]]
        eo = [(t["type"], t["shape"]) for t in tout]
        if lo != eo:
            res.fail("LiteRT's outputs %s are not the model's outputs %s (signature order?)" % (lo, eo))
        # A fresh LiteRT process on run 0 must give the batched bytes. (The
        # goldens were made one fresh process per input, so for the models
        # they were made with, the golden check below covers this.)
        fresh = os.path.join(wd, "litert_fresh")
        if not own:
            rc, msg, _ = run_litert(ctx, res, model, fresh, runs_meta[0][1], each=False)
            if rc != 0:
                res.fail("a fresh LiteRT process failed on run 0: %s" % msg)
            for k in range(len(tout)) if rc == 0 else []:
                with open(os.path.join(fresh, "output_%d.bin" % k), "rb") as f1, \
                        open(os.path.join(lit_root, "0", "output_%d.bin" % k), "rb") as f2:
                    if f1.read() != f2.read():
                        res.fail("output %d of run 0: a fresh LiteRT process and the batched one differ" % k)
        # LiteRT must reproduce the stored goldens of this model.
        if own:
            if len(golden_runs) != 3:
                res.fail("found %d of the 3 golden inputs in %s" % (len(golden_runs), own))
            for j, k in sorted(golden_runs.items()):
                for o, t in enumerate(tout):
                    gp = os.path.join(own, "t%d_%d.bin" % (t["index"], k))
                    if not os.path.exists(gp):
                        continue
                    res.golden_checked += 1
                    with open(gp, "rb") as f1, open(os.path.join(lit_root, str(j), "output_%d.bin" % o), "rb") as f2:
                        if f1.read() != f2.read():
                            res.fail("LiteRT output %d on input_%d.bin differs from the stored golden %s" % (o, k, gp))

        # etpu.
        etpu_root = os.path.join(wd, "etpu")
        os.makedirs(etpu_root, exist_ok=True)
        st, emsg = run_etpu(ctx, res, model, etpu_root, [ps for _, ps in runs_meta], len(tout))
        if st == 3 and rel in CASES:
            res.fail("etpu cannot run a model of the case list (%s): %s" % (CASES[rel], emsg))
            return res
        if st == 3:
            res.kind = res.kind or "not_yet"
            res.msg = emsg
            res.inputs = len(runs_meta)
            return res
        if st != 0:
            res.fail("etpu failed on a model LiteRT runs: %s" % emsg)
            return res
        compare(res, runs_meta, lit_root, etpu_root, tout)
        res.inputs = len(runs_meta)
        if ctx.via == "cli":
            driver_agrees(ctx, res, model, wd, runs_meta[0], etpu_root, len(tout))
        shp = tin[0]["shape"]
        # Images only up to 300 kB inputs: deeplab's 513x513 runs take seconds each.
        if ctx.images and len(tin) == 1 and len(shp) == 4 and shp[3] in (1, 3) and min(shp[1], shp[2]) >= 16 \
                and nbytes(tin[0]) <= 300000:
            res.inputs += image_runs(ctx, res, model, wd, tin[0], tout)
        res.kind = res.kind or "compared"
        return res
    finally:
        res.seconds = time.time() - t_model
        if res.kind == "failed":
            res.log("  (files kept in %s)" % wd)
        elif not ctx.keep:
            shutil.rmtree(wd, ignore_errors=True)


def report_line(res):
    t = "%.0f s (LiteRT %.0f s, etpu %.0f s)" % (res.seconds, res.t_litert, res.t_etpu)
    if res.kind == "compared":
        return "ok %s: %d inputs: etpu == LiteRT byte for byte; %s" % (res.rel, res.inputs, t)
    if res.kind == "not_yet":
        return "-- %s: LiteRT runs it (%d inputs); not runnable by etpu yet: %s; %s" % (res.rel, res.inputs, res.msg, t)
    if res.kind == "refused":
        return "-- %s: LiteRT refuses it: %s" % (res.rel, res.msg)
    if res.kind == "failed":
        return "FAIL %s; %s" % (res.rel, t)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--driver", required=True, help="tests/oracle_driver binary")
    ap.add_argument("--etpu", required=True, help="the etpu CLI")
    ap.add_argument("--oracle", required=True, help="tools/oracle (litert_run.mjs, node_modules)")
    ap.add_argument("--shared", required=True, help="the shared data folder")
    ap.add_argument("--work", required=True, help="scratch folder (a failing model's files are kept)")
    ap.add_argument("--inputs", type=int, default=int(os.environ.get("ETPU_ORACLE_INPUTS", "20")),
                    help="raw inputs per model at least (golden + edge + random; default 20)")
    ap.add_argument("--min-random", type=int, default=4, help="random inputs per model at least (default 4)")
    ap.add_argument("--images", type=int, default=4,
                    help="shared images decoded by `etpu run` per model etpu runs (default 4; 0: none)")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("ETPU_ORACLE_SEED", "20260505")))
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("ETPU_ORACLE_JOBS", "2")),
                    help="models checked at once (default 2)")
    ap.add_argument("--models", nargs="*", help="only models whose path contains one of these")
    ap.add_argument("--via", choices=("auto", "cli", "driver"), default=os.environ.get("ETPU_ORACLE_VIA", "auto"),
                    help="how etpu runs the raw inputs: `etpu run` (cli), oracle_driver, or cli when it exists")
    ap.add_argument("--keep", action="store_true", help="keep every model's scratch files")
    a = ap.parse_args()

    t_start = time.time()
    if not os.path.isdir(a.shared):
        missing("shared data folder %s is missing" % a.shared, "ETPU_REQUIRE_SHARED_DATA")
    ctx = Ctx()
    ctx.node, node_ver = check_node(a.oracle)
    ctx.runner = os.path.join(a.oracle, "litert_run.mjs")
    ctx.etpu, ctx.driver, ctx.shared, ctx.work, ctx.keep = a.etpu, a.driver, a.shared, a.work, a.keep
    ctx.seed, ctx.min_inputs, ctx.min_random = a.seed, a.inputs, a.min_random
    flags = cli_has_run(a.etpu)
    has_cli = {"--profile", "--output-dir", "--input"} <= flags
    ctx.via = a.via if a.via != "auto" else ("cli" if has_cli else "driver")
    if ctx.via == "cli" and not has_cli:
        log("oracle_litert: `etpu run` with --profile/--output-dir/--input is not there; use --via driver")
        return 1
    ctx.images = a.images if has_cli and "--dump-tensors" in flags else 0
    ctx.required = golden_models(a.shared)
    ctx.gin = golden_inputs(a.shared)

    log("oracle_litert: LiteRT.js %s (wasm compat build, XNNPACK, 1 thread) under Node %s" % (LITERT_VERSION, node_ver))
    log("oracle_litert: etpu via %s; per model >= %d raw inputs (golden, edge, >= %d random: seed %d, a model's "
        "stream seeded with seed + crc32(name)); images decoded by etpu: %s; %d models at once"
        % ("`etpu run --profile litert`" if ctx.via == "cli" else "tests/oracle_driver (public API, ETPU_PROFILE_LITERT)",
           a.inputs, a.min_random, a.seed,
           ctx.images if ctx.images else "none (`etpu run --dump-tensors` absent)" if not flags else "none",
           a.jobs))

    models = [(m, h) for m, h in find_models(a.shared)
              if not a.models or any(s in os.path.relpath(m, a.shared) for s in a.models)]
    # Largest first, so the long ones do not finish last.
    models.sort(key=lambda mh: -os.path.getsize(mh[0]))
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work, exist_ok=True)

    results = []
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        futures = [pool.submit(process, ctx, m, h) for m, h in models]
        for fut in as_completed(futures):
            res = fut.result()
            results.append(res)
            line = report_line(res)
            if line:
                log(line)
            for l in res.lines:
                log(l)
    results.sort(key=lambda r: r.rel)

    by = {k: [r for r in results if r.kind == k] for k in ("compared", "not_yet", "refused", "float", "failed")}
    t_lit = sum(r.t_litert for r in results)
    t_etpu = sum(r.t_etpu for r in results)
    golden_checked = sum(r.golden_checked for r in results)
    log("")
    log("== summary ==")
    log("etpu == LiteRT byte for byte: %d models, %d inputs, %d output bytes"
        % (len(by["compared"]), sum(r.inputs for r in by["compared"]), sum(r.bytes for r in by["compared"])))
    for r in by["compared"]:
        log("  %s (%d inputs)" % (r.rel, r.inputs))
    log("LiteRT runs, not runnable by etpu yet: %d models" % len(by["not_yet"]))
    for r in by["not_yet"]:
        log("  %s: %s" % (r.rel, r.msg[:200]))
    log("LiteRT refuses: %d models" % len(by["refused"]))
    for r in by["refused"]:
        log("  %s: %s" % (r.rel, r.msg[:200]))
    log("float models, not compared: %d" % len(by["float"]))
    log("stored litert golden outputs reproduced by LiteRT: %d" % golden_checked)
    log("time: %.0f s wall (LiteRT %.0f s, etpu %.0f s, summed over models)" % (time.time() - t_start, t_lit, t_etpu))
    if by["failed"]:
        log("FAILED: %d models: %s" % (len(by["failed"]), ", ".join(r.rel for r in by["failed"])))
        return 1
    if golden_checked == 0 and not a.models:
        log("FAILED: no stored litert golden was checked (goldens missing?)")
        return 1
    log("%d passed, 0 failed" % (len(by["compared"]) + len(by["not_yet"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
