#!/usr/bin/env python3
"""bench_python.py — the cost of calling etpu from Python: Interpreter.invoke()
timed in Python against the C invoke of `etpu run --repeat` (the same
library code; etpu run times etpu_interp_invoke alone), in the same run.

Python's figure includes everything a Python caller pays per invoke: the
method call, the view check, copying each input from its shadow buffer (see
python/src/etpumodule.c), releasing and retaking the GIL. Rounds alternate
C and Python so that load from other processes hits both alike; each side
reports the median of its per-round medians and its overall minimum, and
the ratio Python / C of each (target: within 1.05).

Usage (from the build's package):
  PYTHONPATH=build/python /usr/bin/python3 bench/bench_python.py \
      [--etpu build/etpu] [--model M] [--image I] [--threads 1] [--repeat 200] [--rounds 5]
Not a test: it prints numbers and exits 0 unless something fails to run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import etpu

HERE = os.path.dirname(os.path.abspath(__file__))
CORAL = os.path.join(HERE, "..", "..", "shared", "data", "coral")


def c_round(args):
    r = subprocess.run([args.etpu, "run", args.model, "--input", args.image, "--threads", str(args.threads), "--repeat",
                        str(args.repeat), "--top", "0", "--json"], capture_output=True, text=True, check=True)
    t = json.loads(r.stdout)["timing_ms"]
    return t["median"], t["min"]


def py_round(interp, args):
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        interp.invoke()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--etpu", default=os.path.join(HERE, "..", "build", "etpu"))
    ap.add_argument("--model", default=os.path.join(CORAL, "mobilenet_v1_0.25_128_quant.tflite"))
    ap.add_argument("--image", default=os.path.join(CORAL, "cat.bmp"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    interp = etpu.Interpreter(model_path=args.model, num_threads=args.threads)
    interp.allocate_tensors()
    d = interp.get_input_details()[0]
    interp.set_tensor(d["index"], interp.image_to_input(args.image))
    for _ in range(20):
        interp.invoke()  # warm up
    c_med, c_min, p_med, p_min = [], [], [], []
    for r in range(args.rounds):
        m, n = c_round(args)
        c_med.append(m)
        c_min.append(n)
        m, n = py_round(interp, args)
        p_med.append(m)
        p_min.append(n)
        print("round %d: C median %.4f ms (min %.4f), Python median %.4f ms (min %.4f)"
              % (r + 1, c_med[-1], c_min[-1], p_med[-1], p_min[-1]))
    cm, pm = statistics.median(c_med), statistics.median(p_med)
    print("%s, %d thread%s, %d x %d invokes, isa %s" % (os.path.basename(args.model), args.threads,
                                                        "" if args.threads == 1 else "s", args.rounds, args.repeat,
                                                        interp._interp.info()["isa"]))
    print("C invoke (etpu run):     median %.4f ms, min %.4f ms" % (cm, min(c_min)))
    print("Python invoke (etpu):    median %.4f ms, min %.4f ms" % (pm, min(p_min)))
    print("ratio Python / C:        median %.3f, min %.3f (target <= 1.05)" % (pm / cm, min(p_min) / min(c_min)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
