"""`go map` inside gdb — on a core and on the live program stopped at its fatal signal —
against what testdata/maps wrote about its own maps (the same checks as core mode)."""

from __future__ import annotations

import json

import pytest

from tests.integration import matrix
from tests.integration.gdbrun import gdb_batch
from tests.integration.test_maps import _check_stats, _pairs

pytestmark = pytest.mark.gdb


def _compare(truth: dict, outputs: list[str], names: list[str]) -> list[str]:
    failures = []
    for name, out in zip(names, outputs):
        want = truth["maps"][name]
        try:
            got = json.loads(out)
        except json.JSONDecodeError:
            failures.append(f"main.{name}: not JSON: {out[:300]!r}")
            continue
        problems = []
        if (got["type"], got["count"], got["impl"]) != (want["type"], want["count"], truth["map_impl"]):
            problems.append(f"{got['type']} {got['count']} {got['impl']}")
        if _pairs(got["entries"]) != _pairs(want["entries"]):
            problems.append("entries differ")
        problems += _check_stats(got["stats"], want["state"], truth["map_impl"])
        if problems:
            failures.append(f"main.{name}: " + "; ".join(problems))
    return failures


@pytest.mark.core_kinds("kernel")
def test_go_map_on_core(build, core_kind):
    fx = matrix.crash("maps", build, core_kind=core_kind)
    names = sorted(fx.truth["maps"])
    res = gdb_batch([f"go map main.{n} --json --stats" for n in names], str(fx.binary), str(fx.core))
    failures = _compare(fx.truth, res.outputs, names)
    assert not failures, "\n".join(failures) + "\n" + res.stderr[-2000:]


def test_go_map_live(build, tmp_path):
    binary = matrix.build_program("maps", build)
    truth_path = tmp_path / "truth.json"
    env = matrix.program_env(tmp_path)
    names = sorted(matrix.crash("maps", build).truth["maps"])  # the program's map names
    # The program writes its truth, then panics: gdb stops it at the SIGABRT, alive.
    res = gdb_batch([f"go map main.{n} --json --stats" for n in names], str(binary), before=["run"],
                    env=env, cwd=str(tmp_path))
    assert "SIGABRT" in res.stdout, res.stdout[-2000:]
    truth = json.loads(truth_path.read_text())  # this run's own account
    failures = _compare(truth, res.outputs, names)
    assert not failures, "\n".join(failures) + "\n" + res.stderr[-2000:]
