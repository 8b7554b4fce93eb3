#!/usr/bin/env python3
"""arch_digests.py — SHA-256 digests of what etpu writes and prints for the
shared models, for byte equality across architectures (issue 19).

It runs, on ../shared/data: `etpu inspect --json` of every .tflite;
`etpu compile` of every Coral source model (the _edgetpu.tflite and its
.log); `etpu run` of classification, segmentation, pose and compiled models
on the shared photos (BMP and JPEG) with both arithmetic profiles, and of a
float model; `etpu quantize` of float models on shared photos (min/max, MSE,
GPTQ with bias correction); `etpu imprint
--make-model` on libcoral's imprinting images. Each line of the output file
is a label and the SHA-256 of the bytes (files written, the temporary
output folder's name replaced; stdout for inspect), or the exit status when a command fails, so a failure is compared
too. The output is written atomically.

With --reference FILE (the digests of another build, e.g. x86-64's, that
.ci/run passes to the aarch64 and armhf builds), every line must be equal:
a missing, extra or different digest fails the test and is printed.
Exit 77 (skipped) without the shared data unless ETPU_REQUIRE_SHARED_DATA=1.
Python standard library only.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile

# (model under coral/, image under coral/): classification, segmentation,
# pose, JPEG decoding. The models etpu compiles are run too (COMPILED_RUN).
RUN_CASES = [
    ("mobilenet_v1_0.25_128_quant.tflite", "cat.bmp"),
    ("mobilenet_v2_1.0_224_quant.tflite", "grace_hopper.bmp"),
    ("mobilenet_edgetpu_0.75_224_post_training_quant.tflite", "dragonfly.bmp"),
    ("tf2_mobilenet_v2_1.0_224_ptq.tflite", "cat_720p.jpg"),
    ("deeplabv3_mnv2_dm05_pascal_quant.tflite", "bird_segmentation.bmp"),
    ("movenet_single_pose_lightning_ptq.tflite", "face.jpg"),
]
COMPILED_RUN = [("mobilenet_v1_0.25_128_quant", "cat.bmp"), ("deeplabv3_mnv2_dm05_pascal_quant", "bird_segmentation.bmp")]
FLOAT_RUN = ("float/vww_96_float.tflite", "float/images/burger.jpg")
# (float model, extra flags): TensorFlow's min/max; MSE ranges; GPTQ weight
# rounding and bias correction in double precision (the quantizer's float
# code paths, whose bytes must not depend on the target's FPU).
QUANT_CASES = [("float/vww_96_float.tflite", []), ("float/vww_96_float.tflite", ["--calib-method", "mse"]),
               ("float/mobilenet_v1_0.25_128.tflite", ["--gptq", "--bias-correct"])]
EXTRACTOR = "coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Digests:
    def __init__(self, etpu, shared):
        self.etpu = etpu
        self.shared = shared
        self.lines = []

    def run(self, args):
        # From the shared folder, with paths relative to it: what etpu prints
        # and records is the same wherever the data lies.
        return subprocess.run([self.etpu] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900,
                              cwd=self.shared)

    def add(self, label, value):
        self.lines.append("%s %s" % (label, value))

    def files(self, label, args, outdir):
        """Run etpu; digest every file it wrote into outdir (sorted), or its exit status."""
        r = self.run(args)
        if r.returncode != 0:
            self.add(label, "exit %d" % r.returncode)
            print("%s: exit %d: %s" % (label, r.returncode, r.stderr.decode(errors="replace").strip()[:300]))
            return
        for name in sorted(os.listdir(outdir)):
            with open(os.path.join(outdir, name), "rb") as f:
                data = f.read()
            # compile's .log names its output: the folder is a temporary one
            self.add("%s:%s" % (label, name), sha(data.replace(outdir.encode(), b"OUT")))


def collect(etpu, shared, tmp):
    d = Digests(etpu, shared)
    models = []
    for root, dirs, names in os.walk(shared, onerror=lambda e: (_ for _ in ()).throw(e)):
        dirs.sort()
        models += [os.path.join(root, n) for n in sorted(names) if n.endswith(".tflite")]
    for m in models:
        rel = os.path.relpath(m, shared)
        r = d.run(["inspect", "--json", rel])
        d.add("inspect:" + rel, sha(r.stdout) if r.returncode == 0 else "exit %d" % r.returncode)
    compiled = {}
    for n in sorted(os.listdir(os.path.join(shared, "coral"))):
        if not n.endswith(".tflite") or n.endswith("_edgetpu.tflite"):
            continue
        out = compiled[n[:-len(".tflite")]] = tempfile.mkdtemp(dir=tmp)
        d.files("compile:" + n, ["compile", "-o", out, os.path.join("coral", n)], out)
    runs = [(os.path.join("coral", m), os.path.join("coral", i)) for m, i in RUN_CASES]
    runs += [(os.path.join(compiled[m], m + "_edgetpu.tflite"), os.path.join("coral", i)) for m, i in COMPILED_RUN]
    for model, image in runs:
        label = os.path.basename(model) + ":" + image
        for profile in ("litert", "tflite-ref"):
            out = tempfile.mkdtemp(dir=tmp)
            d.files("run:%s:%s" % (label, profile),
                    ["run", model, "--input", image, "--profile", profile, "-o", out], out)
    out = tempfile.mkdtemp(dir=tmp)
    d.files("run:%s:%s" % FLOAT_RUN, ["run", FLOAT_RUN[0], "--input", FLOAT_RUN[1], "-o", out], out)
    for model, flags in QUANT_CASES:
        out = tempfile.mkdtemp(dir=tmp)
        d.files("quantize:%s:%s" % (model, " ".join(flags)),
                ["quantize", model, "--calib", os.path.join("float", "images"), "-o", os.path.join(out, "q.tflite")] +
                flags, out)
    out = tempfile.mkdtemp(dir=tmp)
    img = os.path.join("coral", "imprinting")
    d.files("imprint:" + EXTRACTOR, ["imprint", "--make-model", EXTRACTOR, "--class",
                                     "cat=" + os.path.join(img, "cat_train_0.bmp"), "--class",
                                     "hotdog=" + os.path.join(img, "hotdog_train_0.bmp"), "-o",
                                     os.path.join(out, "imprinted.tflite")], out)
    return d.lines, len(models)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etpu", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("-o", "--output", required=True, help="where the digests are written")
    ap.add_argument("--reference", help="digests of another build that must be equal")
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(args.shared, "coral")):
        required = os.environ.get("ETPU_REQUIRE_SHARED_DATA", "") == "1"
        print("arch_digests: no shared data at %s; %s" % (args.shared, "failing" if required else "skipping"))
        return 1 if required else 77
    with tempfile.TemporaryDirectory(prefix="etpu_digests_") as tmp:
        lines, nmodels = collect(args.etpu, args.shared, tmp)
    text = "".join(line + "\n" for line in lines)
    tmp_out = args.output + ".tmp"
    with open(tmp_out, "w") as f:
        f.write(text)
    os.replace(tmp_out, args.output)
    print("arch_digests: %d digests (%d models inspected) written to %s" % (len(lines), nmodels, args.output))
    if not args.reference:
        return 0
    with open(args.reference) as f:
        ref = f.read().splitlines()
    if not ref:
        print("arch_digests: the reference %s is empty" % args.reference)
        return 1
    ref_map = dict(line.rsplit(" ", 1) if " " in line else (line, "") for line in ref)
    got_map = dict(line.rsplit(" ", 1) for line in lines)
    bad = 0
    for label in sorted(set(ref_map) | set(got_map)):
        if ref_map.get(label) != got_map.get(label):
            bad += 1
            print("DIFFERS %s: reference %s, this build %s" % (label, ref_map.get(label, "(missing)"),
                                                               got_map.get(label, "(missing)")))
    print("arch_digests: %d of %d digests equal the reference %s" % (len(ref_map) - bad, len(ref_map),
                                                                     args.reference))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
