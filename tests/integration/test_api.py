"""The Python API, through nothing but its public names (``import godbg``): on a core it
gives the same answers as the command line's JSON, typed fields agree with the program's
own truth and Go's traceback, and the Program is the same through delve and inside gdb."""

from __future__ import annotations

import json
import os

import pytest

import godbg
from godbg.check.settings import Rules
from tests.integration import matrix
from tests.integration.cli import godbg_json
from tests.integration.gdbrun import gdb_batch

pytestmark = pytest.mark.builds(lambda b: b.go in ("1.22.10", "1.27.3") and not b.goexperiment)


def _calls(prog: godbg.Program, fx: matrix.Fixture) -> dict[tuple[str, ...], object]:
    """Each API call and the command line it must agree with."""
    worker = fx.truth["worker_goids"][0]
    return {
        ("info",): prog.info(),
        ("goroutines",): prog.goroutines(),
        ("bt", str(worker)): prog.backtrace(worker),
        ("ms",): prog.ms(),
        ("headroom",): prog.headroom(),
        ("map", "main.table"): prog.map("main.table"),
        ("panic",): prog.panic(),
    }


def _more_calls(prog: godbg.Program) -> dict[tuple[str, ...], object]:
    """The rest of the commands (the heap scan of `leaks` is slow through delve: core only)."""
    return {
        ("goroutines", "--group"): prog.goroutine_groups(),
        ("print", "main.table"): prog.value("main.table"),
        ("waits",): prog.waits(),
        ("leaks",): prog.leaks(),
        ("report",): prog.report(),
    }


def test_same_answers_as_the_cli(build):
    fx = matrix.crash("basic", build)
    with godbg.open_core(str(fx.binary), str(fx.core)) as prog:
        for argv, result in {**_calls(prog, fx), **_more_calls(prog)}.items():
            assert isinstance(result, godbg.results.Result), argv
            assert result.to_json() == godbg_json(fx, *argv), argv


def test_typed_fields_match_the_truth(build):
    fx = matrix.crash("basic", build)
    truth, tb = fx.truth, fx.traceback
    with godbg.open_core(str(fx.binary), str(fx.core)) as prog:
        info = prog.info()
        assert info.go_version == truth["go_version"] and info.goroutines == len(tb.goroutines)
        gs = {g.id: g for g in prog.goroutines()}
        assert sorted(gs) == sorted(tb.ids)
        for goid in truth["worker_goids"]:
            g = gs[goid]
            assert (g.status, g.wait_reason) == ("waiting", truth["worker_wait_reason"])
            assert truth["worker_function"] in [f.function for f in g.frames]
            assert [f.function for f in g.frames] == tb.goroutine(goid).functions
        assert dict(prog.map("main.table").entries) == truth["map"]
        panic = prog.panic()
        assert [p.text for p in panic.panics] == [truth["panic"]] and panic.goroutine == 1
        report = prog.check(Rules(max_goroutines=len(tb.goroutines), no_panic=True))
        assert not report.passed and [f.rule for f in report.findings] == ["no-panic"]


@pytest.mark.delve
def test_delve_program_is_the_same(build):
    from godbg.backends.delve.client import find_dlv
    from godbg.errors import TargetError

    try:
        find_dlv()
    except TargetError as e:
        if os.environ.get("CI"):
            pytest.fail(f"{e} (CI's scripts/setup.sh installs delve)")
        pytest.skip(str(e))
    fx = matrix.crash("basic", build)
    with godbg.open_core(str(fx.binary), str(fx.core)) as core_prog:
        want = {argv: r.to_json() for argv, r in _calls(core_prog, fx).items()}
    with godbg.open_delve(str(fx.binary), str(fx.core)) as prog:
        got = {argv: r.to_json() for argv, r in _calls(prog, fx).items()}
    assert got == want


@pytest.mark.gdb
def test_gdb_program(build):
    fx = matrix.crash("basic", build)
    script = ("python import godbg, json; p = godbg.gdb_program(); "
              "print(json.dumps([p.info().to_json(), p.goroutines().to_json(), p.panic().to_json()]))")
    res = gdb_batch([script], str(fx.binary), str(fx.core))
    info, goroutines, panic = json.loads(res.outputs[0])
    assert info["goroutines"] == len(fx.traceback.goroutines)
    assert goroutines == godbg_json(fx, "goroutines")
    assert panic == godbg_json(fx, "panic")
