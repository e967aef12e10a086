"""Run godbg's command line the way a user does, for integration tests."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.integration import matrix


def godbg(*argv: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "godbg", *argv], capture_output=True, text=True,
                          timeout=timeout, env=env)


def godbg_core(fx: matrix.Fixture, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`godbg core BIN CORE ARGV…` on a fixture's core."""
    assert fx.core is not None, "fixture has no core"
    return godbg("core", str(fx.binary), str(fx.core), *argv, timeout=timeout)


def godbg_json(fx: matrix.Fixture, *argv: str, expect_status: int = 0) -> Any:
    """`godbg core … ARGV… --json`, checked: the exit status and one JSON document."""
    p = godbg_core(fx, *argv, "--json")
    assert p.returncode == expect_status, f"godbg {' '.join(argv)}: exit {p.returncode}\n{p.stderr[-3000:]}"
    return json.loads(p.stdout)
