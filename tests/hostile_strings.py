#!/usr/bin/env python3
"""hostile_strings.py — strings from files cannot attack the terminal or break JSON.

Builds, with tests/hostile_names.c, models whose tensor, subgraph and
metadata names and description hold every byte 0x01-0xff and ANSI escape
sequences (the demo model renamed, the demo with a hostile custom op, a
float model), a labels file, class names, calibration files and folders
with such names, and feeds them to every subcommand that prints:
inspect (text, --json), compile (console, .log, --json), run (text, --json,
with labels), quantize (report), imprint and train (class names), extract,
visualize (the HTML page, html_check.py: only the page's own tags and
attributes, well formed, the names shown escaped), and error messages that
quote such names. For every output (stdout, stderr
and the .log) it checks: valid UTF-8; no raw control byte (0x00-0x1f but
\\n and \\t, 0x7f); no C1 code point (U+0080-U+009F); JSON parses with
Python's json module; and the escaped form of the names (\\x1b, \\xff)
appears, so the names were printed, not dropped.

With the shared data (--shared), Coral's MobileNet v1 0.25 is renamed the
same way, metadata names included, and inspected, compiled and run.

Prints each failure, then "N passed, N failed"; exits 1 if any failed.
Python 3 standard library only; without the shared data the real-model
checks are left out with a note (they fail when ETPU_REQUIRE_SHARED_DATA=1).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import html_check
from cli_util import Tally, write_bmp

T = Tally()
result = T.result

ATTACK = b"\x1b[2J\x1b]0;owned\x07\xc2\x9b31m\xe2\x80\xae\xc0\x80"
ALL_BYTES = bytes(range(1, 256))


def clean_problems(what, data):
    """Problems with bytes a terminal or a JSON parser would receive."""
    out = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return ["%s: invalid UTF-8 at byte %d: %r" % (what, e.start, data[max(0, e.start - 20):e.start + 20])]
    for i, ch in enumerate(text):
        c = ord(ch)
        if (c < 0x20 and ch not in "\n\t") or c == 0x7F or 0x80 <= c <= 0x9F:
            out.append("%s: raw control U+%04X at character %d: %r" % (what, c, i, text[max(0, i - 20):i + 20]))
            break
    return out


def run(cmd, cwd=None):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, timeout=300)


def check(name, cmd, want_rc=0, json_out=False, must_show=True, files=()):
    r = run(cmd)
    problems = []
    if r.returncode < 0:
        problems.append("killed by signal %d" % -r.returncode)
    elif want_rc is not None and r.returncode != want_rc:
        problems.append("exit %d, want %d; stderr: %r" % (r.returncode, want_rc, r.stderr[-400:]))
    problems += clean_problems("stdout", r.stdout)
    problems += clean_problems("stderr", r.stderr)
    for f in files:
        if not os.path.exists(f):
            problems.append("%s was not written" % f)
            continue
        with open(f, "rb") as fh:
            problems += clean_problems(os.path.basename(f), fh.read())
    if json_out and not problems:
        try:
            json.loads(r.stdout.decode("utf-8"))
        except ValueError as e:
            problems.append("stdout is not one JSON document: %s" % e)
    if must_show and not problems:
        both = r.stdout + r.stderr
        if b"\\x1b" not in both and b"\\u001b" not in both:
            problems.append("no escaped ESC in the output: the hostile names were not printed")
    result(name, problems)
    return r


def check_page(name, etpu, model, out):
    """etpu visualize MODEL -o OUT (a hostile path): its output as check()'s,
    and the page: well formed with only its own tags and attributes, the
    hostile names shown (escaped)."""
    r = check(name + ": the command", [etpu, "visualize", model, "-o", out])
    if r.returncode != 0:
        return
    with open(out, "rb") as f:
        data = f.read()
    problems = html_check.problems(data)
    if b"\\x1b" not in data:
        problems.append("no escaped ESC in the page: the hostile names were not shown")
    result(name + ": the page", problems)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etpu", required=True)
    ap.add_argument("--helper", required=True)
    ap.add_argument("--shared", help="the shared data folder: adds a real model with metadata")
    args = ap.parse_args()
    etpu, helper = args.etpu, args.helper

    with tempfile.TemporaryDirectory() as tmp:
        t = tmp.encode()

        def p(*parts):
            return os.path.join(t, *[x if isinstance(x, bytes) else x.encode() for x in parts])

        demo, bad, custom, flt = p("demo.tflite"), p("hostile.tflite"), p("custom.tflite"), p("float.tflite")
        # imprint, train and extract take the demo's embedding extractor, renamed
        # the same way (they refuse the classifier itself: its output is a SOFTMAX).
        ext, badext = p("extractor.tflite"), p("hostile_extractor.tflite")
        for cmd in ([etpu, "demo", demo], [helper, "rename", demo, bad], [helper, "custom", demo, custom],
                    [helper, "float", flt], [etpu, "demo", "--extractor", ext], [helper, "rename", ext, badext]):
            r = run(cmd)
            if r.returncode != 0:
                print("setup failed: %r: %s" % (cmd, r.stderr.decode("utf-8", "replace")))
                return 1

        # Every byte is in the model; the test is only as good as that.
        with open(bad, "rb") as f:
            data = f.read()
        missing = [b for b in range(1, 256) if bytes([b]) not in data]
        result("the hostile model holds every byte 0x01-0xff", ["missing %s" % missing] if missing else [])

        for m, label in ((bad, "renamed demo"), (custom, "hostile custom op")):
            check("inspect text (%s)" % label, [etpu, "inspect", m])
            check("inspect --json (%s)" % label, [etpu, "inspect", "--json", m], json_out=True)

        # compile: console (with -s), .log, --json; the custom op is not mapped and names its code.
        outdir = p("out")
        os.mkdir(outdir)
        logf = os.path.join(outdir, b"hostile_edgetpu.log")
        check("compile -s console and .log", [etpu, "compile", "-s", "-o", outdir, bad], files=[logf], must_show=False)
        check("compile --json", [etpu, "compile", "--json", "-o", outdir, bad], json_out=True)
        clog = os.path.join(outdir, b"custom_edgetpu.log")
        check("compile console, unmapped hostile custom op", [etpu, "compile", "-s", "-o", outdir, custom],
              files=[clog])
        check("compile --json, unmapped hostile custom op", [etpu, "compile", "--json", "-o", outdir, custom],
              json_out=True)

        # visualize: the hostile models, uncompiled, compiled by etpu (the
        # payload's names are hostile too) and refused by the compiler.
        check_page("visualize (renamed demo)", etpu, bad, p(b"page\x1b[2J\xff.html"))
        check_page("visualize (hostile custom op)", etpu, custom, p(b"custom\x1b[2J\xff.html"))
        check_page("visualize (etpu-compiled hostile model)", etpu, os.path.join(outdir, b"hostile_edgetpu.tflite"),
                   p(b"compiled\x1b[2J\xff.html"))
        check_page("visualize (float model the compiler refuses)", etpu, flt, p(b"float\x1b[2J\xff.html"))

        # run: image and labels with hostile names.
        img = p(b"img\x1b[2J\xff.bmp")
        write_bmp(img, 32, 32, 1)
        labels = p("labels.txt")
        with open(labels, "wb") as f:
            for k in range(10):
                f.write(b"cls%d " % k + ALL_BYTES[k * 26:(k + 1) * 26].replace(b"\n", b"").replace(b"\r", b"")
                        .replace(b"\0", b"") + ATTACK + b"\n")
        check("run text, labels", [etpu, "run", bad, "--input", img, "--labels", labels, "--top", "10"])
        check("run --json, labels", [etpu, "run", bad, "--input", img, "--labels", labels, "--top", "10", "--json"],
              json_out=True)

        # quantize: hostile tensor names in the report; hostile calibration file names.
        calib = p(b"calib\x1b[31m")
        os.mkdir(calib)
        for k in range(3):
            write_bmp(os.path.join(calib, b"s%d\x1b]0;x\x07\xff.bmp" % k), 8, 8, k)
        check("quantize report", [etpu, "quantize", flt, "--calib", calib, "-o", p("q.tflite")])
        # A calibration sample that is not an image: the error quotes its name.
        badcal = p(b"badcal")
        os.mkdir(badcal)
        with open(os.path.join(badcal, b"x\x1b[2J\xff.bmp"), "wb") as f:
            f.write(b"BMnot really")
        check("quantize error quoting a sample name", [etpu, "quantize", flt, "--calib", badcal, "-o", p("q2.tflite")],
              want_rc=1)

        # imprint and train with hostile class names and folders.
        c1, c2 = p(b"A\x1b[2J\xff"), p(b"B\xc2\x9b\x07")
        for k, d in enumerate((c1, c2)):
            os.mkdir(d)
            for j in range(3):
                write_bmp(os.path.join(d, b"i%d.bmp" % j), 32, 32, 10 * k + j)
        n1 = b"cat" + ATTACK + ALL_BYTES[:40].replace(b"=", b"")
        n2 = b"dog" + ATTACK + ALL_BYTES[128:]
        imp = p("imp.tflite")
        check("imprint --make-model", [etpu, "imprint", "--make-model", badext, "-o", imp], files=[], must_show=False)
        check("imprint with hostile class names",
              [etpu, "imprint", imp, "-o", p("imp2.tflite"), "--class", n1 + b"=" + c1, "--class", n2 + b"=" + c2])
        check("train with hostile class names",
              [etpu, "train", badext, "-o", p("tr.tflite"), "--class", n1 + b"=" + c1, "--class", n2 + b"=" + c2,
               "--iters", "5", "--report", "0"], must_show=False)
        check("extract from a hostile folder", [etpu, "extract", badext, c1, "-o", p("e.npy")], must_show=False)
        check("run the trained model with its labels",
              [etpu, "run", p("tr.tflite"), "--input", img, "--labels", p("tr.txt")])

        # A real model with metadata (Coral's MobileNet: its metadata names
        # and description made hostile too), when the shared data is here.
        real = os.path.join((args.shared or "").encode(), b"coral", b"mobilenet_v1_0.25_128_quant.tflite")
        if os.path.exists(real):
            hreal = p("real.tflite")
            r = run([helper, "rename", real, hreal])
            result("rename a real model's tensors, metadata and description", [r.stderr.decode()] if r.returncode else [])
            check("inspect text (real model, metadata names)", [etpu, "inspect", hreal])
            check("inspect --json (real model, metadata names)", [etpu, "inspect", "--json", hreal], json_out=True)
            check("compile --json (real model)", [etpu, "compile", "--json", "-o", outdir, hreal], json_out=True,
                  must_show=False)
            check("run --json (real model)", [etpu, "run", hreal, "--input", img, "--json"], json_out=True)
            check_page("visualize (real model, metadata names)", etpu, hreal, p(b"real\x1b[2J\xff.html"))
        elif os.environ.get("ETPU_REQUIRE_SHARED_DATA") == "1":
            result("the shared data is required (ETPU_REQUIRE_SHARED_DATA=1)", ["%s is missing" % real])
        else:
            print("note: no shared data (--shared): the real model with metadata is not checked")

        # Errors that quote names from files or the command line.
        junk = p(b"junk\x1b[2J\xff.tflite")
        with open(junk, "wb") as f:
            f.write(b"\x1c\x00\x00\x00TFL3" + b"\xff" * 40)
        check("inspect error naming a hostile path", [etpu, "inspect", junk], want_rc=1)
        badpath = p(b"m\x1b[2J\xff.tflite")
        with open(bad, "rb") as src, open(badpath, "wb") as dst:
            dst.write(src.read())
        check("run error: wrong input count", [etpu, "run", badpath, "--input", img, img], want_rc=2)
        check("compile -i naming a missing tensor", [etpu, "compile", "-o", outdir, "-i", b"no\x1b[2Jsuch\xff", bad],
              want_rc=2)
        check("unknown option quoted", [etpu, "inspect", b"--\x1b[2J\xff", bad], want_rc=2)

    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
