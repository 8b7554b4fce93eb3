#!/usr/bin/env python3
"""abi_symbols.py — libetpu.so exports exactly the functions etpu.h declares.

The library is built with hidden visibility and etpu.h switches default
visibility on for its own declarations; this test reads the dynamic symbol
table (`nm -D --defined-only`) and the header's function declarations
(comments removed; every `etpu_name(` that is not a function-pointer type or
a macro) and fails on any symbol exported but not declared (an internal
function leaking into the ABI) and any declaration not exported (a public
function missing from the library).

usage: abi_symbols.py LIBETPU_SO ETPU_H
"""
import re
import subprocess
import sys


def header_functions(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    # drop preprocessor lines (with continuations): macros are not symbols
    text = re.sub(r"^\s*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
    names = set()
    for m in re.finditer(r"(\(\s*\*\s*)?\b(etpu_[A-Za-z0-9_]+)\s*\(", text):
        if m.group(1):  # (*etpu_fn)(...): a function-pointer type or field
            continue
        names.add(m.group(2))
    return names


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] in "TtWiDdBbRrVv":
            syms.add(parts[2].split("@")[0])
    return syms


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    lib, header = sys.argv[1], sys.argv[2]
    declared = header_functions(header)
    syms = exported(lib)
    failed = 0
    extra = sorted(syms - declared)
    missing = sorted(declared - syms)
    for s in extra:
        print("exported but not declared in etpu.h: %s" % s)
    for s in missing:
        print("declared in etpu.h but not exported: %s" % s)
    failed = len(extra) + len(missing)
    print("abi_symbols: %d functions declared, %d symbols exported" % (len(declared), len(syms)))
    passed = len(declared & syms)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or passed < 100 else 0)


if __name__ == "__main__":
    main()
