#!/usr/bin/env python3
"""run_cli.py — `etpu run` from the outside: outputs, files and errors.

The models are tiny ones that etpu's interpreter can run today (RESHAPE,
QUANTIZE, DEQUANTIZE), written by `test_io --write-models DIR`:

  image.tflite  uint8 [1,8,8,3] (scale 1/128, zero point 128) -> [1,192]
  gray.tflite   uint8 [1,4,4,1] (scale 1/255, zero point 0)   -> [1,16]
  float.tflite  float [1,3] -> QUANTIZE int8 (0.1, 0) -> DEQUANTIZE -> float [1,3]
  two.tflite    two float [1,3] inputs -> QUANTIZE -> two uint8 outputs

PoseNet's decoder (coral/posenet) shapes its outputs itself: text, --json
and --output-dir .npy files must report [1,20,17,2], [1,20,17], [1,20], [1].

A reshape's output is its input, so the scores `etpu run` prints are the
image after resizing and conversion: they are checked against a resize
computed here, independently, from the BMP bytes (half-pixel bilinear in
doubles, and nearest). Errors must be one line on stderr with the right
exit code (0 ok, 1 bad model or input, 2 usage, 3 I/O).

Prints "N passed, N failed"; exits 1 on any failure, 77 (skipped) without
the shared data unless ETPU_REQUIRE_SHARED_DATA=1. Standard library only.
"""

import argparse
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time
import tempfile

PASSED = 0
FAILED = 0


def check(cond, what):
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL: %s" % what, file=sys.stderr)


def run(etpu, *args):
    p = subprocess.run([etpu, "run"] + [str(a) for a in args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def expect_error(etpu, code, needle, *args):
    rc, out, err = run(etpu, *args)
    lines = [l for l in err.splitlines() if l.strip()]
    check(rc == code, "exit %d, wanted %d: etpu run %s\n  stderr: %s" % (rc, code, " ".join(map(str, args)), err.strip()))
    check(needle in err, "stderr lacks %r: %s" % (needle, err.strip()))
    if code != 2:  # usage errors add the usage text
        check(len(lines) == 1 and lines[0].startswith("etpu: error: "), "not one error line: %r" % err)


# ---- independent image reading and resizing ---------------------------------

def read_bmp24(path):
    d = open(path, "rb").read()
    off = struct.unpack("<I", d[10:14])[0]
    w, h, _, bpp = struct.unpack("<iiHH", d[18:30])
    assert bpp == 24
    row = ((w * 24 + 31) // 32) * 4
    px = []
    for y in range(abs(h)):
        sy = y if h < 0 else abs(h) - 1 - y
        p = off + sy * row
        px.append([(d[p + 3 * x + 2], d[p + 3 * x + 1], d[p + 3 * x]) for x in range(w)])
    return w, abs(h), px


def read_bmp8(path):
    d = open(path, "rb").read()
    off = struct.unpack("<I", d[10:14])[0]
    hs = struct.unpack("<I", d[14:18])[0]
    w, h, _, bpp = struct.unpack("<iiHH", d[18:30])
    assert bpp == 8
    pal = [d[14 + hs + 4 * i + 2] for i in range(256)]
    row = ((w * 8 + 31) // 32) * 4
    return w, h, [[pal[d[off + (h - 1 - y) * row + x]] for x in range(w)] for y in range(h)]


def bilinear(src, sw, sh, w, h, get):
    """Half-pixel-centre bilinear of channel accessor get(x, y) -> float."""
    out = []
    for y in range(h):
        fy = max((y + 0.5) * sh / h - 0.5, 0.0)
        y0 = int(math.floor(fy)); y1 = min(y0 + 1, sh - 1); ty = fy - y0
        for x in range(w):
            fx = max((x + 0.5) * sw / w - 0.5, 0.0)
            x0 = int(math.floor(fx)); x1 = min(x0 + 1, sw - 1); tx = fx - x0
            v = (get(x0, y0) * (1 - tx) + get(x1, y0) * tx) * (1 - ty) + (get(x0, y1) * (1 - tx) + get(x1, y1) * tx) * ty
            out.append(v)
    return out


def nearest(sw, sh, w, h, get):
    return [get(min(((2 * x + 1) * sw) // (2 * w), sw - 1), min(((2 * y + 1) * sh) // (2 * h), sh - 1))
            for y in range(h) for x in range(w)]


# ---- .npy written and read here ----------------------------------------------

def write_npy(path, descr, shape, payload):
    dims = ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "")
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    total = (10 + len(hdr) + 1 + 63) // 64 * 64
    hdr = hdr + " " * (total - 10 - len(hdr) - 1) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + payload)


def read_npy(path):
    d = open(path, "rb").read()
    assert d[:6] == b"\x93NUMPY", path
    hl = struct.unpack("<H", d[8:10])[0]
    header = d[10:10 + hl].decode()
    return header, d[10 + hl:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etpu", required=True)
    ap.add_argument("--test-io", required=True)
    ap.add_argument("--shared", required=True)
    a = ap.parse_args()
    shared = os.environ.get("ETPU_SHARED_DATA", a.shared)
    if not os.path.isdir(os.path.join(shared, "coral")):
        required = os.environ.get("ETPU_REQUIRE_SHARED_DATA", "") == "1"
        print("run_cli: no shared data at %s; %s" % (shared, "failing" if required else "skipping"), file=sys.stderr)
        sys.exit(1 if required else 77)
    coral = os.path.join(shared, "coral")
    E = a.etpu
    tmp = tempfile.mkdtemp(prefix="etpu_run_cli.")
    try:
        subprocess.run([a.test_io, "--write-models", tmp], check=True)
        image = os.path.join(tmp, "image.tflite")
        gray = os.path.join(tmp, "gray.tflite")
        flt = os.path.join(tmp, "float.tflite")
        two = os.path.join(tmp, "two.tflite")
        cat = os.path.join(coral, "cat.bmp")
        labels = os.path.join(coral, "imagenet_labels.txt")
        label_lines = open(labels).read().splitlines()

        # Image through bilinear resize: every score against our resize.
        rc, out, err = run(E, image, "--input", cat, "--json", "--labels", labels, "--top", "3")
        check(rc == 0, "image run: %s" % err)
        if rc == 0:
            j = json.loads(out)
            o = j["outputs"][0]
            sw, sh, px = read_bmp24(cat)
            exp = [[0] * 3 for _ in range(64)]
            for c in range(3):
                vals = bilinear(px, sw, sh, 8, 8, lambda x, y: px[y][x][c])
                for i, v in enumerate(vals):
                    exp[i][c] = v
            flat = [exp[i][c] for i in range(64) for c in range(3)]
            worst = max(abs(o["values"][k] - (math.floor(flat[k] + 0.5) - 128) / 128.0) for k in range(192))
            check(worst <= 1 / 128 + 1e-9, "bilinear scores differ from the independent resize by %g" % worst)
            check(len(o["top"]) == 3 and o["shape"] == [1, 192], "top 3 of [1,192]: %s" % o.get("top"))
            best = max(range(192), key=lambda k: (o["values"][k], -k))
            check(o["top"][0]["class"] == best, "top-1 %d, best value at %d" % (o["top"][0]["class"], best))
            check(o["top"][0]["label"] == label_lines[best], "label of class %d: %r" % (best, o["top"][0]["label"]))
            check(j["inputs"][0]["kind"] == "image" and j["profile"] == "litert", "input kind and the default profile (litert)")
            check(j["timing_ms"]["repeat"] == 1 and j["arena_bytes"] > 0, "timing/arena fields")

        # Background offset: 193 labels for 192 classes -> class i is line i + 1.
        lab193 = os.path.join(tmp, "l193.txt")
        with open(lab193, "w") as f:
            f.write("background\n" + "".join("class%d\n" % i for i in range(192)))
        rc, out, err = run(E, image, "--input", cat, "--json", "--labels", lab193, "--top", "1")
        if rc == 0:
            t = json.loads(out)["outputs"][0]["top"][0]
            check(t["label"] == "class%d" % t["class"], "background offset: %s" % t)
        else:
            check(False, "labels 193: %s" % err)

        # Nearest resize, exactly.
        rc, out, err = run(E, image, "--input", cat, "--json", "--resize", "nearest")
        check(rc == 0, "nearest: %s" % err)
        if rc == 0:
            vals = json.loads(out)["outputs"][0]["values"]
            sw, sh, px = read_bmp24(cat)
            exp = []
            for y in range(8):
                for x in range(8):
                    p = px[min(((2 * y + 1) * sh) // 16, sh - 1)][min(((2 * x + 1) * sw) // 16, sw - 1)]
                    exp += [(v - 128) / 128.0 for v in p]
            check(vals == exp, "nearest resize differs")

        # --mean/--std: real = (p - 0) / 1, q = round(real * 128) + 128, saturated.
        rc, out, err = run(E, image, "--input", cat, "--json", "--mean", "0", "--std", "1", "--resize", "nearest")
        if rc == 0:
            vals = json.loads(out)["outputs"][0]["values"]
            check(all(abs(v - 127 / 128) < 1e-9 or v == 0.0 for v in vals), "mean 0 std 1 saturates to 255")
        else:
            check(False, "mean/std: %s" % err)

        # Gray model: 8-bit gray BMP, and an RGB image converted with luma.
        nine = os.path.join(coral, "mnist_nine.bmp")
        rc, out, err = run(E, gray, "--input", nine, "--json", "--top", "0")
        check(rc == 0, "gray: %s" % err)
        if rc == 0:
            o = json.loads(out)["outputs"][0]
            w, h, g = read_bmp8(nine)
            exp = bilinear(g, w, h, 4, 4, lambda x, y: g[y][x])
            worst = max(abs(o["values"][k] * 255 - math.floor(exp[k] + 0.5)) for k in range(16))
            check(worst < 1e-3, "gray bilinear differs by %g levels" % worst)
            check("top" not in o, "--top 0 prints no classes")
        rc, out, err = run(E, gray, "--input", cat, "--json", "--resize", "nearest")
        if rc == 0:
            o = json.loads(out)["outputs"][0]
            sw, sh, px = read_bmp24(cat)
            lum = lambda p: (p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16
            exp = nearest(sw, sh, 4, 4, lambda x, y: lum(px[y][x]))
            check([round(v * 255) for v in o["values"]] == exp, "RGB -> gray luma")
        else:
            check(False, "gray from RGB: %s" % err)

        # PNG and JPEG inputs.
        png = os.path.join(shared, "tflite-micro", "mnist_lstm_samples", "sample3.png")
        rc, out, err = run(E, gray, "--input", png)
        check(rc == 0 and "(image)" in out, "png input: %s" % err)
        rc, out, err = run(E, image, "--input", os.path.join(coral, "face.jpg"), "--repeat", "5", "--json")
        check(rc == 0, "jpeg input: %s" % err)
        if rc == 0:
            tm = json.loads(out)["timing_ms"]
            check(tm["repeat"] == 5 and 0 <= tm["min"] <= tm["median"], "timing %s" % tm)

        # Float model: .npy in, outputs and every tensor out as .npy.
        xs = [0.26, -3.14, 20.0]
        xin = os.path.join(tmp, "x.npy")
        write_npy(xin, "<f4", [1, 3], struct.pack("<3f", *xs))
        outdir = os.path.join(tmp, "out")
        dump = os.path.join(tmp, "dump")
        rc, out, err = run(E, flt, "--input", xin, "--output-dir", outdir, "--dump-tensors", dump, "--json")
        check(rc == 0, "float run: %s" % err)
        if rc == 0:
            f32 = lambda v: struct.unpack("<f", struct.pack("<f", v))[0]
            q = [max(-128, min(127, round(f32(x) / f32(0.1)))) for x in xs]
            exp = [f32(f32(0.1) * v) for v in q]
            vals = [f32(v) for v in json.loads(out)["outputs"][0]["values"]]
            check(all(abs(a_ - b) < 1e-6 for a_, b in zip(vals, exp)), "float values %s vs %s" % (vals, exp))
            hdr, payload = read_npy(os.path.join(outdir, "output_0.npy"))
            check("'<f4'" in hdr and "(1, 3)" in hdr and list(struct.unpack("<3f", payload)) == exp,
                  "output_0.npy: %s" % hdr)
            hdr, payload = read_npy(os.path.join(dump, "t1.npy"))
            check("'|i1'" in hdr and list(struct.unpack("<3b", payload)) == q, "t1.npy (int8): %s %s" % (hdr, payload))
            check(sorted(os.listdir(dump)) == ["t0.npy", "t1.npy", "t2.npy"], "dump files %s" % os.listdir(dump))
            check(not any(".tmp" in n for n in os.listdir(outdir)), "temporary files left in %s" % outdir)
        # Raw bytes: exactly the tensor's size.
        raw = os.path.join(tmp, "x.raw")
        with open(raw, "wb") as f:
            f.write(struct.pack("<3f", *xs))
        rc, out, err = run(E, flt, "--input", raw)
        check(rc == 0 and "(raw)" in out, "raw input: %s" % err)
        with open(raw, "wb") as f:
            f.write(b"\0" * 11)
        expect_error(E, 1, "needs exactly 12", flt, "--input", raw)

        # Two inputs: both spellings; a missing one is a usage error.
        x2 = os.path.join(tmp, "x2.npy")
        write_npy(x2, "<f4", [3], struct.pack("<3f", 1.0, 2.0, 3.0))
        for args in (["--input", xin, x2], ["--input", xin, "--input", x2]):
            rc, out, err = run(E, two, *args, "--json")
            check(rc == 0, "two inputs %s: %s" % (args, err))
            if rc == 0:
                o = json.loads(out)["outputs"]
                check(o[1]["values"] == [1.0, 2.0, 3.0], "second output %s" % o[1]["values"])
        expect_error(E, 2, "has 2 inputs; 1 --input file given", two, "--input", xin)

        # Wrong inputs.
        bad_t = os.path.join(tmp, "i32.npy")
        write_npy(bad_t, "<i4", [1, 3], struct.pack("<3i", 1, 2, 3))
        expect_error(E, 1, "dtype INT32 does not fit", flt, "--input", bad_t)
        bad_s = os.path.join(tmp, "s.npy")
        write_npy(bad_s, "<f4", [2, 2], struct.pack("<4f", 1, 2, 3, 4))
        expect_error(E, 1, "shape (2, 2) does not fit", flt, "--input", bad_s)
        trunc = os.path.join(tmp, "trunc.bmp")
        with open(cat, "rb") as f:
            data = f.read()
        with open(trunc, "wb") as f:
            f.write(data[: len(data) // 2])
        expect_error(E, 1, "BMP: truncated", image, "--input", trunc)
        badpng = os.path.join(tmp, "bad.png")
        with open(png, "rb") as f:
            data = bytearray(f.read())
        data[40] ^= 0x55
        with open(badpng, "wb") as f:
            f.write(data)
        expect_error(E, 1, "PNG:", gray, "--input", badpng)
        expect_error(E, 1, "is not an image", flt, "--input", cat)
        expect_error(E, 3, "cannot open", image, "--input", os.path.join(tmp, "missing.bmp"))
        expect_error(E, 3, "cannot open", image, "--input", cat, "--labels", os.path.join(tmp, "missing.txt"))
        expect_error(E, 3, "cannot open", os.path.join(tmp, "missing.tflite"), "--input", cat)

        # Models etpu refuses at create: an op it cannot run, Google's compiled model.
        inv = os.path.join(coral, "invalid_models", "model_invoking_error.tflite")
        if os.path.exists(inv):
            expect_error(E, 1, "fake-op-double", inv, "--input", cat)
        expect_error(E, 1, "edgetpu_compiler", os.path.join(coral, "mobilenet_v2_1.0_224_quant_edgetpu.tflite"),
                     "--input", cat)

        # --threads: the count is reported, and every count gives the same values.
        mnv2 = os.path.join(coral, "mobilenet_v2_1.0_224_quant.tflite")
        outs = {}
        for t in (1, 2, 3):
            rc, out, err = run(E, mnv2, "--input", cat, "--json", "--top", "5", "--threads", t)
            check(rc == 0, "--threads %d: %s" % (t, err))
            if rc == 0:
                j = json.loads(out)
                check(j["threads"] == t and isinstance(j["isa"], str) and j["isa"], "--threads %d reported: %s" % (t, j.get("threads")))
                outs[t] = j["outputs"]
        check(len(outs) == 3 and outs[1] == outs[2] == outs[3], "outputs differ between 1, 2 and 3 threads")
        rc, out, err = run(E, image, "--input", cat, "--threads=2")
        check(rc == 0 and "2 threads" in out, "--threads=2 in the text report: %s%s" % (out[:200], err))
        expect_error(E, 2, "--threads needs", image, "--input", cat, "--threads", "257")
        expect_error(E, 2, "--threads needs", image, "--input", cat, "--threads", "two")

        # --per-op: one row per op with MobileNet v2's known MACs, the same
        # outputs as without it, and the percentages summing to 100.
        rc, out, err = run(E, mnv2, "--input", cat, "--json", "--top", "5", "--threads", 1, "--repeat", 3, "--per-op")
        check(rc == 0, "--per-op: %s" % err)
        if rc == 0:
            j = json.loads(out)
            ops = j.get("ops", [])
            check(len(ops) == 66 and [o["index"] for o in ops] == list(range(66)), "--per-op: 66 ops in order")
            check(j["outputs"] == outs.get(1), "--per-op changes no output")
            if len(ops) == 66:
                check(ops[0]["type"] == "CONV_2D" and ops[0]["shapes"] == "1x224x224x3 -> 1x112x112x32" and
                      ops[0]["macs"] == 112 * 112 * 32 * 3 * 3 * 3, "--per-op op 0: %s" % ops[0])
                check(ops[1]["type"] == "DEPTHWISE_CONV_2D" and ops[1]["macs"] == 112 * 112 * 32 * 9, "op 1 MACs")
                check(ops[9]["type"] == "ADD" and ops[9]["macs"] == 0, "ADD has no MACs")
                check(ops[63]["macs"] == 1280 * 1001, "the classifier's 1x1 conv MACs")
                check(j["ops_total"]["macs"] == sum(o["macs"] for o in ops), "total MACs")
                check(all(o["time_ms"] >= 0 for o in ops) and abs(sum(o["percent"] for o in ops) - 100) < 0.1,
                      "per-op percentages sum to 100")
        rc, out, err = run(E, image, "--input", cat, "--per-op")
        check(rc == 0 and "per op (median" in out and "RESHAPE" in out, "--per-op text table: %s%s" % (out[-300:], err))
        expect_error(E, 2, "takes no value", image, "--input", cat, "--per-op=1")

        # Outputs shaped only by their op (PoseNet's decoder leaves them
        # empty in the model): the real shape in text, --json and .npy.
        pose = os.path.join(coral, "posenet", "posenet_mobilenet_v1_075_353_481_16_quant_decoder.tflite")
        pimg = os.path.join(coral, "posenet", "test_image.bmp")
        check(os.path.isfile(pose) and os.path.isfile(pimg), "PoseNet model and image present")
        if os.path.isfile(pose) and os.path.isfile(pimg):
            want = [[1, 20, 17, 2], [1, 20, 17], [1, 20], [1]]
            odir = os.path.join(tmp, "pose_out")
            rc, out, err = run(E, pose, "--input", pimg, "--json", "--top", "0", "--output-dir", odir)
            shapes = [o["shape"] for o in json.loads(out)["outputs"]] if rc == 0 else None
            check(shapes == want, "PoseNet --json output shapes %s, wanted %s: %s" % (shapes, want, err.strip()))
            if rc == 0:
                n = [len(o.get("values", [])) for o in json.loads(out)["outputs"]]
                check(n[3] == 1 and n[2] == 20, "PoseNet --json values per output: %s" % n)
            for k, w in enumerate(want):
                f = os.path.join(odir, "output_%d.npy" % k)
                hdr = read_npy(f)[0] if os.path.isfile(f) else ""
                shape_txt = "(%s)" % ", ".join(map(str, w)) if len(w) > 1 else "(%d,)" % w[0]
                check("'shape': %s" % shape_txt in hdr, "PoseNet output_%d.npy shape: %r, wanted %s" %
                      (k, hdr, shape_txt))
            rc, out, err = run(E, pose, "--input", pimg, "--top", "0")
            for k, w in enumerate(want):
                check("'poses%s' FLOAT32[%s]" % (":%d" % k if k else "", ",".join(map(str, w))) in out,
                      "PoseNet text output %d not shown as %s: %s" % (k, w, out))

        # Usage.
        expect_error(E, 2, "no MODEL", "--input", cat)
        expect_error(E, 2, "no --input", image)
        expect_error(E, 2, "unknown option", image, "--input", cat, "--frobnicate")
        expect_error(E, 2, "--profile must be", image, "--input", cat, "--profile", "fast")
        expect_error(E, 2, "--mean and --std go together", image, "--input", cat, "--mean", "1")
        expect_error(E, 2, "--std needs a positive number", image, "--input", cat, "--mean", "1", "--std", "0")
        expect_error(E, 2, "--repeat needs", image, "--input", cat, "--repeat", "0")
        expect_error(E, 2, "--resize must be", image, "--input", cat, "--resize", "cubic")
        # -o / --dump-tensors folders that cannot be written fail before any
        # invoke (a million repeats would take minutes): exit 3 at once.
        blocker = os.path.join(tmp, "a_file")
        with open(blocker, "w") as f:
            f.write("x")
        for flag in ("-o", "--dump-tensors"):
            t0 = time.monotonic()
            slow = mnv2 if os.path.exists(mnv2) else image  # 10^6 invokes of it: ~an hour
            rc, out, err = run(E, slow, "--input", cat, "--repeat", "1000000", flag, os.path.join(blocker, "sub"))
            check(rc == 3 and "a_file/sub" in err and time.monotonic() - t0 < 60,
                  "%s under a file: exit %d after %.1f s: %s" % (flag, rc, time.monotonic() - t0, err.strip()))
        rc, out, _ = run(E, "--help")
        check(rc == 0 and "--dump-tensors" in out, "run --help")
        rc, out, err = run(E, image, "--input", cat, "--profile=litert", "--top=2", "--json")
        check(rc == 0 and json.loads(out)["profile"] == "litert", "--opt=value spelling: %s" % err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (PASSED, FAILED))
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
