"""conftest.py — shared fixtures of the Python package's tests (tests/python/).

ctest runs these files with /usr/bin/python3 -m pytest and sets
PYTHONPATH (the built package, build/python), ETPU_CLI (the etpu program,
whose answers the tests compare with) and ETPU_SHARED_DATA. Without the
shared data the run exits 77 (ctest: skipped), or fails when
ETPU_REQUIRE_SHARED_DATA=1, as the C tests do.
"""
import json
import os
import subprocess

import pytest

DATA = os.environ.get("ETPU_SHARED_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
CORAL = os.path.join(DATA, "coral")
CLI = os.environ.get("ETPU_CLI", "etpu")


def pytest_configure(config):
    if not os.path.isdir(CORAL):
        if os.environ.get("ETPU_REQUIRE_SHARED_DATA") == "1":
            pytest.exit("no shared data at %s (ETPU_REQUIRE_SHARED_DATA=1)" % DATA, returncode=1)
        pytest.exit("skipped: no shared data at %s" % DATA, returncode=77)


def coral(*parts):
    """Path of a file of the shared Coral data."""
    return os.path.join(CORAL, *parts)


def run_cli(args):
    """Run the etpu program with args (a list); its CompletedProcess. An
    LD_PRELOAD set for python3 (the ASan runtime, under ETPU_SANITIZE) is
    not passed on: the program carries its own sanitizer runtime."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    return subprocess.run([CLI] + list(args), capture_output=True, text=True, env=env)


def etpu_run_json(model, inputs, *extra):
    """`etpu run MODEL --input ... --json` parsed; asserts exit 0."""
    cmd = ["run", model]
    for i in inputs:
        cmd += ["--input", i]
    r = run_cli(cmd + list(extra) + ["--json"])
    assert r.returncode == 0, "%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr)
    return json.loads(r.stdout)


def cli(*args):
    """Run the etpu program with args (any values, made strings); its stdout.
    Asserts exit 0, with the command and its stderr in the message."""
    r = run_cli([str(a) for a in args])
    assert r.returncode == 0, "etpu %s: exit %d: %s" % (" ".join(map(str, args)), r.returncode, r.stderr)
    return r.stdout


def read(path):
    """A file's bytes."""
    with open(path, "rb") as f:
        return f.read()
