#!/usr/bin/env python3
"""cli_consistency.py — one command-line style across etpu's subcommands.

Checks (issue #16 items 7, 10, 11), on the bundled demo model and small files
made here (no shared data):
  - compile --json of two models prints one JSON document; with -n 2 it names
    every segment's model and .log, which exist;
  - every subcommand answers -h and --help with its usage on stdout, exit 0;
  - exit codes follow the README's table: a bad flag value or an unknown
    option is 2 with one line on stderr naming the flag; a corrupt image is 1;
    a missing file is 3;
  - every valued flag takes "--flag value" and "--flag=value" alike;
    "-o=DIR" means DIR; run --input X MODEL keeps MODEL as the model;
  - --json on every subcommand that reports;
  - quantize refuses --integer-only with --allow-float, and skips a stray
    .txt or .csv in a calibration folder with a warning;
  - run warns when a labels file does not match the classes.

Prints each failure, then "N passed, N failed"; exits 1 if any failed.
Python 3 standard library only.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from cli_util import Tally, write_bmp

T = Tally()
result = T.result


def run(cmd, cwd=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, timeout=300)
    r.out = r.stdout.decode("utf-8", "replace")
    r.err = r.stderr.decode("utf-8", "replace")
    return r


def expect(name, cmd, rc, json_out=False, err_lines=None, err_has=(), out_has=(), cwd=None):
    r = run(cmd, cwd=cwd)
    problems = []
    if r.returncode != rc:
        problems.append("exit %d, want %d; stderr: %s" % (r.returncode, rc, r.err[-600:]))
    if json_out and r.returncode == 0:
        try:
            json.loads(r.out)
        except ValueError as e:
            problems.append("stdout is not one JSON document: %s: %r" % (e, r.out[:300]))
    if err_lines is not None and len(r.err.splitlines()) != err_lines:
        problems.append("stderr has %d lines, want %d: %r" % (len(r.err.splitlines()), err_lines, r.err[:600]))
    for s in err_has:
        if s not in r.err:
            problems.append("stderr lacks %r: %r" % (s, r.err[:600]))
    for s in out_has:
        if s not in r.out:
            problems.append("stdout lacks %r: %r" % (s, r.out[:600]))
    result(name, problems)
    return r


def compile_json(etpu, tmp, demo):
    other = os.path.join(tmp, "other.tflite")
    with open(demo, "rb") as a, open(other, "wb") as b:
        b.write(a.read())
    out = os.path.join(tmp, "cj")
    os.mkdir(out)
    r = expect("compile --json A B: one document", [etpu, "compile", "--json", "-o", out, demo, other], 0,
               json_out=True)
    problems = []
    try:
        doc = json.loads(r.out)
        names = [m["input"] for m in doc["models"]]
        if names != [demo, other]:
            problems.append("models %r" % names)
    except (ValueError, KeyError, TypeError) as e:
        problems.append("shape: %s" % e)
    result("compile --json A B: both models in order", problems)
    r = expect("compile --json -n 2", [etpu, "compile", "--json", "-n", "2", "-o", out, demo], 0, json_out=True)
    problems = []
    try:
        segs = json.loads(r.out)["models"][0]["segments"]
        if [s["segment"] for s in segs] != [0, 1]:
            problems.append("segments %r" % segs)
        for s in segs:
            for key in ("model", "log"):
                if not os.path.exists(s[key]):
                    problems.append("%s %s does not exist" % (key, s[key]))
            if s["bytes"] != os.path.getsize(s["model"]):
                problems.append("segment %d: bytes %d, file %d" % (s["segment"], s["bytes"], os.path.getsize(s["model"])))
    except (ValueError, KeyError, TypeError, IndexError) as e:
        problems.append("shape: %s" % e)
    result("compile --json -n 2 names every segment", problems)
    r = expect("compile -n 2 console names every segment", [etpu, "compile", "-n", "2", "-o", out, demo], 0)
    problems = []
    for k in range(2):
        for ext in ("tflite", "log"):
            name = os.path.join(out, "demo_segment_%d_of_2_edgetpu.%s" % (k, ext))
            if name not in r.out:
                problems.append("console does not name %s" % name)
    result("compile -n 2 console lists each segment's model and log", problems)


COMMANDS = ["inspect", "show", "demo", "compile", "run", "quantize", "imprint", "train", "extract", "version"]


def help_everywhere(etpu):
    for cmd in COMMANDS:
        for flag in ("-h", "--help"):
            r = run([etpu, cmd, flag])
            problems = []
            if r.returncode != 0:
                problems.append("exit %d: %s" % (r.returncode, r.err[:300]))
            if cmd != "version" and "usage: etpu" not in r.out:
                problems.append("no usage on stdout: %r" % r.out[:200])
            if r.err:
                problems.append("stderr: %r" % r.err[:200])
            result("%s %s: usage, exit 0" % (cmd, flag), problems)


def one_line_error(name, cmd, rc, flag):
    """A usage error: exit rc, one line on stderr naming flag, no usage text."""
    expect(name, cmd, rc, err_lines=1, err_has=(flag,))


def exit_codes(etpu, tmp, demo, flt, classes):
    img = os.path.join(tmp, "cat.bmp")
    write_bmp(img, 32, 32, 3)
    corrupt = os.path.join(tmp, "corrupt.bmp")
    with open(corrupt, "wb") as f:
        f.write(b"BM" + b"\xff" * 60)
    expect("corrupt image: exit 1 (an input broke a rule)", [etpu, "run", demo, "--input", corrupt], 1, err_lines=1)
    expect("missing model: exit 3 (I/O)", [etpu, "inspect", os.path.join(tmp, "nope.tflite")], 3, err_lines=1)
    expect("missing input: exit 3 (I/O)", [etpu, "run", demo, "--input", os.path.join(tmp, "nope.bmp")], 3,
           err_lines=1)
    out = os.path.join(tmp, "x.tflite")
    one_line_error("run --top abc: one line, exit 2", [etpu, "run", demo, "--input", img, "--top", "abc"], 2, "--top")
    one_line_error("run --profile=bogus: one line, exit 2", [etpu, "run", demo, "--input", img, "--profile=bogus"], 2,
                   "--profile")
    one_line_error("compile -m 9: one line, exit 2", [etpu, "compile", "-m", "9", demo], 2, "-m")
    one_line_error("compile --bogus: one line, exit 2", [etpu, "compile", "--bogus", demo], 2, "--bogus")
    one_line_error("quantize --io=x: one line, exit 2", [etpu, "quantize", flt, "--io=x", "-o", out], 2, "--io")
    one_line_error("train --iters 0: one line, exit 2",
                   [etpu, "train", EXT[0], "-o", out, "--class", "a=" + classes[0], "--class", "b=" + classes[1],
                    "--iters", "0"], 2, "--iters")
    one_line_error("imprint --scale=-1: one line, exit 2",
                   [etpu, "imprint", "--make-model", EXT[0], "--scale=-1", "-o", out], 2, "--scale")
    one_line_error("inspect --bogus: one line, exit 2", [etpu, "inspect", "--bogus", demo], 2, "--bogus")
    one_line_error("inspect --json=1: one line, exit 2", [etpu, "inspect", "--json=1", demo], 2, "--json")
    one_line_error("demo --bogus: one line, exit 2", [etpu, "demo", "--bogus", out], 2, "--bogus")
    one_line_error("unknown command: one line, exit 2", [etpu, "bogus"], 2, "bogus")
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    expect("an empty class folder: exit 2 (usage)",
           [etpu, "train", EXT[0], "-o", out, "--class", "a=" + classes[0], "--class", "b=" + empty], 2, err_lines=1)
    one_line_error("quantize --integer-only --allow-float: refused",
                   [etpu, "quantize", flt, "--calib", classes[0], "--integer-only", "--allow-float", "-o", out], 2,
                   "--allow-float")
    if os.path.exists(out):
        result("refused commands wrote nothing", ["%s exists" % out])


def flag_forms(etpu, tmp, demo, flt, classes):
    img = os.path.join(tmp, "cat.bmp")
    a = run([etpu, "run", demo, "--input", img, "--top", "3", "--profile", "tflite-ref"])
    b = run([etpu, "run", demo, "--input=" + img, "--top=3", "--profile=tflite-ref"])
    strip = lambda t: [l for l in t.splitlines() if not l.startswith("invoke:")]
    result("run: --flag value and --flag=value agree",
           [] if a.returncode == 0 and strip(a.out) == strip(b.out) else ["%r vs %r" % (a.out, b.out)])
    r = run([etpu, "run", "--input", img, demo, "--top", "3"])
    result("run --input X MODEL: MODEL is the model",
           [] if r.returncode == 0 and strip(r.out) == strip(run([etpu, "run", demo, "--input", img, "--top", "3"]).out)
           else ["exit %d: %s" % (r.returncode, r.err)])
    d = os.path.join(tmp, "odir")
    os.mkdir(d)
    r = run([etpu, "compile", "-o=" + d, demo])
    result("compile -o=DIR writes into DIR",
           [] if r.returncode == 0 and os.path.exists(os.path.join(d, "demo_edgetpu.tflite"))
           and not os.path.exists(os.path.join(tmp, "=" + d)) else ["exit %d: %s %r" % (r.returncode, r.err,
                                                                                      os.listdir(d))])
    r = run([etpu, "compile", "--out_dir=" + d, "-s", demo])
    result("compile --out_dir=DIR", [] if r.returncode == 0 else [r.err])
    r = run([etpu, "run", demo, "--input", img, "-o=" + d])
    result("run -o=DIR writes DIR/output_0.npy",
           [] if r.returncode == 0 and os.path.exists(os.path.join(d, "output_0.npy")) else [r.err])
    q = os.path.join(tmp, "q.tflite")
    r = run([etpu, "quantize", flt, "--calib=" + classes[0], "--io=int8", "-o=" + q])
    result("quantize --calib=DIR --io=int8 -o=OUT", [] if r.returncode == 0 and os.path.exists(q) else [r.err])
    t = os.path.join(tmp, "t.tflite")
    r = run([etpu, "train", EXT[0], "--output=" + t, "--class=a=" + classes[0], "--class", "b=" + classes[1],
             "--iters=3", "--report=0"])
    result("train --output=OUT --class=NAME=DIR --iters=N", [] if r.returncode == 0 and os.path.exists(t) else [r.err])
    o = os.path.join(tmp, "demo2.tflite")
    r = run([etpu, "demo", "-o=" + o])
    result("demo -o=OUT", [] if r.returncode == 0 and os.path.exists(o) else [r.err])


def json_everywhere(etpu, tmp, demo, flt, classes):
    img = os.path.join(tmp, "cat.bmp")
    d = os.path.join(tmp, "jdir")
    os.mkdir(d)
    imp = os.path.join(tmp, "imp.tflite")
    cmds = [
        ("inspect", [etpu, "inspect", "--json", demo]),
        ("compile", [etpu, "compile", "--json", "-o", d, demo]),
        ("run", [etpu, "run", demo, "--input", img, "--json"]),
        ("quantize", [etpu, "quantize", flt, "--calib", classes[0], "-o", os.path.join(tmp, "qj.tflite"), "--json"]),
        ("imprint --make-model", [etpu, "imprint", "--make-model", EXT[0], "-o", imp, "--json"]),
        ("imprint", [etpu, "imprint", imp, "-o", os.path.join(tmp, "imp2.tflite"), "--class", "a=" + classes[0],
                     "--class", "b=" + classes[1], "--json"]),
        ("train", [etpu, "train", EXT[0], "-o", os.path.join(tmp, "tj.tflite"), "--class", "a=" + classes[0],
                   "--class", "b=" + classes[1], "--iters", "3", "--json"]),
        ("extract", [etpu, "extract", EXT[0], classes[0], "-o", os.path.join(tmp, "e.npy"), "--json"]),
        ("demo", [etpu, "demo", os.path.join(tmp, "dj.tflite"), "--json"]),
    ]
    for name, cmd in cmds:
        expect("%s --json: one JSON document on stdout" % name, cmd, 0, json_out=True)
    r = run(cmds[6][1])
    problems = []
    try:
        doc = json.loads(r.out)
        if doc["classes"] != 2 or not os.path.exists(doc["labels"]):
            problems.append("train document: %r" % doc)
    except (ValueError, KeyError) as e:
        problems.append(str(e))
    result("train --json names its outputs", problems)


def warnings(etpu, tmp, demo, flt, classes):
    cal = os.path.join(tmp, "cal_notes")
    os.mkdir(cal)
    for k in range(2):
        write_bmp(os.path.join(cal, "s%d.bmp" % k), 8, 8, k)
    for note in ("README.txt", "index.csv"):
        with open(os.path.join(cal, note), "w") as f:
            f.write("not a sample\n")
    expect("quantize: a stray .txt and .csv in --calib are skipped with a warning",
           [etpu, "quantize", flt, "--calib", cal, "-o", os.path.join(tmp, "qn.tflite")], 0,
           err_has=("README.txt: not a calibration sample", "index.csv: not a calibration sample"))
    img = os.path.join(tmp, "cat.bmp")
    labels = os.path.join(tmp, "three.txt")
    with open(labels, "w") as f:
        f.write("a\nb\nc\n")
    expect("run: a labels file that does not match the classes is warned about",
           [etpu, "run", demo, "--input", img, "--labels", labels], 0, err_has=("has 3 labels but output 0 has 10",))
    labels = os.path.join(tmp, "ten.txt")
    with open(labels, "w") as f:
        f.write("".join("c%d\n" % k for k in range(10)))
    expect("run: a matching labels file gives no warning", [etpu, "run", demo, "--input", img, "--labels", labels], 0,
           err_lines=0)


# The demo's embedding extractor (`etpu demo --extractor`): imprint, train and
# extract refuse the classifier itself (its output is a SOFTMAX).
EXT = [None]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etpu", required=True)
    ap.add_argument("--helper", required=True, help="tests/hostile_names (builds the float model)")
    args = ap.parse_args()
    etpu = args.etpu
    with tempfile.TemporaryDirectory() as tmp:
        demo = os.path.join(tmp, "demo.tflite")
        flt = os.path.join(tmp, "float.tflite")
        EXT[0] = os.path.join(tmp, "extractor.tflite")
        if (run([etpu, "demo", demo]).returncode != 0 or run([args.helper, "float", flt]).returncode != 0 or
                run([etpu, "demo", "--extractor", EXT[0]]).returncode != 0):
            print("setup: etpu demo or the float model failed")
            return 1
        classes = []
        for k in range(2):
            d = os.path.join(tmp, "class%d" % k)
            os.mkdir(d)
            for j in range(3):
                write_bmp(os.path.join(d, "i%d.bmp" % j), 32, 32, 10 * k + j)
            classes.append(d)
        compile_json(etpu, tmp, demo)
        help_everywhere(etpu)
        exit_codes(etpu, tmp, demo, flt, classes)
        flag_forms(etpu, tmp, demo, flt, classes)
        json_everywhere(etpu, tmp, demo, flt, classes)
        warnings(etpu, tmp, demo, flt, classes)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
