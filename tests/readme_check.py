#!/usr/bin/env python3
"""readme_check.py — the README describes the repository as it is.

Checks (issue #16 item 12):
  - the command list names every subcommand tools/etpu/main.c dispatches;
  - every folder and file the Layout block names exists;
  - no link or citation points outside the repository (relative links must
    resolve inside it; the team's notes such as TFLITE.md are not shipped);
  - the README's first command, run in a scratch git repository holding the
    project's .gitignore, leaves `git status --porcelain` empty (its outputs
    are ignored, not left untracked in a clone).

Prints each failure, then "N passed, N failed"; exits 1 if any failed.
Python 3 standard library only (git for the last check; skipped without it).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

from cli_util import Tally

T = Tally()
result = T.result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--etpu", required=True)
    args = ap.parse_args()
    src = args.source
    with open(os.path.join(src, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    with open(os.path.join(src, "tools", "etpu", "main.c"), encoding="utf-8") as f:
        main_c = f.read()

    commands = sorted(set(re.findall(r'!strcmp\(cmd, "([a-z]+)"\)', main_c)) - {"help", "version", "show"})
    block = readme.split("The command-line program today", 1)[-1].split("```", 2)[1]
    listed = set(re.findall(r"^etpu ([a-z]+)", block, re.M))
    result("the command list names every subcommand (%s)" % ", ".join(commands),
           ["missing: %s" % c for c in commands if c not in listed])

    layout = readme.split("## Layout", 1)[1].split("```", 2)[1]
    problems = []
    for line in layout.splitlines():
        for path in re.findall(r"^(\S+)|\s((?:src|tools|tests)/[\w/]+/)", line):
            for p in path:
                if p and not os.path.exists(os.path.join(src, p.rstrip(":"))):
                    problems.append("%s does not exist" % p)
    result("every path of the Layout block exists", problems)

    problems = []
    for target in re.findall(r"\]\(([^)]+)\)", readme):
        if target.startswith("#"):
            continue
        if re.match(r"[a-z]+:", target) or target.startswith("..") or not os.path.exists(os.path.join(src, target)):
            problems.append("link to %s" % target)
    for ref in ("TFLITE.md", "EDGETPU.md", "ORACLES.md", "LEARNING.md", "STYLE.md", "shared/docs"):
        if ref in readme:
            problems.append("cites %s, which the repository does not hold" % ref)
    result("no link or citation outside the repository", problems)

    first = re.search(r"```sh\n(.*?)\n```", readme, re.S).group(1)
    etpu_part = first[first.index("./build/etpu"):]
    if shutil.which("git") is None:
        print("note: git not found; the untracked-files check is skipped")
        return finish()
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(src, ".gitignore"), tmp)
        subprocess.run(["git", "init", "-q", tmp], check=True)
        os.makedirs(os.path.join(tmp, "build"))
        os.symlink(os.path.abspath(args.etpu), os.path.join(tmp, "build", "etpu"))
        r = subprocess.run(["sh", "-c", etpu_part], cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        st = subprocess.run(["git", "status", "--porcelain"], cwd=tmp, stdout=subprocess.PIPE).stdout.decode()
        left = [l for l in st.splitlines() if l[3:] != ".gitignore"]
        result("the README's first command leaves no untracked file (%s)" % etpu_part,
               (["exit %d: %s" % (r.returncode, r.stderr.decode()[-300:])] if r.returncode else []) +
               ["untracked: %s" % l for l in left])
    return finish()


def finish():
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
