#!/usr/bin/env python3
"""visualize_browser.py — etpu visualize pages in headless Chromium (issue 15, must-show 1).

For each model of visualize_html.MODELS (a fully mapped classifier, DeepLab
partly mapped, PoseNet with its custom decoder op, DeepLab compiled by etpu
compile, Google's compiled DeepLab, the largest shared model by op count,
and the SSD detector), etpu visualize writes the page and
visualize_browser.mjs opens it in Debian's Chromium through playwright-core.
Checked: no console error or warning, no page error, no request leaving the
file; every op of the model is a rendered node, marked where etpu compile
(or the compiled file) puts it, so the CPU ops are marked CPU; clicking a
CPU op shows the rule broken and the fix; searching for a tensor's name
lists it and marks a node that touches it; the screenshot (a PNG decoded
here) is not blank: many colours, and the page is not mostly white. Prints
the render time of each page (navigation to the first frame after load).

Needs node, chromium and `npm ci` in tools/browser: without them it exits
77 (skipped) unless CI=true or ETPU_REQUIRE_SHARED_DATA=1 ask for it.
Screenshots stay in --work (the build tree) for people to look at.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import visualize_html
from zlib import error as zlib_error

from cli_util import Tally, read_png8


def blank_problems(path):
    """Why the screenshot looks blank, if it does."""
    try:
        w, h, bpp, rows = read_png8(path)
    except (OSError, ValueError, zlib_error) as e:
        return ["screenshot %s unreadable: %s" % (path, e)]
    colours, ink = set(), 0
    for row in rows:
        for x in range(0, w * bpp, bpp):
            px = row[x:x + 3]
            colours.add(px)
            if min(px) < 235:
                ink += 1
    out = []
    if len(colours) < 32:
        out.append("screenshot has only %d distinct colours" % len(colours))
    if ink < w * h // 20:
        out.append("screenshot is %.1f%% non-white pixels" % (100.0 * ink / (w * h)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etpu", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--node", default=shutil.which("node") or "")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--work", required=True, help="folder for the pages, results and screenshots")
    ap.add_argument("--make-large", help="test_visualize, to write the synthetic 1,238-op model")
    args = ap.parse_args()
    etpu = os.path.abspath(args.etpu)
    here = os.path.dirname(os.path.abspath(__file__))
    required = os.environ.get("CI") == "true" or os.environ.get("ETPU_REQUIRE_SHARED_DATA") == "1"
    missing = []
    if not args.node or not os.path.exists(args.node):
        missing.append("node (apt-get install nodejs npm)")
    if not os.path.exists(args.chromium):
        missing.append("chromium (apt-get install chromium)")
    if not os.path.isdir(os.path.join(here, "..", "tools", "browser", "node_modules", "playwright-core")):
        missing.append("playwright-core (npm ci in tools/browser)")
    if not os.path.isdir(args.shared):
        missing.append("the shared data at %s" % args.shared)
    if missing:
        print("visualize_browser: skipped, missing: %s" % "; ".join(missing))
        return 1 if required else 77

    T = Tally()
    os.makedirs(args.work, exist_ok=True)
    jobs, expect = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        pages = [(name, visualize_html.prepare(etpu, args.shared, name, rel, comp, tmp), [])
                 for name, rel, comp in visualize_html.MODELS]
        if args.make_large:
            large = os.path.join(tmp, "synthetic_1238_ops.tflite")
            r = visualize_html.run([args.make_large, "large", large, "410"])
            T.result("write the synthetic 1,238-op model", [] if r.returncode == 0 else [r.stderr])
            pages.append(("synthetic_1238", large, ["-a"]))
        for name, model, flags in pages:
            html = os.path.join(args.work, name + ".html")
            r = visualize_html.run([etpu, "visualize", model, "-o", html] + flags)
            if r.returncode != 0:
                T.result("visualize %s" % name, [r.stderr.decode("utf-8", "replace")])
                continue
            want, inner, tensor, info = visualize_html.expected(etpu, model, tmp, flags)
            expect[name] = (want, inner, tensor, info)
            jobs.append({"name": name, "html": html, "png": os.path.join(args.work, name + ".png"),
                         "search": tensor, "chromium": args.chromium})
        jobs_path = os.path.join(args.work, "jobs.json")
        results_path = os.path.join(args.work, "results.json")
        with open(jobs_path, "w") as f:
            json.dump(jobs, f, indent=1)
        r = subprocess.run([args.node, os.path.join(here, "visualize_browser.mjs"), jobs_path, results_path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
        if r.returncode != 0:
            T.result("Chromium opened every page", [r.stderr.decode("utf-8", "replace")[-3000:]])
            return T.finish()
    with open(results_path) as f:
        results = json.load(f)
    print("render time in headless Chromium (navigation to the first frame after load), load %s:" %
          " ".join("%.2f" % x for x in os.getloadavg()))
    for res in results:
        name = res["name"]
        want, inner, tensor, info = expect[name]
        print("  %-16s %4d ops drawn  %5d ms render  %4d ms search  %s" %
              (name, sum(1 for n in res["nodes"] if not n["io"]), res["renderMs"], res["search"].get("ms", 0),
               res["png"]))
        T.result("%s: no console error, page error or request out of the page" % name, res["errors"])
        problems = visualize_html.compare_nodes(
            [{"data-op": n["op"], "data-inner": n["inner"], "data-where": n["where"]} for n in res["nodes"]],
            want, inner)
        problems += ["node %s has no rendered box" % n["id"] for n in res["nodes"] if not n["drawn"]]
        result_name = "%s: every op of the model is a node, CPU ops marked CPU (%d ops, %d on the CPU)" % (
            name, len(want) + inner, sum(1 for w in want.values() if w == "cpu"))
        T.result(result_name, problems)
        if any(w == "cpu" for w in want.values()):
            p = [] if "runs on: CPU" in res["panel"] else ["the panel does not say CPU: %r" % res["panel"][:300]]
            why = "Rule broken:" in res["panel"] or "Why on the CPU:" in res["panel"]
            if not info["compiled"] and (not why or "Fix:" not in res["panel"]):
                p.append("the panel of a CPU op shows no rule and fix: %r" % res["panel"][:400])
            T.result("%s: clicking a CPU op shows where it runs and why" % name, p)
        s = res["search"]
        p = []
        texts = [b["text"] for b in s.get("results", [])]
        if not any(("tensor " + tensor) in t for t in texts):
            p.append("no result names tensor %r: %r" % (tensor, texts[:5]))
        if not s.get("hits"):
            p.append("no node marked for %r" % tensor)
        if s.get("results") and s.get("pinned") != s["results"][0]["node"]:
            p.append("following the first result did not select its node")
        T.result("%s: search finds tensor %r" % (name, tensor[:60]), p)
        T.result("%s: screenshot not blank (%s)" % (name, res["png"]), blank_problems(res["png"]))
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
