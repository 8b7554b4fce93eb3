#!/usr/bin/env python3
"""metadata_cli.py — the model's metadata normalization as the CLI uses it.

float/deeplabv3.tflite records mean 127.5, std 127.5 in its TFLITE_METADATA.
`etpu quantize MODEL --calib DIR` without --mean/--std must say it uses them
and write the very bytes `--mean 127.5 --std 127.5` writes; `etpu run` on the
float model must name them for its image input, and `etpu inspect` (text
and --json) must show them. One calibration image keeps
it short.

Then a float model without metadata (mobilenet_v1_0.25_128): without
--mean/--std quantize and run warn that they assume raw pixels (run --json
says "assumed"); quantize records the normalization it used in OUT's
metadata; OUT quantized with --mean/--std 127.5 and --io float, uint8 or
int8 then runs without flags to the float model's top-1 on burger.jpg
(cheeseburger), and with integer I/O its input maps every pixel value (scale
1/127.5) even when calibrated on dark images. Exit 77 = skipped (no shared data) unless ETPU_REQUIRE_SHARED_DATA=1.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL: %s" % what, file=sys.stderr)


def etpu(e, *args):
    p = subprocess.run([e, *map(str, args)], capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def write_bmp(path, w, h, pixel):
    """A 24-bit bottom-up BMP; pixel(x, y) -> (r, g, b)."""
    row = (3 * w + 3) // 4 * 4
    data = bytearray()
    for y in range(h - 1, -1, -1):
        line = bytearray()
        for x in range(w):
            r, g, b = pixel(x, y)
            line += bytes((b, g, r))
        data += line + bytes(row - len(line))
    hdr = b"BM" + struct.pack("<IHHI", 54 + len(data), 0, 0, 54)
    hdr += struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(data), 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(hdr + data)


def input_quant(e, model):
    rc, out, err = etpu(e, "inspect", "--json", model)
    if rc != 0:
        return None
    sg = json.loads(out)["subgraphs"][0]
    t = sg["tensors"][sg["inputs"][0]]
    q = t.get("quantization") or {}
    return t["type"], (q.get("scale") or [None])[0], (q.get("zero_point") or [None])[0]


def normalization_round_trip(e, shared, tmp):
    """Issue #16 item 2: a float model without normalization metadata.

    Without --mean/--std, quantize and run say what they assume (stderr, and
    run --json); quantize records the normalization it used in OUT's
    metadata, so run on OUT needs no flags and, for each --io, gives the
    top-1 of the float model run with the flags. With integer I/O the input
    takes raw pixels, so its parameters must map the whole pixel range even
    when the calibration images are dark."""
    model = os.path.join(shared, "float", "mobilenet_v1_0.25_128.tflite")
    images = os.path.join(shared, "float", "images")
    burger = os.path.join(images, "burger.jpg")
    photos = [os.path.join(shared, "coral", "cat.bmp"), os.path.join(shared, "coral", "bird.bmp"),
              os.path.join(images, "sparrow.png"), os.path.join(images, "cats_and_dogs.jpg")]
    if not all(os.path.isfile(p) for p in [model, burger] + photos):
        check(False, "round trip: shared files missing")
        return
    calib = os.path.join(tmp, "calib4")
    os.mkdir(calib)
    for p in photos:
        shutil.copy(p, calib)
    # The assumption is said, by quantize and by run (text and --json).
    raw = os.path.join(tmp, "raw.tflite")
    rc, out, err = etpu(e, "quantize", model, "--calib", calib, "-o", raw, "-q")
    check(rc == 0 and "assuming it takes raw pixel values 0..255 (mean 0, std 1)" in err and "--mean 127.5" in err,
          "quantize without --mean/--std or metadata does not warn: exit %d: %s" % (rc, err.strip()))
    rc, out, err = etpu(e, "run", model, "--input", burger, "--top", "1", "--json")
    norm = json.loads(out)["inputs"][0].get("normalization") if rc == 0 else None
    check(norm == {"mean": 0, "std": 1, "from": "assumed"} and "assuming it takes raw pixel values" in err,
          "run --json without --mean/--std or metadata: normalization %r, stderr %r" % (norm, err.strip()))
    rc, out, err = etpu(e, "run", raw, "--input", burger, "--top", "1")
    check(rc == 0 and "normalization from the model's metadata: mean 0, std 1" in out and "warning" not in err,
          "run on the model quantized with raw pixels: the recorded 0/1 is not used: %s %s" % (out, err))
    # The float model's answer with the right flags, then each quantized model's with none.
    rc, out, err = etpu(e, "run", model, "--input", burger, "--top", "1", "--json", "--mean", 127.5, "--std", 127.5)
    want = json.loads(out)["outputs"][0]["top"][0]["class"] if rc == 0 else None
    check(want == 934, "float model with --mean/--std 127.5: top-1 %r, wanted 934 (cheeseburger)" % want)
    for io in ("float", "uint8", "int8"):
        q = os.path.join(tmp, "q_%s.tflite" % io)
        rc, out, err = etpu(e, "quantize", model, "--calib", calib, "--mean", 127.5, "--std", 127.5, "--io", io,
                            "-o", q)
        check(rc == 0 and "normalization mean 127.5, std 127.5 recorded in" in out,
              "quantize --io %s: exit %d, recording not reported: %s" % (io, rc, err.strip()))
        rc, out, err = etpu(e, "inspect", "--json", q)
        norm = json.loads(out).get("input_normalization") if rc == 0 else None
        check(norm == [{"input": 0, "mean": [127.5], "std": [127.5]}], "--io %s: metadata %r" % (io, norm))
        rc, out, err = etpu(e, "run", q, "--input", burger, "--top", "1", "--json")
        got = json.loads(out)["outputs"][0]["top"][0]["class"] if rc == 0 else None
        check(got == want and "warning" not in err,
              "quantize --io %s -> run without flags: top-1 %r, float model %r: %s" % (io, got, want, err.strip()))
    # Dark calibration images: the integer input still spans every pixel value.
    dark = os.path.join(tmp, "dark")
    os.mkdir(dark)
    for k in range(2):
        write_bmp(os.path.join(dark, "d%d.bmp" % k), 32, 32, lambda x, y: (x * 2 + k, y * 2, (x + y) % 60))
    for io, zps in (("uint8", (127, 128)), ("int8", (-1, 0))):
        q = os.path.join(tmp, "dark_%s.tflite" % io)
        rc, out, err = etpu(e, "quantize", model, "--calib", dark, "--mean", 127.5, "--std", 127.5, "--io", io,
                            "-q", "-o", q)
        got = input_quant(e, q) if rc == 0 else None
        check(got is not None and got[0] == io.upper() and abs(got[1] * 127.5 - 1) < 1e-6 and got[2] in zps,
              "dark calibration, --io %s: input %r, wanted scale 1/127.5 and zero point in %s" % (io, got, zps))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etpu", required=True)
    ap.add_argument("--shared", required=True)
    a = ap.parse_args()
    shared = os.environ.get("ETPU_SHARED_DATA", a.shared)
    model = os.path.join(shared, "float", "deeplabv3.tflite")
    if not os.path.isfile(model):
        required = os.environ.get("ETPU_REQUIRE_SHARED_DATA", "") == "1"
        print("metadata_cli: no shared data at %s; %s" % (shared, "failing" if required else "skipping"),
              file=sys.stderr)
        sys.exit(1 if required else 77)
    cat = os.path.join(shared, "coral", "cat.bmp")
    tmp = tempfile.mkdtemp(prefix="etpu_metadata_cli.")
    try:
        calib = os.path.join(tmp, "calib")
        os.mkdir(calib)
        shutil.copy(cat, calib)
        meta, given = os.path.join(tmp, "meta.tflite"), os.path.join(tmp, "given.tflite")
        rc, out, err = etpu(a.etpu, "quantize", model, "--calib", calib, "-o", meta, "-q")
        check(rc == 0, "quantize without --mean/--std: exit %d: %s" % (rc, err.strip()))
        check("normalization from the model's metadata: mean 127.5, std 127.5" in out,
              "quantize does not report the metadata normalization: %s" % out.strip())
        rc, out, err = etpu(a.etpu, "quantize", model, "--calib", calib, "-o", given, "-q", "--mean", "127.5",
                            "--std", "127.5")
        check(rc == 0, "quantize --mean 127.5 --std 127.5: exit %d: %s" % (rc, err.strip()))
        check("model's metadata" not in out, "--mean/--std given, yet the metadata is reported: %s" % out.strip())
        if os.path.isfile(meta) and os.path.isfile(given):
            with open(meta, "rb") as f1, open(given, "rb") as f2:
                check(f1.read() == f2.read(), "metadata default and --mean 127.5 --std 127.5 models differ")
        rc, out, err = etpu(a.etpu, "run", model, "--input", cat, "--top", "0")
        check(rc == 0, "run: exit %d: %s" % (rc, err.strip()))
        check("normalization from the model's metadata: mean 127.5, std 127.5" in out,
              "run does not report the metadata normalization: %s" % out.strip())
        rc, out, err = etpu(a.etpu, "run", model, "--input", cat, "--top", "0", "--json")
        norm = json.loads(out)["inputs"][0].get("normalization") if rc == 0 else None
        check(norm == {"mean": 127.5, "std": 127.5, "from": "metadata"}, "run --json normalization: %r" % (norm,))
        rc, out, err = etpu(a.etpu, "run", model, "--input", cat, "--top", "0", "--json", "--mean", "0", "--std", "255")
        norm = json.loads(out)["inputs"][0].get("normalization") if rc == 0 else None
        check(norm == {"mean": 0, "std": 255, "from": "--mean/--std"}, "run --json --mean 0 --std 255: %r" % (norm,))
        # inspect shows it, for people and for scripts; a model without metadata shows none.
        rc, out, err = etpu(a.etpu, "inspect", model)
        check(rc == 0 and "input 0 normalization (metadata): real = (x - mean) / std, mean 127.5, std 127.5" in out,
              "inspect does not show the metadata normalization: exit %d: %s" % (rc, out[:400]))
        rc, out, err = etpu(a.etpu, "inspect", "--json", model)
        norm = json.loads(out).get("input_normalization") if rc == 0 else None
        check(norm == [{"input": 0, "mean": [127.5], "std": [127.5]}],
              "inspect --json input_normalization: %r" % (norm,))
        plain = os.path.join(shared, "float", "mobilenet_v1_0.25_128.tflite")
        rc, out, err = etpu(a.etpu, "inspect", "--json", plain)
        norm = json.loads(out).get("input_normalization") if rc == 0 else None
        check(norm == [], "inspect --json of a model without metadata: input_normalization %r" % (norm,))
        normalization_round_trip(a.etpu, shared, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("metadata_cli: %s" % ("ok" if failures == 0 else "%d failure(s)" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
