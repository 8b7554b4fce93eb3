#!/usr/bin/env python3
"""cli_errors.py — `etpu inspect` refuses bad input cleanly; `etpu demo` round-trips.

Checks, each in a fresh temporary folder:
  - inspect of a missing file, an empty file, a text file, truncated copies of
    a real model (and of the demo model), and a directory: exits non-zero
    (never by a signal, never 2 = usage), prints nothing on stdout and exactly
    one line on stderr, which names the file's path; exit codes follow
    tools/etpu/main.c: 3 for I/O (missing file), 1 for a file that breaks the
    format rules (empty, text, truncated);
  - an unknown option exits 2;
  - `etpu demo OUT` then `etpu inspect --json OUT` works and reports 7 ops;
    `etpu demo` into a missing folder or onto a folder exits 3 naming it.

Prints each failure, then "N passed, N failed" (one count per check); exits 1
if any failed. The real model comes from the shared data folder (--shared, or
ETPU_SHARED_DATA); without it that one case is skipped with a note — or fails
when ETPU_REQUIRE_SHARED_DATA=1. Python 3 standard library only.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

REAL_MODEL = os.path.join("coral", "mobilenet_v1_0.25_128_quant.tflite")

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


def run(etpu, *args):
    return subprocess.run([etpu] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)


def expect_refused(etpu, name, path, codes):
    """etpu inspect PATH (text and --json) must fail cleanly with a one-line message naming PATH."""
    problems = []
    for extra in ([], ["--json"]):
        r = run(etpu, "inspect", *(extra + [path]))
        how = "etpu inspect %s%s" % ("--json " if extra else "", path)
        err = r.stderr.decode("utf-8", "replace")
        if r.returncode < 0:
            problems.append("%s: killed by signal %d" % (how, -r.returncode))
            continue
        if r.returncode == 0:
            problems.append("%s: exit 0, expected a failure" % how)
        elif r.returncode not in codes:
            problems.append("%s: exit %d, expected %s" % (how, r.returncode,
                                                          " or ".join(str(c) for c in codes)))
        if r.stdout:
            problems.append("%s: wrote %d bytes on stdout on failure: %r" %
                            (how, len(r.stdout), r.stdout[:80]))
        lines = err.splitlines()
        if len(lines) != 1 or not err.endswith("\n"):
            problems.append("%s: stderr should be exactly one line, got %d: %r" % (how, len(lines), err))
        if path not in err:
            problems.append("%s: stderr does not name the path: %r" % (how, err.strip()))
    result(name, problems)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--etpu", required=True, help="the etpu program")
    ap.add_argument("--shared", default="", help="the shared data folder (../shared/data)")
    args = ap.parse_args()
    etpu = os.path.abspath(args.etpu)
    if not os.path.isfile(etpu):
        print("cli_errors: etpu program not found at '%s'" % etpu, file=sys.stderr)
        return 1
    shared = os.environ.get("ETPU_SHARED_DATA") or args.shared
    required = os.environ.get("ETPU_REQUIRE_SHARED_DATA", "") == "1"

    with tempfile.TemporaryDirectory(prefix="etpu-cli-") as tmp:
        # The demo model first: the truncation cases below reuse it.
        demo = os.path.join(tmp, "demo.tflite")
        problems = []
        r = run(etpu, "demo", demo)
        if r.returncode != 0 or not os.path.isfile(demo):
            problems.append("etpu demo %s: exit %d: %s" % (demo, r.returncode,
                                                          r.stderr.decode("utf-8", "replace").strip()))
        else:
            r = run(etpu, "inspect", "--json", demo)
            if r.returncode != 0:
                problems.append("etpu inspect --json %s: exit %d: %s" %
                                (demo, r.returncode, r.stderr.decode("utf-8", "replace").strip()))
            else:
                try:
                    j = json.loads(r.stdout.decode("utf-8"))
                    sg = j["subgraphs"][0]
                    if sg["op_count"] != 7:
                        problems.append("op_count %d, expected 7" % sg["op_count"])
                    if len(sg["ops"]) != 7:
                        problems.append("%d ops listed, expected 7" % len(sg["ops"]))
                    if len(j["subgraphs"]) != 1:
                        problems.append("%d subgraphs, expected 1" % len(j["subgraphs"]))
                except (ValueError, KeyError, IndexError, TypeError) as e:
                    problems.append("inspect --json output unusable: %r" % e)
            r = run(etpu, "inspect", demo)
            if r.returncode != 0 or not r.stdout:
                problems.append("etpu inspect %s (text): exit %d" % (demo, r.returncode))
        result("demo then inspect --json reports 7 ops", problems)

        # etpu demo into a folder that does not exist, and onto a folder: exit
        # 3 naming the path, nothing created (the output is checked first).
        problems = []
        for target in (os.path.join(tmp, "no-such-folder", "d.tflite"), tmp):
            r = run(etpu, "demo", target)
            err = r.stderr.decode("utf-8", "replace")
            if r.returncode != 3 or target + ": cannot write the output" not in err:
                problems.append("etpu demo %s: exit %d: %s" % (target, r.returncode, err.strip()))
        if os.path.exists(os.path.join(tmp, "no-such-folder")):
            problems.append("etpu demo created the missing folder")
        result("demo into a missing folder or onto a folder: exit 3", problems)

        expect_refused(etpu, "missing file", os.path.join(tmp, "no-such-model.tflite"), [3])

        empty = os.path.join(tmp, "empty.tflite")
        open(empty, "wb").close()
        expect_refused(etpu, "empty file", empty, [1])

        text = os.path.join(tmp, "notes.tflite")
        with open(text, "w") as f:
            f.write("This is a text file, not a TensorFlow Lite model.\nSecond line.\n")
        expect_refused(etpu, "text file", text, [1])

        sources = []
        if os.path.isfile(demo):
            sources.append(("demo model", demo))
        real = os.path.join(shared, REAL_MODEL) if shared else ""
        if real and os.path.isfile(real):
            sources.append(("real model %s" % REAL_MODEL, real))
        elif required:
            result("truncated real model", ["%s not found (ETPU_REQUIRE_SHARED_DATA=1)" %
                                            (real or REAL_MODEL)])
        else:
            print("note: shared data not found ('%s'): truncated real model case skipped" % real)
        for label, src in sources:
            with open(src, "rb") as f:
                data = f.read()
            # A few cut points: inside the header, early (tables cut off), half.
            for n in (4, 16, 300, len(data) // 2):
                cut = os.path.join(tmp, "truncated-%d-%s" % (n, os.path.basename(src)))
                with open(cut, "wb") as f:
                    f.write(data[:n])
                expect_refused(etpu, "%s truncated to %d of %d bytes" % (label, n, len(data)), cut, [1])

        folder = os.path.join(tmp, "a-folder.tflite")
        os.mkdir(folder)
        expect_refused(etpu, "directory", folder, [1, 3])

        problems = []
        for argv in (["inspect", "--no-such-option", demo], ["inspect", "--no-such-option"]):
            r = run(etpu, *argv)
            if r.returncode != 2:
                problems.append("etpu %s: exit %d, expected 2" % (" ".join(argv), r.returncode))
            if not r.stderr:
                problems.append("etpu %s: nothing on stderr" % " ".join(argv))
        result("unknown option exits 2", problems)

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
