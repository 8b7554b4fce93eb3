#!/usr/bin/env python3
"""learn_cli.py — `etpu imprint`, `etpu train` and `etpu extract` from the outside.

On libcoral's imprinting images (coral/imprinting/ in the shared data) and
Coral's embedding extractor (mobilenet_v1_1.0_224_quant_embedding_extractor):

  - `etpu imprint --make-model` makes the imprinting model; imprinting on it
    as libcoral's RealImagesTraining: --class cat=... -> 0, hotdog=... -> 1,
    with the labels file beside the model; then `etpu imprint` re-run on its
    own output with --keep-classes adds hotdog_train_1 to the kept hotdog
    class and dog_train_0 as class 2; `etpu run` puts each test image in its
    class above libcoral's 0.99 (scores printed beside it). Re-opened
    without --keep-classes, the classes start again
    (TrainImprintedRetrained...). `--make` with `--class ID PATH` gives the
    bytes of the two steps;
  - `etpu train --data DIR` (a subfolder per class, --val 0.5, --iters)
    puts the held-out dog image in its class, with the labels file;
  - the same command twice gives the same bytes (imprint, imprint
    --keep-classes, train); another --seed gives other bytes;
  - `etpu compile` of both outputs: one edgetpu-custom-op holding the
    extractor, then the learned layer on the CPU (L2Norm, Conv2D, Mul,
    Reshape, Softmax; FullyConnected, Reshape, Softmax), as libcoral's
    retrained models; `etpu run` of the compiled model prints the scores of
    the uncompiled one;
  - `etpu extract` writes one row per image;
  - models, labels files and .npy outputs get mode 0666 less the umask
    (umask 022 and 002);
  - errors, each one line on stderr naming the problem, with exit 1 (a
    model or image breaks a rule), 2 (usage, the README's table: an empty
    class, i.e. a gap in the ids, an empty folder, an empty --data
    subfolder; a class name given twice) or 3 (I/O): a model without the
    imprinting tail (libcoral's message), an unreadable and a missing image,
    a missing model, mixed class forms, a classifier
    (mobilenet_v1_0.25_128_quant, its output a SOFTMAX) given to train,
    imprint --make-model or extract, an output folder that does not exist or
    a labels path that is a folder (reported before any image is read); the
    input model's
    bytes never change, and a failed command leaves an existing output file
    as it was and no other file behind (the output is written atomically).

Prints each check, then "N passed, N failed"; exits 1 on any failure, 77
(skipped) without the shared data unless ETPU_REQUIRE_SHARED_DATA=1.
Standard library only.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

PASSED = 0
FAILED = 0


def check(cond, what, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print("ok   %s" % what)
    else:
        FAILED += 1
        print("FAIL %s%s" % (what, ("\n  " + detail.strip().replace("\n", "\n  ")) if detail else ""))
    sys.stdout.flush()


def etpu(*args):
    r = subprocess.run([ETPU] + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=1200)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def scores(model, image):
    """etpu run MODEL IMAGE (tflite-ref) -> {class: score}, or None with the output."""
    rc, out, err = etpu("run", model, "--input", image, "--top", "0", "--profile", "tflite-ref", "--json")
    if rc != 0:
        return None, out + err
    try:
        j = json.loads(out)
        vals = j["outputs"][0]["values"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None, out
    return vals, out


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def expect_fail(what, code, needle, args, output=None, inputs=()):
    """Run etpu ARGS; it must exit `code` with one stderr line containing
    `needle`, leave the inputs' bytes and an existing output as they were,
    and create no other file beside the output."""
    before = {p: sha(p) for p in inputs}
    folder = os.path.dirname(output) if output else None
    if output:
        with open(output, "wb") as f:
            f.write(b"previous contents")
        listing = sorted(os.listdir(folder))
    rc, out, err = etpu(*args)
    problems = []
    if rc != code:
        problems.append("exit %d, wanted %d" % (rc, code))
    if needle not in err:
        problems.append("stderr lacks %r" % needle)
    if len([l for l in err.splitlines() if l.startswith("etpu: error")]) != 1:
        problems.append("wanted exactly one 'etpu: error' line")
    for p, h in before.items():
        if sha(p) != h:
            problems.append("input %s was modified" % p)
    if output:
        with open(output, "rb") as f:
            if f.read() != b"previous contents":
                problems.append("the existing output %s was overwritten" % output)
        if sorted(os.listdir(folder)) != listing:
            problems.append("files appeared: %s" % sorted(set(os.listdir(folder)) - set(listing)))
    check(not problems, what, "; ".join(problems) + "\n" + out + err)


def main():
    global ETPU
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--etpu", required=True)
    ap.add_argument("--shared", required=True)
    a = ap.parse_args()
    ETPU = a.etpu
    shared = os.environ.get("ETPU_SHARED_DATA", a.shared)
    X = os.path.join(shared, "coral", "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite")
    I = os.path.join(shared, "coral", "imprinting")
    if not os.path.isfile(X) or not os.path.isdir(I):
        required = os.environ.get("ETPU_REQUIRE_SHARED_DATA", "") == "1"
        print("learn_cli: no shared data at %s; %s" % (shared, "failing" if required else "skipping"), file=sys.stderr)
        sys.exit(1 if required else 77)

    def img(name):
        return os.path.join(I, name + ".bmp")

    x_hash = sha(X)
    with tempfile.TemporaryDirectory(prefix="etpu_learn_cli_") as tmp:
        def o(name):
            return os.path.join(tmp, name)

        # --- imprinting, RealImagesTraining through the CLI -----------------
        rc, out, err = etpu("imprint", "--make-model", X, "-o", o("m.tflite"))
        check(rc == 0 and os.path.isfile(o("m.tflite")), "imprint --make-model: the imprinting model alone", out + err)
        base_args = ["imprint", o("m.tflite"), "--class", "cat=" + img("cat_train_0"),
                     "--class", "hotdog=" + img("hotdog_train_0")]
        rc, out, err = etpu(*(base_args + ["-o", o("b.tflite")]))
        check(rc == 0 and "2 classes" in out and read(o("b.txt")) == "0  cat\n1  hotdog\n",
              "imprint --class NAME=PATH: cat 0, hotdog 1, labels beside the model", out + err)
        rc, out, err = etpu(*(base_args + ["-o", o("b2.tflite")]))
        check(rc == 0 and sha(o("b.tflite")) == sha(o("b2.tflite")), "imprint twice: the same bytes", out + err)
        rc, out, err = etpu("imprint", X, "--make", "-o", o("b3.tflite"), "--class", 0, img("cat_train_0"),
                            "--class", 1, img("hotdog_train_0"))
        check(rc == 0 and sha(o("b.tflite")) == sha(o("b3.tflite")),
              "imprint --make with --class ID PATH: the same bytes as the two steps", out + err)
        b_hash = sha(o("b.tflite"))
        keep_args = ["imprint", o("b.tflite"), "--keep-classes", "--class", "hotdog=" + img("hotdog_train_1"),
                     "--class", "dog=" + img("dog_train_0")]
        rc, out, err = etpu(*(keep_args + ["-o", o("c.tflite")]))
        check(rc == 0 and re.search(r"kept 2 classes.*\n(.*\n)*class 1 hotdog: 1 image\n(.*\n)*3 classes", out)
              is not None and read(o("c.txt")) == "0  cat\n1  hotdog\n2  dog\n",
              "imprint --keep-classes on its own output: hotdog extended, dog added as 2", out + err)
        rc, out, err = etpu(*(keep_args + ["-o", o("c2.tflite")]))
        check(rc == 0 and sha(o("c.tflite")) == sha(o("c2.tflite")), "imprint --keep-classes twice: the same bytes",
              out + err)
        check(sha(o("b.tflite")) == b_hash and sha(X) == x_hash, "the input models are unchanged")
        c_scores = {}
        for name, cls in (("cat_test_0", 0), ("hotdog_test_0", 1), ("dog_test_0", 2)):
            vals, text = scores(o("c.tflite"), img(name))
            ok = vals is not None and len(vals) == 3 and max(range(3), key=lambda k: vals[k]) == cls \
                and vals[cls] > 0.99
            c_scores[name] = vals
            print("     RealImagesTraining (CLI, --keep-classes) %s -> class %d: %s (libcoral: > 0.99)" %
                  (name, cls, "%.3f" % vals[cls] if vals else "?"))
            check(ok, "kept model: %s -> class %d above 0.99" % (name, cls), text)
        # Re-opened without --keep-classes: the ids start again at 0.
        rc, out, err = etpu("imprint", o("b.tflite"), "-o", o("d.tflite"), "--class", 0, img("hotdog_train_0"),
                            "--class", 1, img("dog_train_0"))
        check(rc == 0 and "kept" not in out and "2 classes" in out, "imprint without --keep-classes: 2 new classes",
              out + err)
        vals, text = scores(o("d.tflite"), img("dog_test_0"))
        print("     TrainImprintedRetrained (CLI) dog_test_0 -> class 1: %s (libcoral: > 0.99)" %
              ("%.3f" % vals[1] if vals else "?"))
        check(vals is not None and len(vals) == 2 and vals[1] > 0.99, "retrained from scratch: dog_test_0 -> 1", text)

        # --- compiled imprinted model ----------------------------------------
        rc, out, err = etpu("compile", "-o", tmp, o("c.tflite"))
        ce = o("c_edgetpu.tflite")
        check(rc == 0 and os.path.isfile(ce) and "it belongs to the on-device learning layer that reads" in out,
              "etpu compile of the imprinted model: says why the layer stays on the CPU", out + err)
        if os.path.isfile(ce):
            rc, out, err = etpu("inspect", "--json", ce)
            ops = []
            if rc == 0:
                ops = [op.get("custom_code") or op["type"] for op in json.loads(out)["subgraphs"][0]["ops"]]
            want = ["edgetpu-custom-op", "L2_NORMALIZATION", "CONV_2D", "MUL", "RESHAPE", "SOFTMAX"]
            check(ops == want,
                  "compiled imprinted model: custom op, then the imprinting tail on the CPU", "ops: %s" % ops)
            vals, text = scores(ce, img("cat_test_0"))
            check(vals is not None and vals == c_scores.get("cat_test_0"),
                  "compiled imprinted model runs to the uncompiled scores", "%s vs %s\n%s" %
                  (vals, c_scores.get("cat_test_0"), text))

        # --- softmax regression ----------------------------------------------
        data = o("data")
        for cls, names in (("cat", ("cat_train_0", "cat_test_0")), ("dog", ("dog_train_0", "dog_test_0"))):
            os.makedirs(os.path.join(data, cls))
            for n in names:
                os.symlink(img(n), os.path.join(data, cls, n + ".bmp"))
        train_args = ["train", X, "--data", data, "--iters", 20, "--batch", 4, "--val", 0.5]
        rc, out, err = etpu(*(train_args + ["-o", o("t.tflite")]))
        check(rc == 0 and "2 training and 2 validation images, 2 classes" in out and
              read(o("t.txt")) == "0  cat\n1  dog\n", "train --data: cat 0, dog 1, half for validation, labels",
              out + err)
        rc, out, err = etpu(*(train_args + ["-o", o("t2.tflite")]))
        check(rc == 0 and sha(o("t.tflite")) == sha(o("t2.tflite")), "train twice (seed 1): the same bytes", out + err)
        rc, out, err = etpu(*(train_args + ["--seed", 2, "-o", o("t3.tflite")]))
        check(rc == 0 and sha(o("t.tflite")) != sha(o("t3.tflite")), "train --seed 2: other bytes", out + err)
        t_vals, text = scores(o("t.tflite"), img("dog_train_0"))
        check(t_vals is not None and len(t_vals) == 2 and t_vals[1] > t_vals[0],
              "trained layer: dog_train_0 (held out for validation) -> 1", text)
        rc, out, err = etpu("compile", "-o", tmp, o("t.tflite"))
        te = o("t_edgetpu.tflite")
        check(rc == 0 and os.path.isfile(te) and "it belongs to the on-device learning layer that reads" in out,
              "etpu compile of the trained model: says why the layer stays on the CPU", out + err)
        if os.path.isfile(te):
            rc, out, err = etpu("inspect", "--json", te)
            ops = []
            if rc == 0:
                ops = [op.get("custom_code") or op["type"] for op in json.loads(out)["subgraphs"][0]["ops"]]
            want = ["edgetpu-custom-op", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"]
            check(ops == want,
                  "compiled trained model: custom op, then FC, RESHAPE, SOFTMAX on the CPU", "ops: %s" % ops)
            vals, text = scores(te, img("dog_train_0"))
            check(vals is not None and vals == t_vals, "compiled trained model runs to the uncompiled scores",
                  "%s vs %s\n%s" % (vals, t_vals, text))

        # --- extract ----------------------------------------------------------
        rc, out, err = etpu("extract", X, I, "-o", o("e.npy"))
        check(rc == 0 and "7 embeddings of 1024 values" in out, "extract: a folder of 7 images", out + err)

        # --- errors -------------------------------------------------------------
        os.mkdir(o("errs"))
        os.mkdir(o("empty"))
        bad = o("not_an_image.bmp")
        with open(bad, "wb") as f:
            f.write(b"this is not a BMP file\n")
        out_path = os.path.join(o("errs"), "out.tflite")
        expect_fail("imprint: a model without the imprinting tail", 1,
                    "Unsupported model architecture. Input model must have an L2Norm layer.",
                    ["imprint", X, "-o", out_path, "--class", 0, img("cat_train_0")], out_path, [X])
        expect_fail("imprint: an empty class (a gap in the ids)", 2, "class 1 has no images",
                    ["imprint", X, "--make", "-o", out_path, "--class", 0, img("cat_train_0"),
                     "--class", 2, img("dog_train_0")], out_path, [X])
        expect_fail("imprint --keep-classes: an empty class after the kept ones", 2, "class 2 has no images",
                    ["imprint", o("b.tflite"), "--keep-classes", "-o", out_path, "--class", 3, img("dog_train_0")],
                    out_path, [o("b.tflite")])
        expect_fail("imprint: an empty folder", 2, "no .bmp, .png or .jpg images",
                    ["imprint", X, "--make", "-o", out_path, "--class", 0, o("empty")], out_path, [X])
        expect_fail("imprint: an unreadable image", 1, bad,
                    ["imprint", X, "--make", "-o", out_path, "--class", 0, bad], out_path, [X])
        expect_fail("imprint: a missing image", 3, o("missing.bmp"),
                    ["imprint", X, "--make", "-o", out_path, "--class", 0, o("missing.bmp")], out_path, [X])
        expect_fail("imprint: a model that does not exist", 3, o("nothing.tflite"),
                    ["imprint", o("nothing.tflite"), "-o", out_path, "--class", 0, img("cat_train_0")], out_path)
        expect_fail("train: an empty class (a gap in the ids)", 2, "class 1 has no images",
                    ["train", X, "-o", out_path, "--class", 0, img("cat_train_0"), "--class", 2, img("dog_train_0")],
                    out_path, [X])
        expect_fail("train: an unreadable image", 1, bad,
                    ["train", X, "-o", out_path, "--class", 0, img("cat_train_0"), "--class", 1, bad], out_path, [X])
        os.makedirs(os.path.join(o("data_gap"), "cat"))
        os.makedirs(os.path.join(o("data_gap"), "dog"))
        os.symlink(img("cat_train_0"), os.path.join(o("data_gap"), "cat", "a.bmp"))
        expect_fail("train --data: an empty class folder", 2, "no .bmp, .png or .jpg images",
                    ["train", X, "-o", out_path, "--data", o("data_gap")], out_path, [X])
        expect_fail("imprint: --class ID and NAME=PATH mixed", 2, "not both",
                    ["imprint", o("m.tflite"), "-o", out_path, "--class", 0, img("cat_train_0"),
                     "--class", "dog=" + img("dog_train_0")], out_path, [o("m.tflite")])
        expect_fail("imprint: an image before any --class", 2, "comes before any --class",
                    ["imprint", X, "--make", "-o", out_path, img("cat_train_0")], out_path, [X])
        # Issue #16 item 4: a class name given twice, and a classifier (softmax
        # output) given as the embedding extractor.
        expect_fail("imprint: a class name given twice", 2, "class 'cat' is given twice",
                    ["imprint", o("m.tflite"), "-o", out_path, "--class", "cat=" + img("cat_train_0"),
                     "--class", "cat=" + img("cat_test_0")], out_path, [o("m.tflite")])
        expect_fail("train: a class name given twice", 2, "--class cat=" + img("cat_train_0"),
                    ["train", X, "-o", out_path, "--class", "cat=" + img("cat_train_0"),
                     "--class", "dog=" + img("dog_train_0"), "--class", "cat=" + img("cat_test_0")],
                    out_path, [X])
        cls = os.path.join(shared, "coral", "mobilenet_v1_0.25_128_quant.tflite")
        check(os.path.isfile(cls), "classifier model present: %s" % cls)
        if os.path.isfile(cls):
            for cmd in (["train", cls, "-o", out_path, "--class", "cat=" + img("cat_train_0"),
                         "--class", "dog=" + img("dog_train_0")],
                        ["imprint", "--make-model", cls, "-o", out_path],
                        ["extract", cls, img("cat_train_0"), "-o", out_path]):
                expect_fail("%s: a classifier as the embedding extractor" % cmd[0], 1,
                            "comes from op 30 SOFTMAX: this is a classifier", cmd, out_path, [cls])
        # Issue #16 item 9: the outputs are checked before any work, so a bad
        # image (which the work would meet first) is not what is reported.
        nodir = o("no_such_folder")
        for cmd in (["train", X, "-o", os.path.join(nodir, "t.tflite"), "--class", "a=" + bad,
                     "--class", "b=" + img("dog_train_0")],
                    ["imprint", o("m.tflite"), "-o", os.path.join(nodir, "i.tflite"), "--class", "a=" + bad],
                    ["extract", X, bad, "-o", os.path.join(nodir, "x.npy")]):
            expect_fail("%s: output folder missing, reported before the work" % cmd[0], 3,
                        os.path.join(nodir, ""), cmd, None, [X])
        # The labels file's path is a folder: refused before training, nothing written.
        os.mkdir(o("lab.txt"))
        expect_fail("train: the labels path is a folder, reported before the work", 3, o("lab.txt") + ": cannot write",
                    ["train", X, "-o", o("lab.tflite"), "--class", "a=" + bad, "--class", "b=" + img("dog_train_0")])
        check(not os.path.exists(o("lab.tflite")), "train with a folder as labels path wrote no model")
        check(not os.path.exists(nodir), "no output folder was created")

        # Issue #16 item 8: every output gets 0666 less the umask, as any file
        # the user creates (the labels file was 0600 from mkstemp).
        for mask in (0o022, 0o002):
            outs = {}
            for cmd, made in ((["imprint", o("m.tflite"), "-o", o("u.tflite"), "--class", "cat=" + img("cat_train_0")],
                               ("u.tflite", "u.txt")),
                              (["train", X, "-o", o("v.tflite"), "--iters", 2, "--class", "a=" + img("cat_train_0"),
                                "--class", "b=" + img("dog_train_0")], ("v.tflite", "v.txt")),
                              (["extract", X, img("cat_train_0"), "-o", o("w.npy")], ("w.npy",))):
                for f in made:
                    if os.path.exists(o(f)):
                        os.remove(o(f))
                r = subprocess.run([ETPU] + [str(a) for a in cmd], capture_output=True, preexec_fn=lambda: os.umask(mask),
                                   timeout=1200)
                for f in made:
                    outs[f] = (os.stat(o(f)).st_mode & 0o777) if r.returncode == 0 and os.path.exists(o(f)) else None
            want = 0o666 & ~mask
            check(all(m == want for m in outs.values()), "umask %03o: every output has mode %03o" % (mask, want),
                  " ".join("%s %s" % (f, "missing" if m is None else "%03o" % m) for f, m in sorted(outs.items())))

        check(sha(X) == x_hash, "the extractor is unchanged after every command")

    print("%d passed, %d failed" % (PASSED, FAILED))
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
