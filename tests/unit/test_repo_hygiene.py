"""The repository's own rules: docs/commands is what the argparse parsers say, and the
code is ruff clean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from godbg.commands.docs import generate

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_command_docs_are_current():
    out_dir = os.path.join(REPO, "docs", "commands")
    stale = []
    for path, content in generate(out_dir).items():
        try:
            with open(path) as f:
                on_disk = f.read()
        except FileNotFoundError:
            on_disk = None
        if on_disk != content:
            stale.append(os.path.relpath(path, REPO))
    assert not stale, f"regenerate with `python -m godbg.commands.docs`: {stale}"


def test_every_command_has_a_docs_page():
    names = sorted(os.path.basename(p)[:-3] for p in generate("docs/commands") if not p.endswith("README.md"))
    assert names == sorted(["info", "goroutines", "bt", "ms", "headroom", "map", "panic", "report",
                            "chan", "waits", "leaks"])


def test_ruff_clean():
    ruff = shutil.which("ruff") or os.path.join(os.path.dirname(sys.executable), "ruff")
    if not os.path.exists(ruff):
        if os.environ.get("CI"):
            pytest.fail("ruff is not installed (it is in the [test] extras)")
        pytest.skip("ruff is not installed")
    p = subprocess.run([ruff, "check", "godbg", "tests", "scripts", "benchmarks", "gdbinit.py"], cwd=REPO,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
