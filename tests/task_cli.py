#!/usr/bin/env python3
"""task_cli.py — `etpu run`'s task outputs (detect, segment, pose) and --draw.

Each shared model runs on its shared image through `etpu run --json`, and
the task section is checked against the references in the shared data and
against the model's own raw outputs (--output-dir .npy files):

  movenet_single_pose_lightning_ptq + squat.bmp (500x610): one pose, 17
      named keypoints; those with reference score > 0.4 within 0.04 of
      movenet_..._ptq_reference.csv on x and y (Coral's tolerance: the CSV
      was made by other arithmetic, its values are not on this model's
      output grid and differ by up to 0.021), so within 20 px (x) and 24.4 px
      (y) of the reference scaled to the image; and exactly the raw output
      [1,1,17,3] (y, x in 0..1) times the image size.
  posenet_mobilenet_v1_075_353_481_16_quant_decoder + posenet/test_image.bmp
      (640x480, stretched to the 481x353 input): the reference CSV's poses;
      keypoints with score > 0.5 within 0.01 of it (normalized: 6.4 px, 4.8 px).
  deeplabv3_mnv2_pascal_quant + bird_segmentation.bmp: the mask (mask.npy)
      agrees with bird_segmentation_mask.bmp on > 0.9 of the pixels (void
      255 aside); classes background and bird; shares are the mask's counts.
      deeplab_mobilenet_edgetpu_slim_cityscapes_quant + its image: > 0.84.
  traffic_model (the only shared model with TFLite_Detection_PostProcess;
      no reference exists for it, and on the shared photos none of its scores
      reaches 0.5) + kite_and_cold.jpg (1352x900) with zero LSTM state: the
      objects are exactly the op's rows with score >= --threshold, boxes
      scaled to the image and clipped; the default threshold gives none.

--draw PNGs are decoded here (zlib, standard library) and their pixels
checked: box edges at the reported coordinates (pixel floor(v + 0.5)) have
the box colour (PASCAL VOC colour map, class + 1); keypoints at or above the
threshold are red; every sampled mask pixel below the legend is the integer
mean of the image pixel and its class colour. Two runs give the same bytes.

Bad inputs: --task detect on a classifier and on a model with no task
(hello_world), --task pose on DeepLab, --draw to a missing folder or a
folder (refused before the work: a --repeat that would take minutes returns
at once), --draw onto its own input image (refused, the image unchanged),
--draw on a classifier or a .npy input, bad --task/--threshold
values, a grayscale BMP and an RGBA PNG (alpha dropped: the same keypoints
as the RGB image).

Prints "N passed, N failed"; exits 1 on any failure, 77 without the shared
data (1 with ETPU_REQUIRE_SHARED_DATA=1). Standard library only.
"""

import argparse
import csv
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_util import Tally, read_png  # noqa: E402
from e2e_coral import read_bmp_classes, read_npy  # noqa: E402
from run_cli import write_npy  # noqa: E402

T = Tally()


def run(etpu, *args, timeout=600):
    return subprocess.run([etpu, "run"] + list(args), capture_output=True, text=True, timeout=timeout)


def run_json(etpu, *args):
    """The --json document of a run that must succeed, or None (recorded)."""
    p = run(etpu, "--json", *args)
    if p.returncode != 0:
        T.result("etpu run %s" % " ".join(os.path.basename(a) for a in args[:2]),
                 ["exit %d: %s" % (p.returncode, p.stderr.strip())])
        return None
    return json.loads(p.stdout)


def voc_colour(k):
    c = [0, 0, 0]
    for j in range(7, -1, -1):
        for ch in range(3):
            c[ch] |= ((k >> ch) & 1) << j
        k >>= 3
    return tuple(c)


def f32(v):
    """v rounded to float32 (JSON carries 9 digits: a float32 reads back exactly)."""
    return struct.unpack("f", struct.pack("f", v))[0]


def px(v):
    return int(math.floor(v + 0.5))


def read_png_rgb(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA PNG."""
    w, h, c, data = read_png(path)
    assert c in (3, 4), (path, c)
    return w, h, [[tuple(data[(y * w + x) * c:(y * w + x) * c + 3]) for x in range(w)] for y in range(h)]


def write_png_rgba(path, w, h, rgb_rows):
    raw = b"".join(b"\0" + bytes(v for p in row for v in (p[0], p[1], p[2], 255)) for row in rgb_rows)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def read_bmp_rgb(path):
    """Rows of (r, g, b) of a 24-bit BMP, top row first."""
    d = open(path, "rb").read()
    off = struct.unpack("<I", d[10:14])[0]
    w, h, _, bpp = struct.unpack("<iiHH", d[18:30])
    assert bpp == 24
    stride = (w * 3 + 3) // 4 * 4
    rows = []
    for y in range(abs(h)):
        b = off + ((abs(h) - 1 - y) if h > 0 else y) * stride
        rows.append([(d[b + 3 * x + 2], d[b + 3 * x + 1], d[b + 3 * x]) for x in range(w)])
    return w, abs(h), rows


def write_bmp_gray(path, w, h, rows):
    """An 8-bit grey-palette BMP of the luma of rgb rows."""
    stride = (w + 3) // 4 * 4
    pix = bytearray()
    for row in reversed(rows):
        line = bytes((19595 * r + 38470 * g + 7471 * b + 32768) >> 16 for r, g, b in row)
        pix += line + b"\0" * (stride - w)
    pal = b"".join(bytes((i, i, i, 0)) for i in range(256))
    off = 14 + 40 + len(pal)
    with open(path, "wb") as f:
        f.write(b"BM" + struct.pack("<IHHI", off + len(pix), 0, 0, off) +
                struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 0, len(pix), 2835, 2835, 256, 0) + pal + pix)


def same_bytes_twice(etpu, name, args, png, tmp):
    again = os.path.join(tmp, "again.png")
    p = run(etpu, *[again if a == png else a for a in args])
    same = p.returncode == 0 and open(png, "rb").read() == open(again, "rb").read()
    T.result("%s: --draw gives the same PNG bytes twice" % name, [] if same else ["the PNGs differ"])


def check_keypoint_pixels(name, png, poses, thr):
    w, h, rows = read_png_rgb(png)
    bad, n = [], 0
    for p in poses:
        for k in p["keypoints"]:
            x, y = px(k["x"]), px(k["y"])
            if k["score"] < thr or not (0 <= x < w and 0 <= y < h):
                continue
            n += 1
            if rows[y][x] != (255, 0, 0):
                bad.append("%s at (%d, %d) is %s, not red" % (k["name"], x, y, rows[y][x]))
    T.result("%s: --draw: %d keypoints red at their pixels" % (name, n), bad + ([] if n else ["no keypoint drawn"]))


def movenet(etpu, coral, tmp):
    name = "movenet + squat.bmp"
    png = os.path.join(tmp, "movenet.png")
    model = os.path.join(coral, "movenet_single_pose_lightning_ptq.tflite")
    out = os.path.join(tmp, "mn")
    args = [model, "--input", os.path.join(coral, "squat.bmp"), "--draw", png, "-o", out]
    doc = run_json(etpu, *args)
    if not doc:
        return None
    task = doc["task"]
    probs = []
    if task["name"] != "pose" or task["image"] != [500, 610] or len(task["poses"]) != 1:
        probs.append("task %s image %s poses %d" % (task["name"], task["image"], len(task.get("poses", []))))
        T.result(name, probs)
        return None
    kps = task["poses"][0]["keypoints"]
    _, shape, raw = read_npy(os.path.join(out, "output_0.npy"))
    ref = list(csv.DictReader(open(os.path.join(coral, "movenet_single_pose_lightning_ptq_reference.csv"))))
    worst = 0.0
    for r in ref:
        k = int(r["keypoint_id"])
        kp = kps[k]
        if f32(kp["x"]) != f32(raw[3 * k + 1] * 500) or f32(kp["y"]) != f32(raw[3 * k] * 610):
            probs.append("%s (%g, %g) is not the raw output times 500x610" % (kp["name"], kp["x"], kp["y"]))
        if float(r["keypoint_score"]) <= 0.4:
            continue
        dx, dy = abs(kp["x"] - 500 * float(r["keypoint_x"])), abs(kp["y"] - 610 * float(r["keypoint_y"]))
        worst = max(worst, dx / 500, dy / 610)
        if dx > 0.04 * 500 or dy > 0.04 * 610:
            probs.append("%s off the reference by %.1f, %.1f px" % (kp["name"], dx, dy))
    if [k["name"] for k in kps][:3] != ["nose", "left_eye", "right_eye"] or kps[16]["name"] != "right_ankle":
        probs.append("keypoint names %s" % [k["name"] for k in kps])
    T.result("%s: 17 keypoints within 0.04 of the reference CSV (worst %.4f normalized)" % (name, worst), probs)
    check_keypoint_pixels(name, png, task["poses"], 0.5)
    same_bytes_twice(etpu, name, args, png, tmp)
    return kps


def posenet(etpu, coral, tmp):
    name = "posenet + test_image.bmp"
    base = os.path.join(coral, "posenet", "posenet_mobilenet_v1_075_353_481_16_quant_decoder")
    png = os.path.join(tmp, "posenet.png")
    doc = run_json(etpu, base + ".tflite", "--input", os.path.join(coral, "posenet", "test_image.bmp"), "--draw", png)
    if not doc:
        return
    task = doc["task"]
    ref = list(csv.DictReader(open(base + "_reference.csv")))
    probs = []
    npose = len(set(r["pose_id"] for r in ref))
    if task["name"] != "pose" or task["image"] != [640, 480] or task["input"] != [481, 353] or \
       len(task["poses"]) != npose:
        T.result(name, ["task %s image %s input %s, %d poses (reference %d)" %
                        (task["name"], task["image"], task.get("input"), len(task.get("poses", [])), npose)])
        return
    worst, n = 0.0, 0
    for r in ref:
        p, k = int(r["pose_id"]), int(r["keypoint_id"])
        pose = task["poses"][p]
        if abs(pose["score"] - float(r["pose_score"])) > 0.05:
            probs.append("pose %d score %.3f vs %s" % (p, pose["score"], r["pose_score"]))
        if float(r["keypoint_score"]) <= 0.5:
            continue
        n += 1
        kp = pose["keypoints"][k]
        dx, dy = abs(kp["x"] / 640 - float(r["keypoint_x"])), abs(kp["y"] / 480 - float(r["keypoint_y"]))
        worst = max(worst, dx, dy)
        if dx > 0.01 or dy > 0.01:
            probs.append("pose %d %s off by %.4f, %.4f" % (p, kp["name"], dx, dy))
    T.result("%s: %d poses, %d keypoints within 0.01 of the reference (worst %.4f)" % (name, npose, n, worst), probs)
    check_keypoint_pixels(name, png, task["poses"], 0.5)


def segmentation(etpu, coral, tmp, model, image, mask_bmp, labels, want, agree_min, draw):
    name = "%s + %s" % (model.replace(".tflite", ""), image)
    out = os.path.join(tmp, "seg_" + image)
    png = os.path.join(tmp, "deeplab.png")
    args = [os.path.join(coral, model), "--input", os.path.join(coral, image), "--labels",
            os.path.join(coral, labels), "-o", out] + (["--draw", png] if draw else [])
    doc = run_json(etpu, *args)
    if not doc:
        return
    task = doc["task"]
    _, shape, mask = read_npy(os.path.join(out, "mask.npy"))
    w, h, ref = read_bmp_classes(os.path.join(coral, mask_bmp))
    probs = []
    if task["name"] != "segment" or shape != [h, w] or task.get("mask_file") != os.path.join(out, "mask.npy"):
        T.result(name, ["task %s, mask shape %s, reference %dx%d" % (task["name"], shape, w, h)])
        return
    same = total = 0
    for p, m in zip(mask, ref):
        if m != 255:
            total += 1
            same += p == m
    agree = same / total
    if agree <= agree_min:
        probs.append("pixel agreement %.4f <= %.2f" % (agree, agree_min))
    counts = {}
    for p in mask:
        counts[p] = counts.get(p, 0) + 1
    got = [(c["class"], c["label"]) for c in task["classes"]]
    if want and got != want:
        probs.append("classes %s, expected %s" % (got, want))
    for c in task["classes"]:
        if abs(c["share"] - counts.get(c["class"], 0) / len(mask)) > 1e-9:
            probs.append("class %d share %g is not its mask count" % (c["class"], c["share"]))
    if sorted(counts) != [c["class"] for c in task["classes"]]:
        probs.append("classes listed %s, in the mask %s" % ([c["class"] for c in task["classes"]], sorted(counts)))
    T.result("%s: mask agreement with %s %.4f > %.2f" % (name, mask_bmp, agree, agree_min), probs)
    if not draw:
        return
    pw, ph, rows = read_png_rgb(png)
    iw, ih, img = read_bmp_rgb(os.path.join(coral, image))
    bad, n = [], 0
    for y in range(100, ph, 5):  # the legend stays in the top 100 rows
        for x in range(0, pw, 5):
            col = voc_colour(mask[y * pw + x])
            want_px = tuple((img[y][x][c] + col[c]) // 2 for c in range(3))
            n += 1
            if rows[y][x] != want_px and len(bad) < 5:
                bad.append("(%d, %d) is %s, not %s" % (x, y, rows[y][x], want_px))
    T.result("%s: --draw: %d sampled pixels are the image blended with their class colour" % (name, n),
             bad + ([] if (pw, ph) == (iw, ih) else ["PNG %dx%d, image %dx%d" % (pw, ph, iw, ih)]))
    same_bytes_twice(etpu, name, args, png, tmp)


def detection(etpu, coral, tmp):
    name = "traffic_model + kite_and_cold.jpg"
    zero = os.path.join(tmp, "zero_state.raw")
    with open(zero, "wb") as f:
        f.write(bytes(8 * 8 * 320))
    model = os.path.join(coral, "traffic_model.tflite")
    image = os.path.join(coral, "kite_and_cold.jpg")
    out = os.path.join(tmp, "det")
    png = os.path.join(tmp, "traffic.png")
    thr = 0.07
    args = [model, "--input", image, zero, zero, "--labels", os.path.join(coral, "coco_labels.txt"),
            "--threshold", str(thr), "-o", out, "--draw", png]
    doc = run_json(etpu, *args)
    if not doc:
        return
    task = doc["task"]
    probs = []
    if task["name"] != "detect" or task["image"] != [1352, 900] or task["input"] != [256, 256] or \
       task["fit"] != "stretch":
        T.result(name, ["task %s image %s input %s fit %s" % (task["name"], task["image"], task["input"],
                                                            task.get("fit"))])
        return
    _, _, boxes = read_npy(os.path.join(out, "output_0.npy"))
    _, _, classes = read_npy(os.path.join(out, "output_1.npy"))
    _, _, scores = read_npy(os.path.join(out, "output_2.npy"))
    _, _, count = read_npy(os.path.join(out, "output_3.npy"))
    labels = open(os.path.join(coral, "coco_labels.txt")).read().split("\n")
    want = []
    for i in range(int(count[0])):
        if scores[i] >= f32(thr):
            y0, x0, y1, x1 = boxes[4 * i:4 * i + 4]
            clip = lambda v, hi: f32(min(max(v, 0.0), hi))  # noqa: E731
            want.append((int(classes[i]), labels[int(classes[i])], scores[i], clip(x0 * 1352, 1352),
                         clip(y0 * 900, 900), clip(x1 * 1352, 1352), clip(y1 * 900, 900)))
    got = [(o["class"], o["label"]) + tuple(f32(o[k]) for k in ("score", "xmin", "ymin", "xmax", "ymax"))
           for o in task["objects"]]
    if not want or got != want:
        probs.append("objects %s, the op's rows give %s" % (got, want))
    T.result("%s: %d objects with score >= %g, the op's boxes in image pixels" % (name, len(got), thr), probs)
    d = run_json(etpu, model, "--input", image, zero, zero)
    T.result("%s: no object reaches the default threshold 0.5 (best %.3f)" % (name, max(scores)),
             [] if d and d["task"]["objects"] == [] and max(scores) < 0.5 else ["objects at 0.5: %s" % d])
    # the best box is drawn last: its left, right and bottom edges are its colour
    w, h, rows = read_png_rgb(png)
    o = task["objects"][0]
    col = voc_colour(o["class"] + 1)
    x0, y0, x1, y1 = (min(px(o[k]), lim - 1) for k, lim in (("xmin", w), ("ymin", h), ("xmax", w), ("ymax", h)))
    ym, xm = (y0 + y1) // 2, (x0 + x1) // 2
    bad = ["%s edge (%d, %d) is %s, not %s" % (e, x, y, rows[y][x], col)
           for e, x, y in (("left", x0, ym), ("right", x1, ym), ("bottom", xm, y1)) if rows[y][x] != col]
    T.result("%s: --draw: box edges of %s at (%d, %d, %d, %d) have its colour %s" %
             (name, o["label"], x0, y0, x1, y1, col), bad)
    same_bytes_twice(etpu, name, args, png, tmp)
    # a hostile label (control characters, a long run of 3-byte characters that
    # the label box cuts) is drawn escaped, whole characters only
    evil = os.path.join(tmp, "evil_labels.txt")
    with open(evil, "wb") as f:
        f.write(b"x\nx" + "\u20ac".encode() * 50 + b"\x1b[31m\n")
    p = run(etpu, *[evil if a == os.path.join(coral, "coco_labels.txt") else a for a in args])
    T.result("%s: a hostile label is drawn (exit %d)" % (name, p.returncode),
             [] if p.returncode == 0 and "\\x1b[31m" in p.stdout else [p.stderr.strip()])


def expect_error(etpu, name, code, needles, *args, timeout=600):
    t0 = time.monotonic()
    p = run(etpu, *args, timeout=timeout)
    probs = []
    if p.returncode != code:
        probs.append("exit %d, wanted %d; stderr: %s" % (p.returncode, code, p.stderr.strip()))
    for n in needles:
        if n not in p.stderr:
            probs.append("stderr lacks %r: %s" % (n, p.stderr.strip()))
    if len(p.stderr.strip().splitlines()) != 1:
        probs.append("stderr is not one line: %r" % p.stderr)
    T.result(name, probs)
    return time.monotonic() - t0


def bad_inputs(etpu, coral, shared, tmp, movenet_kps):
    mob = os.path.join(coral, "mobilenet_v1_0.25_128_quant.tflite")
    cat = os.path.join(coral, "cat.bmp")
    expect_error(etpu, "--task detect on a classifier: a clear error", 1,
                 ["not a detect model", "TFLite_Detection_PostProcess", "MobilenetV1/Predictions/Reshape_1"],
                 mob, "--input", cat, "--task", "detect")
    hello = os.path.join(shared, "tflite-micro", "hello_world_float.tflite")
    npy = os.path.join(tmp, "x.npy")
    write_npy(npy, "<f4", [1, 1], struct.pack("<f", 1.0))
    expect_error(etpu, "--task detect on a model with no task (hello_world): a clear error", 1,
                 ["not a detect model", "FLOAT32[1,1]"], hello, "--input", npy, "--task", "detect")
    p = run(etpu, "--json", hello, "--input", npy)
    T.result("a model with no task runs as before (task none)",
             [] if p.returncode == 0 and json.loads(p.stdout)["task"] == {"name": "none"} else [p.stdout + p.stderr])
    deeplab = os.path.join(coral, "deeplabv3_mnv2_pascal_quant.tflite")
    seg = os.path.join(coral, "bird_segmentation.bmp")
    expect_error(etpu, "--task pose on DeepLab: a clear error", 1, ["not a pose model", "ArgMax", "[1,1,17,3]"],
                 deeplab, "--input", seg, "--task", "pose")
    for where in (os.path.join(tmp, "no", "such", "dir", "x.png"), tmp):
        dt = expect_error(etpu, "--draw %s: refused before the work" % where, 3, [where], deeplab, "--input", seg,
                          "--repeat", "100000", "--draw", where, timeout=120)
        T.result("--draw %s: refused at once (%.2f s)" % (where, dt), [] if dt < 20 else ["took %.1f s" % dt])
    copy = os.path.join(tmp, "copy.bmp")
    with open(copy, "wb") as f:
        f.write(open(seg, "rb").read())
    expect_error(etpu, "--draw onto the input image: refused, the input kept", 2, ["would overwrite"], deeplab,
                 "--input", copy, "--draw", copy)
    T.result("the input image is unchanged", [] if open(copy, "rb").read() == open(seg, "rb").read() else ["changed"])
    expect_error(etpu, "--draw on a classifier: a usage error", 2, ["--draw", "classify"], mob, "--input", cat,
                 "--draw", os.path.join(tmp, "c.png"))
    npy_in = os.path.join(tmp, "in.npy")
    write_npy(npy_in, "|u1", [1, 192, 192, 3], bytes(192 * 192 * 3))
    expect_error(etpu, "--draw with a .npy input: a usage error", 2, ["--draw needs an image"],
                 os.path.join(coral, "movenet_single_pose_lightning_ptq.tflite"), "--input", npy_in,
                 "--draw", os.path.join(tmp, "n.png"))
    expect_error(etpu, "--task bogus: a usage error", 2, ["--task must be"], mob, "--input", cat, "--task", "bogus")
    expect_error(etpu, "--threshold 2: a usage error", 2, ["--threshold"], mob, "--input", cat, "--threshold", "2")
    # grayscale and RGBA inputs: sensible results, never a crash
    movenet_model = os.path.join(coral, "movenet_single_pose_lightning_ptq.tflite")
    w, h, rows = read_bmp_rgb(os.path.join(coral, "squat.bmp"))
    rgba = os.path.join(tmp, "squat_rgba.png")
    write_png_rgba(rgba, w, h, rows)
    d = run_json(etpu, movenet_model, "--input", rgba)
    T.result("an RGBA PNG: alpha dropped, the same keypoints as the RGB image",
             [] if d and movenet_kps and d["task"]["poses"][0]["keypoints"] == movenet_kps else ["keypoints differ"])
    gray = os.path.join(tmp, "squat_gray.bmp")
    write_bmp_gray(gray, w, h, rows)
    png = os.path.join(tmp, "gray.png")
    d = run_json(etpu, movenet_model, "--input", gray, "--draw", png)
    probs = []
    if not d or d["task"]["image"] != [500, 610] or len(d["task"]["poses"][0]["keypoints"]) != 17:
        probs.append("no pose: %s" % d)
    else:
        _, _, prow = read_png_rgb(png)
        if any(len(set(prow[y][x])) != 1 for y in range(0, 40) for x in range(0, 500, 7)):
            probs.append("the drawn image is not grey away from the skeleton")
    T.result("a grayscale BMP: one pose on the 500x610 image, drawn grey", probs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etpu", required=True)
    ap.add_argument("--shared", required=True)
    a = ap.parse_args()
    coral = os.path.join(a.shared, "coral")
    if not os.path.exists(os.path.join(coral, "traffic_model.tflite")):
        print("shared data not found at %s" % a.shared)
        sys.exit(1 if os.environ.get("ETPU_REQUIRE_SHARED_DATA", "") == "1" else 77)
    with tempfile.TemporaryDirectory() as tmp:
        kps = movenet(a.etpu, coral, tmp)
        posenet(a.etpu, coral, tmp)
        segmentation(a.etpu, coral, tmp, "deeplabv3_mnv2_pascal_quant.tflite", "bird_segmentation.bmp",
                     "bird_segmentation_mask.bmp", "pascal_voc_segmentation_labels.txt",
                     [(0, "background"), (3, "bird")], 0.9, True)
        segmentation(a.etpu, coral, tmp, "deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite",
                     "cityscapes_segmentation.bmp", "cityscapes_segmentation_mask.bmp",
                     "cityscapes_segmentation_labels.txt", None, 0.84, False)
        detection(a.etpu, coral, tmp)
        bad_inputs(a.etpu, coral, a.shared, tmp, kps)
        keep = os.environ.get("ETPU_TASK_PNG_DIR")
        if keep:  # for looking at: the drawn images
            for n in ("movenet.png", "posenet.png", "deeplab.png", "traffic.png", "gray.png"):
                if os.path.exists(os.path.join(tmp, n)):
                    os.replace(os.path.join(tmp, n), os.path.join(keep, n))
    sys.exit(T.finish())


if __name__ == "__main__":
    main()
