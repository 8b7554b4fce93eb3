"""cli_util.py — what the CLI test scripts share (hostile_strings.py,
cli_consistency.py, readme_check.py, task_cli.py, visualize_*.py, quant_accuracy.py): a
pass/fail tally that prints each check, a writer of small 24-bit BMP images
with a seeded pattern, and a reader of 8-bit PNGs.
Python 3 standard library only.
"""

import struct
import sys
import zlib


class Tally:
    """Counts checks; result() prints "ok NAME" or "FAIL NAME" and the problems."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def result(self, name, problems):
        if problems:
            self.failed += 1
            print("FAIL %s" % name)
            for p in problems:
                print("  %s" % p)
        else:
            self.passed += 1
            print("ok   %s" % name)
        sys.stdout.flush()

    def finish(self):
        """Print "N passed, N failed"; return the exit code (1 if any failed)."""
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def write_bmp(path, w, h, seed):
    """A w x h 24-bit BMP whose pixels follow seed (path may be bytes)."""
    row = (w * 3 + 3) & ~3
    pixels = bytearray()
    for y in range(h):
        line = bytearray((x * 7 + y * 13 + seed * 31 + c * 50) % 256 for x in range(w) for c in range(3))
        pixels += line + b"\0" * (row - w * 3)
    header = b"BM" + struct.pack("<IHHI", 14 + 40 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(header + info + pixels)


def read_png(path):
    """An 8-bit, non-interlaced grey (1), RGB (3) or RGBA (4 channels) PNG as
    (width, height, channels, bytes of the rows, top first)."""
    d = open(path, "rb").read()
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG" % path)
    pos, idat, w, h, bpp = 8, b"", 0, 0, 0
    while pos < len(d):
        n, kind = struct.unpack(">I4s", d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            bpp = {0: 1, 2: 3, 6: 4}.get(ctype, 0)
            if depth != 8 or not bpp or interlace:
                raise ValueError("%s: %d-bit colour type %d, interlace %d not handled" % (path, depth, ctype, interlace))
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    out = bytearray(stride * h)
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return w, h, bpp, out


def read_png8(path):
    """read_png's PNG as (width, height, channels, rows): rows are bytes of
    width * channels samples, top first."""
    w, h, channels, data = read_png(path)
    stride = w * channels
    return w, h, channels, [bytes(data[y * stride:(y + 1) * stride]) for y in range(h)]
