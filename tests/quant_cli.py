#!/usr/bin/env python3
"""quant_cli.py — `etpu quantize` from the outside: errors, atomic output, determinism.

Every refused run must exit non-zero with an error on stderr that names the
offending file (model, folder or sample) and the rule it broke, leave an
existing OUT byte-identical, leave no temporary file beside OUT, and never
touch the input model (its SHA-256 is compared before and after the whole
script). The cases:

  - a model that is already quantized (float/vww_96_int8.tflite), a
    missing model and a file that is not a model;
  - integer-only mode (the default) on models with ops it cannot quantize
    (quantizer_cases/custom_op.bin, lstm_calibrated.bin: both record their
    ranges, so no --calib): each op listed with its reason; --allow-float
    then succeeds with the custom op kept in float;
  - an empty calibration folder, and a folder that does not exist;
  - a corrupt image (text named .jpg) and a truncated BMP in the folder;
  - a .npy sample of the wrong shape, and a raw sample of the wrong size;
  - a two-input model (float/ops/add.float32.tflite) given one or three
    --calib folders, or two folders holding different numbers of samples
    (one folder per input, paired by name order); with two matching
    folders it must succeed;
  - a model recording only some ranges (mobilenet_v1_0.25_128) without
    --calib: the tensors with no range are counted and the first named;
  - bad flags: --io bogus, --std 0, --std -1, --mean abc, no -o, no --calib,
    no model, an unknown option (exit 2, usage on stderr);
  - an output folder that does not exist, and -o naming a folder (exit 3);
    the missing folder is reported before any sample is read (a corrupt
    sample and --gptq are never reached).

Then the successes: vww_96_float quantized twice from the same three photos
gives byte-identical models (determinism) with each --calib-method (minmax,
percentile=99.9, mse), and they open in `etpu inspect`; percentile=100 gives
the same bytes as minmax; a run that succeeds over an existing OUT replaces
it. Bad --calib-method values are usage errors.

Exit codes are the CLI's: 1 bad model or input, 2 usage, 3 I/O; where the
issue leaves the code open (already quantized, empty folder) any non-zero
code is accepted and printed. Prints "N passed, N failed"; exits 1 on any
failure, 77 (skipped) without the shared data unless
ETPU_REQUIRE_SHARED_DATA=1. Standard library only.
"""

import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

PASSED = 0
FAILED = 0

FLOAT_MODEL = "float/vww_96_float.tflite"  # FLOAT32[1,96,96,3] input
QUANT_MODEL = "float/vww_96_int8.tflite"
TWO_INPUT = "float/ops/add.float32.tflite"  # two FLOAT32[1,32,64,128] inputs
CUSTOM_OP = "float/quantizer_cases/custom_op.bin"  # records its ranges; a custom op
LSTM = "float/quantizer_cases/lstm_calibrated.bin"  # records its ranges; LSTM state
PARTIAL = "float/mobilenet_v1_0.25_128.tflite"  # records the ranges of a few tensors only
PHOTOS = ["coral/cat.bmp", "coral/bird.bmp", "float/images/sparrow.png"]

SENTINEL = b"previous OUT contents: must survive every failed run\n"


def check(cond, what):
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL: %s" % what)
        sys.stdout.flush()


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_npy(path, shape, value=0.0):
    n = 1
    for s in shape:
        n *= s
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join("%d, " % s for s in shape)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<f", value) * n)


class Runner:
    def __init__(self, etpu, tmp):
        self.etpu = etpu
        self.outdir = os.path.join(tmp, "out")
        os.mkdir(self.outdir)
        self.out = os.path.join(self.outdir, "out.tflite")

    def run(self, *args):
        p = subprocess.run([self.etpu, "quantize"] + [str(a) for a in args], capture_output=True, text=True,
                           timeout=600)
        return p.returncode, p.stdout, p.stderr

    def refused(self, what, args, codes, needles):
        """Run etpu quantize ARGS -o OUT over an existing OUT and check the refusal."""
        with open(self.out, "wb") as f:
            f.write(SENTINEL)
        rc, out, err = self.run(*args, "-o", self.out)
        print("%-44s exit %d: %s" % (what, rc, err.strip().splitlines()[0] if err.strip() else "(no stderr)"))
        check(rc != 0 and (codes is None or rc in codes),
              "%s: exit %d, wanted %s" % (what, rc, "non-zero" if codes is None else " or ".join(map(str, codes))))
        # Warnings may come first (e.g. the normalization assumed for raw pixels).
        errs = "\n".join(l for l in err.splitlines() if not l.startswith("etpu: warning: "))
        check(errs.startswith("etpu: error: "), "%s: stderr does not start with 'etpu: error: ': %r" % (what, err))
        for n in needles:
            check(n in err, "%s: stderr lacks %r: %r" % (what, n, err))
        with open(self.out, "rb") as f:
            check(f.read() == SENTINEL, "%s: the existing OUT was changed" % what)
        left = sorted(os.listdir(self.outdir))
        check(left == ["out.tflite"], "%s: files left in the output folder: %r" % (what, left))

    def usage(self, what, args, needles):
        """A usage error: exit 2, one line on stderr naming what is wrong (not the whole usage), OUT untouched."""
        with open(self.out, "wb") as f:
            f.write(SENTINEL)
        rc, out, err = self.run(*args)
        print("%-44s exit %d: %s" % (what, rc, err.strip().splitlines()[0] if err.strip() else "(no stderr)"))
        check(rc == 2, "%s: exit %d, wanted 2 (usage)" % (what, rc))
        check(err.startswith("etpu: error: quantize: ") and len(err.splitlines()) == 1
              and "etpu quantize --help" in err,
              "%s: stderr is not one error line pointing to --help: %r" % (what, err))
        for n in needles:
            check(n in err, "%s: stderr lacks %r: %r" % (what, n, err))
        with open(self.out, "rb") as f:
            check(f.read() == SENTINEL, "%s: the existing OUT was changed" % what)
        check(sorted(os.listdir(self.outdir)) == ["out.tflite"], "%s: files left in the output folder" % what)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--etpu", required=True)
    ap.add_argument("--shared", default="")
    args = ap.parse_args()
    etpu = os.path.abspath(args.etpu)
    shared = os.environ.get("ETPU_SHARED_DATA") or args.shared
    required = os.environ.get("ETPU_REQUIRE_SHARED_DATA", "") == "1"
    needed = [FLOAT_MODEL, QUANT_MODEL, TWO_INPUT, CUSTOM_OP, LSTM, PARTIAL] + PHOTOS
    missing = [p for p in needed if not shared or not os.path.isfile(os.path.join(shared, p))]
    if missing:
        print("quant_cli: shared data incomplete at '%s' (first missing: %s)%s" %
              (shared, missing[0], "" if required else "; skipped"))
        return 1 if required else 77
    fmodel = os.path.join(shared, FLOAT_MODEL)
    qmodel = os.path.join(shared, QUANT_MODEL)
    two = os.path.join(shared, TWO_INPUT)
    custom, lstm = os.path.join(shared, CUSTOM_OP), os.path.join(shared, LSTM)
    hashes = {p: sha256(p) for p in (fmodel, qmodel, two, custom, lstm)}

    with tempfile.TemporaryDirectory(prefix="etpu-qcli-") as tmp:
        r = Runner(etpu, tmp)

        def folder(name, files=()):
            d = os.path.join(tmp, name)
            os.mkdir(d)
            for src in files:
                os.symlink(os.path.join(os.path.abspath(shared), src), os.path.join(d, os.path.basename(src)))
            return d

        photos = folder("photos", PHOTOS)

        # ---- refusals ----
        r.refused("already quantized", [qmodel, "--calib", photos], None, [qmodel, "already quantized"])

        nomodel = os.path.join(tmp, "no-such-model.tflite")
        r.refused("model missing", [nomodel, "--calib", photos], [3], [nomodel])
        notmodel = os.path.join(tmp, "notes.tflite")
        with open(notmodel, "w") as f:
            f.write("not a model\n")
        r.refused("model not a flatbuffer", [notmodel, "--calib", photos], [1], [notmodel])

        # Integer-only (the default) lists each op it cannot quantize, with the reason.
        r.refused("integer-only: custom op", [custom], [1], [custom, "op 0 CustomTestOp", "no int8 rule"])
        r.refused("integer-only: LSTM", [lstm, "--integer-only"], [1], [lstm, "op 0 LSTM", "variable tensor"])

        empty = folder("empty")
        r.refused("empty calibration folder", [fmodel, "--calib", empty], None, [empty, "no calibration sample"])
        nodir = os.path.join(tmp, "no-such-folder")
        r.refused("calibration folder missing", [fmodel, "--calib", nodir], [3], [nodir])

        corrupt = folder("corrupt", PHOTOS[:1])
        bad = os.path.join(corrupt, "zz_notes.jpg")  # sorts after the good photo
        with open(bad, "w") as f:
            f.write("This is a text file named like a JPEG.\n")
        r.refused("corrupt image", [fmodel, "--calib", corrupt], [1], [bad, "not a BMP, PNG or JPEG"])

        trunc = folder("truncated")
        with open(os.path.join(shared, PHOTOS[0]), "rb") as f:
            head = f.read(200)
        tbmp = os.path.join(trunc, "cut.bmp")
        with open(tbmp, "wb") as f:
            f.write(head)
        r.refused("truncated BMP", [fmodel, "--calib", trunc], [1], [tbmp])

        wrong = folder("wrong_npy")
        wnpy = os.path.join(wrong, "sample.npy")
        write_npy(wnpy, (1, 95, 96, 3))
        r.refused("wrong .npy shape", [fmodel, "--calib", wrong], [1], [wnpy, "does not fit", "(1, 95, 96, 3)"])

        wraw = folder("wrong_raw")
        rawf = os.path.join(wraw, "sample.raw")
        with open(rawf, "wb") as f:
            f.write(b"\0" * (96 * 96 * 3 * 4 - 4))
        r.refused("wrong raw size", [fmodel, "--calib", wraw], [1], [rawf])

        # ---- a two-input model and the number of --calib folders ----
        ina, inb, inc = folder("in_a"), folder("in_b"), folder("in_c")
        for d in (ina, inb, inc):
            write_npy(os.path.join(d, "s0.npy"), (1, 32, 64, 128), 0.5)
        r.refused("two inputs, one --calib folder", [two, "--calib", ina], [1, 2], [two, "input"])
        r.refused("two inputs, three --calib folders", [two, "--calib", ina, "--calib", inb, "--calib", inc],
                  [1, 2], [two])
        with open(r.out, "wb") as f:
            f.write(SENTINEL)
        rc, out, err = r.run(two, "--calib", ina, "--calib", inb, "-q", "-o", r.out)
        check(rc == 0, "two inputs, two --calib folders: exit %d: %s" % (rc, err.strip()))
        if rc == 0:
            with open(r.out, "rb") as f:
                check(f.read() != SENTINEL, "two inputs, two --calib folders: OUT not replaced")
        print("%-44s exit %d" % ("two inputs, two --calib folders", rc))
        # Paired by name order: a folder with fewer samples than the other is refused.
        write_npy(os.path.join(inb, "s1.npy"), (1, 32, 64, 128), 0.25)
        r.refused("two inputs, 1 and 2 samples", [two, "--calib", ina, "--calib", inb], [1, 2], [ina, inb])

        # ---- flags ----
        base = [fmodel, "--calib", photos]
        r.usage("--io bogus", base + ["--io", "bogus", "-o", r.out], ["--io", "bogus"])
        r.usage("--std 0", base + ["--std", "0", "-o", r.out], ["--std"])
        r.usage("--std -1", base + ["--std", "-1", "-o", r.out], ["--std"])
        r.usage("--mean abc", base + ["--mean", "abc", "-o", r.out], ["--mean"])
        for m in ("bogus", "percentile=0", "percentile=101", "percentile=abc", "percentile=", "mse=3"):
            r.usage("--calib-method " + m, base + ["--calib-method", m, "-o", r.out], ["--calib-method", m])
        r.usage("no -o", base, ["-o"])
        r.usage("-o without a value", base + ["-o"], ["-o"])
        r.usage("no --calib", [fmodel, "-o", r.out], ["--calib"])
        r.usage("no model", ["--calib", photos, "-o", r.out], ["model"])
        # A model recording the ranges of some tensors only: without samples the
        # others have no range, and made-up parameters (scale 1, every value 0)
        # must not be written: refused, naming the first tensors and the count.
        r.refused("no --calib, ranges of a few tensors recorded", [os.path.join(shared, PARTIAL)], [2],
                  ["30 activation tensor(s) have no range", "'MobilenetV1/Logits/AvgPool_1a/AvgPool'", "--calib"])
        r.usage("unknown option", base + ["--bogus-flag", "-o", r.out], ["--bogus-flag"])
        # Refinement needs samples; a model whose ranges are recorded needs no --calib, but then has none.
        r.usage("--gptq without samples", [custom, "--allow-float", "--gptq", "-o", r.out],
                ["--gptq needs calibration samples"])
        r.usage("--bias-correct without samples", [custom, "--allow-float", "--bias-correct", "-o", r.out],
                ["--bias-correct needs calibration samples"])

        noout = os.path.join(tmp, "no-such-dir", "out.tflite")
        rc, out, err = r.run(fmodel, "--calib", photos, "-q", "-o", noout)
        print("%-44s exit %d: %s" % ("output folder missing", rc, err.strip()))
        check(rc == 3 and noout in err, "output folder missing: exit %d (wanted 3), stderr %r" % (rc, err))
        check(not os.path.exists(os.path.dirname(noout)), "output folder missing: a folder was created")
        # Checked before the work: with --gptq and a corrupt sample, the
        # output is what is reported (issue #16 item 9), and nothing was loaded.
        rc, out, err = r.run(fmodel, "--calib", corrupt, "--gptq", "-o", noout)
        print("%-44s exit %d: %s" % ("output folder missing, before the work", rc, err.strip()))
        check(rc == 3 and noout in err and "cannot write the output" in err and bad not in err and out == "",
              "output folder missing with --gptq and a corrupt sample: exit %d, stderr %r" % (rc, err))

        # -o naming an existing folder: the rename into place fails after the
        # temporary file was written; it must be removed and the folder kept.
        asdir = os.path.join(r.outdir, "a_folder")
        os.mkdir(asdir)
        rc, out, err = r.run(fmodel, "--calib", photos, "-q", "-o", asdir)
        print("%-44s exit %d: %s" % ("-o names an existing folder", rc, err.strip()))
        check(rc == 3 and asdir in err, "-o names a folder: exit %d (wanted 3), stderr %r" % (rc, err))
        left = sorted(os.listdir(r.outdir))
        check(left == ["a_folder", "out.tflite"] and os.listdir(asdir) == [],
              "-o names a folder: output folder now holds %r" % left)
        os.rmdir(asdir)

        # ---- successes: determinism, and replacing an existing OUT ----
        def quantize_to(name, *extra):
            o = os.path.join(r.outdir, name)
            rc, out, err = r.run(fmodel, "--calib", photos, "--mean", "0", "--std", "255", "--io", "int8", "-q",
                                 *extra, "-o", o)
            check(rc == 0 and os.path.isfile(o), "vww_96_float %s: exit %d: %s" % (" ".join(extra), rc, err.strip()))
            return open(o, "rb").read() if os.path.isfile(o) else b""

        outs = [os.path.join(r.outdir, "det%d.tflite" % k) for k in range(2)]
        for method in ("minmax", "percentile=99.9", "mse"):
            a = quantize_to("det0.tflite", "--calib-method", method)
            b = quantize_to("det1.tflite", "--calib-method", method)
            check(a and a == b, "determinism (%s): two runs on the same inputs differ (%d and %d bytes)" %
                  (method, len(a), len(b)))
            print("determinism (%s): two runs -> %s %d bytes, identical: %s" %
                  (method, hashlib.sha256(a).hexdigest()[:16], len(a), a == b))
        # Refinement: byte-identical twice, and GPTQ does change the weights.
        a = quantize_to("det0.tflite", "--gptq", "--bias-correct")
        b = quantize_to("det1.tflite", "--gptq", "--bias-correct")
        plain = quantize_to("det1.tflite")
        check(a and a == b and a != plain and len(a) == len(plain),
              "determinism (--gptq --bias-correct): two runs identical: %s; differs from plain: %s" %
              (a == b, a != plain))
        print("determinism (--gptq --bias-correct): two runs -> %s %d bytes, identical: %s" %
              (hashlib.sha256(a).hexdigest()[:16], len(a), a == b))
        p = subprocess.run([etpu, "inspect", outs[0]], capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, "etpu inspect of the quantized model: exit %d: %s" % (p.returncode, p.stderr))
        # percentile=100 keeps every value: the same ranges, so the same bytes, as minmax (the default).
        check(quantize_to("det0.tflite", "--calib-method", "percentile=100") == quantize_to("det1.tflite"),
              "percentile=100 and the default minmax give different models")
        with open(r.out, "wb") as f:
            f.write(SENTINEL)
        rc, out, err = r.run(fmodel, "--calib", photos, "--mean", "0", "--std", "255", "--io", "int8", "-q",
                             "-o", r.out)
        check(rc == 0 and open(r.out, "rb").read() == open(outs[1], "rb").read(),
              "a successful run over an existing OUT: exit %d, OUT not the quantized model" % rc)
        # --allow-float keeps the custom op in float; it reads the float graph input
        # directly (an int8 round trip in front of it would only lose precision).
        rc, out, err = r.run(custom, "--allow-float", "-q", "-o", r.out)
        check(rc == 0, "--allow-float with a custom op: exit %d: %s" % (rc, err.strip()))
        p = subprocess.run([etpu, "inspect", "--json", r.out], capture_output=True, text=True, timeout=120)
        ops = [o.get("custom_code") or o.get("type") for o in json.loads(p.stdout)["subgraphs"][0]["ops"]] \
            if p.returncode == 0 else []
        check(ops == ["CustomTestOp"],
              "--allow-float with a custom op: ops %r, wanted the float CustomTestOp alone" % ops)
        left = sorted(os.listdir(r.outdir))
        check(left == ["det0.tflite", "det1.tflite", "out.tflite"], "files left in the output folder: %r" % left)

    for p, h in hashes.items():
        check(sha256(p) == h, "input model %s was modified" % p)
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
