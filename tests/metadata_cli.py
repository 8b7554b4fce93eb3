#!/usr/bin/env python3
"""metadata_cli.py — the model's metadata normalization as the CLI uses it.

float/deeplabv3.tflite records mean 127.5, std 127.5 in its TFLITE_METADATA.
`etpu quantize MODEL --calib DIR` without --mean/--std must say it uses them
and write the very bytes `--mean 127.5 --std 127.5` writes; `etpu run` on the
float model must name them for its image input, and `etpu inspect` (text
and --json) must show them. One calibration image keeps
it short. Exit 77 = skipped (no shared data) unless ETPU_REQUIRE_SHARED_DATA=1.
"""
import argparse
import json
import os
import shutil
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
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("metadata_cli: %s" % ("ok" if failures == 0 else "%d failure(s)" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
