#!/usr/bin/env python3
"""compile_cli.py — `etpu compile` as scripts see it (EDGETPU.md §6-§9, §12).

Runs the etpu binary on the model `etpu demo` writes (no shared data needed)
and on shared models, and checks:

  * the console lines log parsers read (HanChangHun/EdgeTPU-Compiler-Log-Parser
    and the like): "Model compiled successfully in N ms.", the three memory
    lines with sizes as X.XX(B|KiB|MiB), "Number of Edge TPU subgraphs:",
    "Total number of operations:", "Operation log:", the two "Number of
    operations that will run on ..." lines, all inside the 11-line window
    after "Input model:" where such parsers look; sizes agree with the files;
  * -s prints the operator table, rows formatted printf("%-31s%-11s%s") with
    the real compiler's status strings, an empty line under the header, one
    row per (operator, status), counts adding up to the total;
  * the .log file: version line, "Input: ", "Output: ", empty line, the table;
  * flag spellings seen in the wild: -sa, -m 13 -s -da -o DIR, --out_dir=DIR,
    the Ultralytics long form, -s -d -k 10 -n 2, -v/--version;
  * -n 2: NAME_segment_0_of_2_edgetpu.tflite / .log and segment 1, each
    reopening (etpu inspect), segment logs adding up to the whole model;
  * two models at once (co-compilation): both written, the second one sees
    less on-chip memory remaining than when compiled alone;
  * errors (missing file, dynamic shape, float model, unknown flag, -m 9,
    wrong number of -i lists, unknown -i tensor, one bad model among two,
    missing output folder): non-zero exit (2 for usage errors), a message
    naming the file, and nothing written to the output folder, where a
    pre-existing NAME_edgetpu.tflite stays byte-identical.

Already compiled models (Google's deeplabv3_mnv2_pascal_quant_edgetpu, and
etpu's own demo_edgetpu) are refused, naming who compiled them.

The demo checks always run. The shared-data checks need ../shared/data
(--shared, or ETPU_SHARED_DATA=DIR): without it the script says so and exits
77 (ctest: skipped) unless ETPU_REQUIRE_SHARED_DATA=1, when it fails.
Python 3 standard library only.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

VERSION = "16.0.384591198"
STATUSES = [
    "Mapped to Edge TPU",
    "More than one subgraph is not supported",
    "Operation is otherwise supported, but not mapped due to some unspecified limitation",
    "Operation is working on an unsupported data type",
    "Tensor has unsupported rank (up to 3 innermost dimensions mapped)",
    "Operation not supported",
    "Operation version not supported",
    "Filter, bias, or other param is not constant at compile-time",
]
HEADER = "%-31s%-11s%s" % ("Operator", "Count", "Status")
ROW_RE = re.compile(r"^(\S+) +(\d+) +(\S.*)$")
SIZE = r"(\d+\.\d\d)(B|KiB|MiB)"
# The console lines a log parser reads, with the groups it takes.
CONSOLE_RES = {
    "compiled": re.compile(r"^Model compiled successfully in (\d+) ms\.$"),
    "input_model": re.compile(r"^Input model: (.+)$"),
    "input_size": re.compile(r"^Input size: " + SIZE + r"$"),
    "output_model": re.compile(r"^Output model: (.+)$"),
    "output_size": re.compile(r"^Output size: " + SIZE + r"$"),
    "on_chip_used": re.compile(r"^On-chip memory used for caching model parameters: " + SIZE + r"$"),
    "on_chip_remaining": re.compile(r"^On-chip memory remaining for caching model parameters: " + SIZE + r"$"),
    "off_chip_used": re.compile(r"^Off-chip memory used for streaming uncached model parameters: " + SIZE + r"$"),
    "subgraphs": re.compile(r"^Number of Edge TPU subgraphs: (\d+)$"),
    "total_ops": re.compile(r"^Total number of operations: (\d+)$"),
    "operation_log": re.compile(r"^Operation log: (.+)$"),
    "tpu_ops": re.compile(r"^Number of operations that will run on Edge TPU: (\d+)$"),
    "cpu_ops": re.compile(r"^Number of operations that will run on CPU: (\d+)$"),
}
# Lines within the 11-line window starting at "Input model:" (parsers read it so).
WINDOW_KEYS = ["input_model", "input_size", "output_model", "output_size", "on_chip_used", "on_chip_remaining",
               "off_chip_used", "subgraphs", "total_ops", "operation_log"]


class Checker:
    def __init__(self, etpu):
        self.etpu = etpu
        self.failures = 0
        self.checks = 0

    def check(self, cond, msg):
        self.checks += 1
        if not cond:
            self.failures += 1
            print("FAIL: " + msg, file=sys.stderr)
        return cond

    def run(self, *args, cwd=None):
        p = subprocess.run([self.etpu] + list(args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=300)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def size_str(n):
    """Binary units with two decimals, as the real compiler prints sizes."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    v, u = float(n), 0
    while v >= 1024.0 and u < 4:
        v /= 1024.0
        u += 1
    return "%.2f%s" % (v, units[u])


def kib(value, unit):
    return float(value) * {"B": 1 / 1024.0, "KiB": 1.0, "MiB": 1024.0}[unit]


def parse_console(text):
    """First value of every console line a parser reads; None when absent."""
    lines = text.splitlines()
    found = {}
    for key, rx in CONSOLE_RES.items():
        for line in lines:
            m = rx.match(line)
            if m:
                found[key] = m.groups()
                break
    return found, lines


def parse_table(lines, start):
    """Rows of the operator table whose header is lines[start]; stops at the
    first line that is not a row. Returns (rows, formatted_ok)."""
    rows, ok = [], True
    i = start + 1
    if i < len(lines) and lines[i] == "":
        i += 1
    else:
        ok = False
    while i < len(lines):
        m = ROW_RE.match(lines[i])
        if not m:
            break
        name, count, status = m.group(1), int(m.group(2)), m.group(3)
        if lines[i] != "%-31s%-11s%s" % (name, m.group(2), status):
            ok = False
        rows.append((name, count, status))
        i += 1
    return rows, ok


def check_console(ck, what, out, total=None, tpu=None, cpu=None, subgraphs=None, input_path=None, output_path=None):
    """The parser-visible console lines of one compile block; returns the dict."""
    found, lines = parse_console(out)
    for key in CONSOLE_RES:
        ck.check(key in found, "%s: no console line for %s in:\n%s" % (what, key, out))
    if len(found) != len(CONSOLE_RES):
        return found
    ck.check(lines[0].startswith("Edge TPU Compiler version " + VERSION), "%s: first line '%s'" % (what, lines[0]))
    starts = [i for i, l in enumerate(lines) if l.startswith("Input model: ")]
    if ck.check(len(starts) >= 1, "%s: no 'Input model:' line" % what):
        window = lines[starts[0]:starts[0] + 11]
        for key in WINDOW_KEYS:
            ck.check(any(CONSOLE_RES[key].match(l) for l in window),
                     "%s: '%s' is not within the 11 lines after 'Input model:'" % (what, key))
    for key, want in (("total_ops", total), ("tpu_ops", tpu), ("cpu_ops", cpu), ("subgraphs", subgraphs)):
        if want is not None:
            got = int(found[key][0])
            ck.check(got == want, "%s: %s is %d, expected %d" % (what, key, got, want))
    ck.check(int(found["tpu_ops"][0]) + int(found["cpu_ops"][0]) == int(found["total_ops"][0]),
             "%s: Edge TPU + CPU ops != total" % what)
    if input_path:
        ck.check(found["input_model"][0] == input_path, "%s: Input model '%s'" % (what, found["input_model"][0]))
        ck.check("".join(found["input_size"]) == size_str(os.path.getsize(input_path)),
                 "%s: Input size %s, file has %d bytes" % (what, "".join(found["input_size"]),
                                                          os.path.getsize(input_path)))
    if output_path:
        ck.check(found["output_model"][0] == output_path, "%s: Output model '%s', expected '%s'"
                 % (what, found["output_model"][0], output_path))
        if ck.check(os.path.isfile(output_path), "%s: %s not written" % (what, output_path)):
            ck.check("".join(found["output_size"]) == size_str(os.path.getsize(output_path)),
                     "%s: Output size %s, file has %d bytes" % (what, "".join(found["output_size"]),
                                                               os.path.getsize(output_path)))
        log = found["operation_log"][0]
        ck.check(log == output_path[:-len(".tflite")] + ".log" and os.path.isfile(log),
                 "%s: Operation log '%s'" % (what, log))
    if int(found["cpu_ops"][0]) > 0:
        ck.check("Model successfully compiled but not all operations are supported by the Edge TPU." in out,
                 "%s: CPU ops but no 'not all operations' paragraph" % what)
    ck.check("Compilation succeeded!" in lines, "%s: no 'Compilation succeeded!'" % what)
    return found


def console_table(ck, what, out, shown):
    """The -s table of the console (rows), or [] when not shown."""
    lines = out.splitlines()
    if not shown:
        ck.check(HEADER not in lines, "%s: operator table printed without -s" % what)
        ck.check("See the operation log file for individual operation details." in lines,
                 "%s: no pointer to the operation log" % what)
        return []
    ck.check("See the operation log file for individual operation details." not in lines,
             "%s: -s given but the log pointer printed" % what)
    if not ck.check(HEADER in lines, "%s: -s given but no table header" % what):
        return []
    rows, ok = parse_table(lines, lines.index(HEADER))
    ck.check(ok, "%s: table not formatted as printf(\"%%-31s%%-11s%%s\") with an empty line under the header" % what)
    check_rows(ck, what, rows)
    return rows


def check_rows(ck, what, rows):
    ck.check(len(rows) > 0, "%s: empty operator table" % what)
    for name, count, status in rows:
        ck.check(status in STATUSES, "%s: unknown status '%s'" % (what, status))
        ck.check(re.match(r"^[A-Z0-9_]+$", name) is not None, "%s: operator name '%s'" % (what, name))
        ck.check(count > 0, "%s: row %s with count %d" % (what, name, count))
    pairs = [(n, s) for n, _, s in rows]
    ck.check(len(pairs) == len(set(pairs)), "%s: a (operator, status) pair has two rows" % what)


def check_log(ck, what, log_path, input_path, output_path, total=None):
    """The .log layout; returns its rows."""
    if not ck.check(os.path.isfile(log_path), "%s: %s missing" % (what, log_path)):
        return []
    with open(log_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    ok = (len(lines) >= 6 and lines[0].startswith("Edge TPU Compiler version " + VERSION)
          and lines[1] == "Input: " + input_path and lines[2] == "Output: " + output_path and lines[3] == ""
          and lines[4] == HEADER)
    ck.check(ok, "%s: .log header is not version / Input: / Output: / empty / table header:\n%s"
             % (what, "\n".join(lines[:6])))
    if not ok:
        return []
    rows, fmt = parse_table(lines, 4)
    ck.check(fmt, "%s: .log rows not formatted as printf(\"%%-31s%%-11s%%s\") under an empty line" % what)
    # After the real layout: an empty line, then etpu's own lines ("etpu: ..."),
    # the first naming the target the figures assume.
    extra = lines[6 + len(rows):]
    ck.check(len(extra) >= 2 and extra[0] == "" and all(x.startswith("etpu: ") for x in extra[1:])
             and extra[1].startswith("etpu: target "),
             "%s: .log after its table is not an empty line and 'etpu: target ...' lines: %r" % (what, extra[:3]))
    check_rows(ck, what, rows)
    if total is not None:
        ck.check(sum(c for _, c, _ in rows) == total, "%s: .log counts add up to %d, expected %d"
                 % (what, sum(c for _, c, _ in rows), total))
    return rows


def reopens(ck, what, path):
    rc, out, err = ck.run("inspect", path)
    ck.check(rc == 0, "%s: etpu inspect %s failed (%d): %s" % (what, path, rc, err.strip()))
    return out


def fresh_dir(tmp, name):
    d = os.path.join(tmp, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


# ---- the demo model (no shared data) -----------------------------------------------

def test_demo(ck, tmp):
    demo = os.path.join(tmp, "demo.tflite")
    rc, out, err = ck.run("demo", demo)
    if not ck.check(rc == 0 and os.path.isfile(demo), "etpu demo failed (%d): %s" % (rc, err)):
        return None
    # Plain compile into a folder.
    d = fresh_dir(tmp, "plain")
    rc, out, err = ck.run("compile", "-o", d, demo)
    ck.check(rc == 0, "compile demo: exit %d: %s" % (rc, err))
    outp = os.path.join(d, "demo_edgetpu.tflite")
    found = check_console(ck, "compile demo", out, total=7, tpu=7, cpu=0, subgraphs=1, input_path=demo,
                          output_path=outp)
    ck.check("Number of operations that will run on CPU: 0" in out.splitlines(), "demo is not fully mapped")
    ck.check("Model successfully compiled but not all" not in out, "demo: 'not all operations' paragraph printed")
    if found.get("on_chip_used"):
        ck.check(found["on_chip_used"] == ("752.00", "B"), "demo: on-chip used %s" % "".join(found["on_chip_used"]))
        ck.check(found["off_chip_used"] == ("0.00", "B"), "demo: off-chip %s" % "".join(found["off_chip_used"]))
    console_table(ck, "compile demo", out, shown=False)
    log_rows = check_log(ck, "compile demo", os.path.join(d, "demo_edgetpu.log"), demo, outp, total=7)
    ck.check(all(s == STATUSES[0] for _, _, s in log_rows), "demo: .log has unmapped rows")
    ck.check(sorted(os.listdir(d)) == ["demo_edgetpu.log", "demo_edgetpu.tflite"],
             "compile demo wrote %s" % sorted(os.listdir(d)))
    text = reopens(ck, "compile demo", outp)
    ck.check("edgetpu-custom-op" in text, "compiled demo has no edgetpu-custom-op:\n" + text)
    first = open(outp, "rb").read()

    # Compiling again gives the same bytes.
    rc, out2, err = ck.run("compile", "-o", d, demo)
    ck.check(rc == 0 and open(outp, "rb").read() == first, "compiling the demo twice gave different bytes")

    # -s: the table on the console, same rows as the .log.
    d = fresh_dir(tmp, "show")
    rc, out, err = ck.run("compile", "-s", "-o", d, demo)
    ck.check(rc == 0, "compile -s demo: exit %d: %s" % (rc, err))
    check_console(ck, "compile -s demo", out, total=7, cpu=0)
    rows = console_table(ck, "compile -s demo", out, shown=True)
    log_rows = check_log(ck, "compile -s demo", os.path.join(d, "demo_edgetpu.log"), demo,
                         os.path.join(d, "demo_edgetpu.tflite"), total=7)
    ck.check(rows == log_rows, "-s table differs from the .log table")
    ck.check([r[0] for r in rows] == ["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED",
                                      "SOFTMAX"] and rows[0][1] == 2,
             "demo table rows (first occurrence order, CONV_2D x2): %s" % rows)

    # Flag spellings seen in the wild.
    d = fresh_dir(tmp, "sa")
    rc, out, err = ck.run("compile", "-sa", "-o", d, demo)
    ck.check(rc == 0, "-sa: exit %d: %s" % (rc, err))
    check_console(ck, "-sa demo", out, total=7, cpu=0, subgraphs=1)
    console_table(ck, "-sa demo", out, shown=True)

    d = fresh_dir(tmp, "m13")
    rc, out, err = ck.run("compile", "-m", "13", "-s", "-da", "-o", d, demo)
    ck.check(rc == 0, "-m 13 -s -da -o: exit %d: %s" % (rc, err))
    check_console(ck, "-m 13 -s -da", out, total=7, cpu=0, output_path=os.path.join(d, "demo_edgetpu.tflite"))
    console_table(ck, "-m 13 -s -da", out, shown=True)
    ck.check("compiled for Edge TPU runtime 13" in out, "-m 13 not reported")
    ck.check(os.path.isfile(os.path.join(d, "demo_edgetpu.tflite")), "-m 13 -s -da -o: nothing in the out dir")

    d = fresh_dir(tmp, "eq")
    rc, out, err = ck.run("compile", "--out_dir=" + d, demo)
    ck.check(rc == 0 and os.path.isfile(os.path.join(d, "demo_edgetpu.tflite")),
             "--out_dir=DIR: exit %d, files %s: %s" % (rc, os.listdir(d), err))
    check_console(ck, "--out_dir=DIR", out, output_path=os.path.join(d, "demo_edgetpu.tflite"))

    d = fresh_dir(tmp, "ultralytics")
    rc, out, err = ck.run("compile", "--out_dir", d, "--show_operations", "--search_delegate",
                          "--delegate_search_step", "30", "--timeout_sec", "180", demo)
    ck.check(rc == 0 and os.path.isfile(os.path.join(d, "demo_edgetpu.tflite")),
             "Ultralytics long flags: exit %d: %s" % (rc, err))
    console_table(ck, "long flags", out, shown=True)

    # -v / --version.
    for flag in ("-v", "--version"):
        rc, out, err = ck.run("compile", flag)
        ck.check(rc == 0 and out.startswith("Edge TPU Compiler version " + VERSION),
                 "compile %s: exit %d, '%s'" % (flag, rc, out.strip()))

    # -i: the Edge TPU part stops at a named tensor.
    d = fresh_dir(tmp, "i")
    rc, out, err = ck.run("compile", "-s", "-i", "conv1/Relu6", "-o", d, demo)
    ck.check(rc == 0, "-i conv1/Relu6: exit %d: %s" % (rc, err))
    check_console(ck, "-i conv1/Relu6", out, total=7, tpu=1, cpu=6, subgraphs=1)
    rows = console_table(ck, "-i conv1/Relu6", out, shown=True)
    ck.check(("CONV_2D", 1, STATUSES[0]) in rows and ("CONV_2D", 1, STATUSES[1]) in rows,
             "-i conv1/Relu6: rows %s" % rows)

    # -n 2 (and the #671 spelling -s -d -k 10 -n 2).
    d = fresh_dir(tmp, "n2")
    rc, out, err = ck.run("compile", "-s", "-d", "-k", "10", "-n", "2", "-o", d, demo)
    ck.check(rc == 0, "-n 2: exit %d: %s" % (rc, err))
    names = ["demo_segment_%d_of_2_edgetpu.%s" % (k, ext) for k in range(2) for ext in ("log", "tflite")]
    ck.check(sorted(os.listdir(d)) == sorted(names), "-n 2 wrote %s, expected %s" % (sorted(os.listdir(d)), names))
    check_console(ck, "-n 2", out, total=7, cpu=0, output_path=os.path.join(d, "demo_segment_0_of_2_edgetpu.tflite"))
    ck.check("Output model: " + os.path.join(d, "demo_segment_1_of_2_edgetpu.tflite") in out.splitlines(),
             "-n 2: segment 1 not named on the console")
    seg_total = 0
    for k in range(2):
        tfl = os.path.join(d, "demo_segment_%d_of_2_edgetpu.tflite" % k)
        if os.path.isfile(tfl):
            reopens(ck, "-n 2 segment %d" % k, tfl)
        rows = check_log(ck, "-n 2 segment %d" % k, os.path.join(d, "demo_segment_%d_of_2_edgetpu.log" % k), demo, tfl)
        ck.check(len(rows) > 0 and sum(c for _, c, _ in rows) < 7, "-n 2: segment %d log has every op" % k)
        seg_total += sum(c for _, c, _ in rows)
    ck.check(seg_total == 7, "-n 2: segment logs count %d ops, the model has 7" % seg_total)

    # Errors that need no shared data.
    test_errors(ck, tmp, demo, None)
    return demo


# ---- errors: non-zero exit, the file named, nothing written -------------------------

def expect_failure(ck, tmp, what, args, model, names=(), code=None, sentinel_stem="demo", mention=()):
    d = fresh_dir(tmp, "err")
    sentinel = os.path.join(d, sentinel_stem + "_edgetpu.tflite")
    content = b"pre-existing output, must survive a failed compile\n" * 3
    with open(sentinel, "wb") as f:
        f.write(content)
    before = sorted(os.listdir(d))
    rc, out, err = ck.run("compile", *(list(args) + ["-o", d] + ([model] if model else [])))
    ck.check(rc != 0, "%s: exit 0 (stdout: %s)" % (what, out.strip()[:300]))
    if code is not None:
        ck.check(rc == code, "%s: exit %d, expected %d" % (what, rc, code))
    for n in names:
        ck.check(n in err, "%s: stderr does not name '%s': %s" % (what, n, err.strip()[:500]))
    for n in mention:
        ck.check(n in err, "%s: stderr does not say '%s': %s" % (what, n, err.strip()[:500]))
    ck.check(sorted(os.listdir(d)) == before, "%s: the out dir changed: %s" % (what, sorted(os.listdir(d))))
    ck.check(open(sentinel, "rb").read() == content, "%s: the pre-existing %s changed" % (what, sentinel))
    ck.check("Model compiled successfully" not in out, "%s: success printed" % what)


def test_errors(ck, tmp, demo, shared):
    if shared is None:
        missing = os.path.join(tmp, "no_such_model.tflite")
        expect_failure(ck, tmp, "missing file", [], missing, names=["no_such_model.tflite"],
                       sentinel_stem="no_such_model")
        expect_failure(ck, tmp, "unknown long flag", ["--bogus_flag"], demo, code=2)
        expect_failure(ck, tmp, "unknown short flag", ["-q"], demo, code=2)
        expect_failure(ck, tmp, "-m 9", ["-m", "9"], demo, code=2)
        expect_failure(ck, tmp, "-m 15", ["-m", "15"], demo, code=2)
        expect_failure(ck, tmp, "-n 0", ["-n", "0"], demo, code=2)
        expect_failure(ck, tmp, "two -i lists for one model", ["-i", "conv1/Relu6", "-i", "dw/Relu6"], demo, code=2,
                       mention=["number of lists"])
        expect_failure(ck, tmp, "unknown -i tensor", ["-i", "no_such_tensor"], demo, names=[demo, "no_such_tensor"])
        expect_failure(ck, tmp, "-n 8 on 7 ops", ["-n", "8"], demo, names=[demo])
        rc, out, err = ck.run("compile", "-o", os.path.join(tmp, "no_such_dir"), demo)
        ck.check(rc != 0 and "no_such_dir" in err, "missing out dir: exit %d: %s" % (rc, err.strip()))
        ck.check(not os.path.exists(os.path.join(tmp, "no_such_dir")), "missing out dir was created")
        rc, out, err = ck.run("compile")
        ck.check(rc == 2, "no model: exit %d" % rc)
        return
    dyn = os.path.join(shared, "tflite-micro", "hello_world_int8.tflite")
    flt = os.path.join(shared, "float", "mobilenet_v1_0.25_128.tflite")
    if ck.check(os.path.isfile(dyn), "missing %s" % dyn):
        expect_failure(ck, tmp, "dynamic shape", [], dyn, names=[dyn], mention=["dynamic"],
                       sentinel_stem="hello_world_int8")
    if ck.check(os.path.isfile(flt), "missing %s" % flt):
        expect_failure(ck, tmp, "float model", [], flt, names=[flt], mention=["Model not quantized"],
                       sentinel_stem="mobilenet_v1_0.25_128")
        # One bad model among two: nothing at all is written, not even the good one.
        expect_failure(ck, tmp, "good + float model", [demo], flt, names=[flt], mention=["Model not quantized"])
    expect_failure(ck, tmp, "one -i list for two models", ["-i", "conv1/Relu6", demo], demo, code=2,
                   mention=["number of lists"])
    # Already compiled models are refused, saying by whom (issue #16 item 3):
    # a model Google's compiler made, and one etpu made.
    google = os.path.join(shared, "coral", "deeplabv3_mnv2_pascal_quant_edgetpu.tflite")
    if ck.check(os.path.isfile(google), "missing %s" % google):
        expect_failure(ck, tmp, "Google-compiled model", [], google, names=[google], code=1,
                       mention=["already compiled by Google's Edge TPU compiler", "edgetpu-custom-op"],
                       sentinel_stem="deeplabv3_mnv2_pascal_quant_edgetpu")
    # The output is checked before compiling (issue #16 item 9): an output
    # path that is a folder is reported, not the model's own problem.
    if os.path.isfile(google):
        d = fresh_dir(tmp, "outfolder")
        os.mkdir(os.path.join(d, "deeplabv3_mnv2_pascal_quant_edgetpu_edgetpu.tflite"))
        rc, out, err = ck.run("compile", "-o", d, google)
        ck.check(rc == 3 and "is a folder" in err and "already compiled" not in err,
                 "output path a folder, reported before compiling: exit %d: %s" % (rc, err.strip()))
    d = fresh_dir(tmp, "ours")
    rc, out, err = ck.run("compile", "-s", "-o", d, demo)
    ours = os.path.join(d, "demo_edgetpu.tflite")
    if ck.check(rc == 0 and os.path.isfile(ours), "compile demo for the recompile check: exit %d: %s" % (rc, err)):
        expect_failure(ck, tmp, "etpu-compiled model", [], ours, names=[ours], code=1,
                       mention=["already compiled by etpu"], sentinel_stem="demo_edgetpu")


# ---- shared models -------------------------------------------------------------------

def test_shared(ck, tmp, shared, demo):
    deeplab = os.path.join(shared, "coral", "deeplabv3_mnv2_pascal_quant.tflite")
    if not ck.check(os.path.isfile(deeplab), "missing %s" % deeplab):
        return
    d = fresh_dir(tmp, "deeplab")
    rc, out, err = ck.run("compile", "-s", "-o", d, deeplab)
    ck.check(rc == 0, "compile deeplab: exit %d: %s" % (rc, err))
    outp = os.path.join(d, "deeplabv3_mnv2_pascal_quant_edgetpu.tflite")
    check_console(ck, "deeplab", out, total=72, tpu=64, cpu=8, subgraphs=1, input_path=deeplab, output_path=outp)
    rows = console_table(ck, "deeplab", out, shown=True)
    for row in (("RESIZE_BILINEAR", 1, STATUSES[2]), ("ARG_MAX", 1, STATUSES[3]), ("QUANTIZE", 1, STATUSES[1]),
                ("CONV_2D", 2, STATUSES[1]), ("CONV_2D", 36, STATUSES[0])):
        ck.check(row in rows, "deeplab: no row %s in %s" % (row, rows))
    log_rows = check_log(ck, "deeplab", os.path.join(d, "deeplabv3_mnv2_pascal_quant_edgetpu.log"), deeplab, outp,
                         total=72)
    ck.check(rows == log_rows, "deeplab: -s table differs from the .log")
    ck.check("upscales height by 33.0x" in out, "deeplab: the ResizeBilinear reason is not explained")
    if os.path.isfile(outp):
        reopens(ck, "deeplab", outp)

    # -a: the ops behind the unmapped resize form a second Edge TPU subgraph.
    d = fresh_dir(tmp, "deeplab_a")
    rc, out, err = ck.run("compile", "-sa", "-o", d, deeplab)
    ck.check(rc == 0, "compile -sa deeplab: exit %d: %s" % (rc, err))
    check_console(ck, "deeplab -sa", out, total=72, tpu=70, cpu=2, subgraphs=2)
    rows = console_table(ck, "deeplab -sa", out, shown=True)
    ck.check(STATUSES[1] not in [s for _, _, s in rows], "deeplab -sa: ops still behind the cut")

    # Co-compilation: the demo after deeplab sees the cache deeplab used.
    d = fresh_dir(tmp, "cocompile")
    rc, alone, err = ck.run("compile", "-o", d, demo)
    a, _ = parse_console(alone)
    d = fresh_dir(tmp, "cocompile")
    rc, out, err = ck.run("compile", "-o", d, deeplab, demo)
    ck.check(rc == 0, "co-compile: exit %d: %s" % (rc, err))
    ck.check(sorted(os.listdir(d)) == sorted(["deeplabv3_mnv2_pascal_quant_edgetpu.tflite",
                                              "deeplabv3_mnv2_pascal_quant_edgetpu.log", "demo_edgetpu.tflite",
                                              "demo_edgetpu.log"]), "co-compile wrote %s" % sorted(os.listdir(d)))
    lines = out.splitlines()
    starts = [i for i, l in enumerate(lines) if l.startswith("Input model: ")]
    if ck.check(len(starts) == 2, "co-compile: %d 'Input model:' blocks" % len(starts)):
        first = "\n".join(lines[:starts[1]])
        second = "\n".join(lines[starts[1] - 4:])
        check_console(ck, "co-compile deeplab", first, total=72, output_path=os.path.join(
            d, "deeplabv3_mnv2_pascal_quant_edgetpu.tflite"))
        b = check_console(ck, "co-compile demo", second, total=7, output_path=os.path.join(d, "demo_edgetpu.tflite"))
        if a.get("on_chip_remaining") and b.get("on_chip_remaining"):
            ka, kb = kib(*a["on_chip_remaining"]), kib(*b["on_chip_remaining"])
            ck.check(kb < ka - 1024, "co-compile: demo has %.1f KiB remaining with deeplab, %.1f KiB alone" % (kb, ka))
    for name in ("deeplabv3_mnv2_pascal_quant_edgetpu.tflite", "demo_edgetpu.tflite"):
        if os.path.isfile(os.path.join(d, name)):
            reopens(ck, "co-compile", os.path.join(d, name))

    test_errors(ck, tmp, demo, shared)
    test_targets(ck, tmp, shared)


def test_targets(ck, tmp, shared):
    """--target on compile, inspect and run: named in text, JSON and .log."""
    dm05 = os.path.join(shared, "coral", "deeplabv3_mnv2_dm05_pascal_quant.tflite")
    d = fresh_dir(tmp, "target")
    rc, out, err = ck.run("compile", "-o", d, dm05)
    ck.check(rc == 0 and "\netpu: target usb: USB Accelerator (USB 3.0)" in out
             and "\netpu: estimated latency on usb: " in out, "compile: no default target lines: %s" % err)
    rc, out, err = ck.run("compile", "--target=devboard-micro", "--json", "-o", d, dm05)
    try:
        doc = json.loads(out)["models"][0]
    except (ValueError, KeyError, IndexError):
        doc = {}
    ck.check(rc == 0 and doc.get("target") == "devboard-micro", "compile --json: target %r" % doc.get("target"))
    micro = doc.get("devboard_micro", {})
    ck.check(micro.get("runs") is False and micro.get("mcu_ops") == 8 and micro.get("tflm_commit") == "24c08505",
             "compile --target devboard-micro deeplab: %r" % {k: micro.get(k) for k in ("runs", "mcu_ops")})
    ck.check(doc.get("latency", {}).get("estimated") is False, "devboard-micro has a latency estimate")
    log = os.path.join(d, "deeplabv3_mnv2_dm05_pascal_quant_edgetpu.log")
    text = open(log, encoding="utf-8").read() if os.path.isfile(log) else ""
    ck.check("\netpu: target devboard-micro: " in text and "etpu: Dev Board Micro (TFLite Micro 24c08505" in text,
             ".log does not name the target")
    rc, out, err = ck.run("compile", "--target", "pcie", "-o", d, dm05)
    ck.check(rc == 0 and "etpu: estimated latency on pcie: " in out, "compile --target pcie: %s" % err)
    for args in (("compile", "--target", "tpu", "-o", d, dm05), ("inspect", "--target=tpu", dm05),
                 ("run", dm05, "--input", dm05, "--target", "mcu")):
        rc, out, err = ck.run(*args)
        ck.check(rc == 2 and len(err.strip().splitlines()) == 1 and "--target" in err,
                 "%s --target bad: exit %d, %r" % (args[0], rc, err))
    hello = os.path.join(shared, "tflite-micro", "hello_world_int8.tflite")
    rc, out, err = ck.run("inspect", "--json", "--target", "devboard-micro", hello)
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    micro = doc.get("devboard_micro", {})
    ck.check(rc == 0 and doc.get("target") == "devboard-micro" and micro.get("runs") is True
             and micro.get("arena_bytes") == 628 and micro.get("fit") == "sram",
             "inspect --target devboard-micro hello_world_int8: %r" % micro)
    rc, out, err = ck.run("inspect", "--target", "devboard-micro", hello)
    ck.check(rc == 0 and "etpu: Dev Board Micro (TFLite Micro 24c08505, as google-coral/coralmicro c9f665b0 pins): "
             "runs" in out, "inspect text: no verdict")
    compiled = os.path.join(shared, "coral", "mobilenet_v1_0.25_128_quant_edgetpu.tflite")
    rc, out, err = ck.run("inspect", compiled)
    ck.check(rc == 0 and "etpu: estimated latency on usb: at least " in out, "inspect Google's model: no lower bound")
    compiled = os.path.join(shared, "coral", "mobilenet_v2_1.0_224_quant_edgetpu.tflite")
    rc, out, err = ck.run("inspect", compiled)
    ck.check(rc == 0 and "(458040 cycles from the package at 500 MHz)" in out,
             "inspect Google's MobileNet v2: the package's cycles not used")
    inp = os.path.join(shared, "goldens", "tflite-ref", "hello_world_int8", "input_0.bin")
    rc, out, err = ck.run("run", hello, "--input", inp, "--target", "devboard-micro", "--json")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    ck.check(rc == 0 and doc.get("profile") == "tflite-ref" and doc.get("target") == "devboard-micro"
             and doc.get("devboard_micro", {}).get("arena_bytes") == 628 and doc.get("arena_bytes", 0) > 0,
             "run --target devboard-micro --json: %s" % err)
    rc, out, err = ck.run("run", hello, "--input", inp, "--target", "devboard-micro")
    ck.check(rc == 0 and "target devboard-micro: arena etpu used " in out
             and "TFLite Micro's arena estimated 628 bytes" in out, "run --target devboard-micro text")
    rc, out, err = ck.run("run", hello, "--input", inp, "--target", "devboard-micro", "--profile", "litert")
    ck.check(rc == 2 and "tflite-ref" in err, "run --target devboard-micro --profile litert: exit %d" % rc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--etpu", required=True)
    ap.add_argument("--shared", default="")
    args = ap.parse_args()
    shared = os.environ.get("ETPU_SHARED_DATA") or args.shared
    ck = Checker(os.path.abspath(args.etpu))
    tmp = tempfile.mkdtemp(prefix="etpu_compile_cli_")
    try:
        demo = test_demo(ck, tmp)
        have_shared = bool(shared) and os.path.isdir(shared)
        if have_shared and demo:
            test_shared(ck, tmp, os.path.abspath(shared), demo)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("compile_cli: %d checks" % ck.checks)
    print("%d passed, %d failed" % (ck.checks - ck.failures, ck.failures))
    if ck.failures:
        return 1
    if not have_shared:
        required = os.environ.get("ETPU_REQUIRE_SHARED_DATA", "") == "1"
        print("compile_cli: shared data not found at '%s': the demo checks passed, the shared-model checks did not "
              "run; %s" % (shared, "failing because ETPU_REQUIRE_SHARED_DATA=1" if required else "skipping"),
              file=sys.stderr)
        return 1 if required else 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
