"""cli_util.py — what the CLI test scripts share (hostile_strings.py,
cli_consistency.py, readme_check.py): a pass/fail tally that prints each
check, and a writer of small 24-bit BMP images with a seeded pattern.
Python 3 standard library only.
"""

import struct
import sys


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
