"""`report` on the panic, stack-overflow and goroutines programs: what happened in its
first lines (as Go's own crash output says it), goroutines grouped the way the program
parked them, and colour only where a person is looking."""

from __future__ import annotations

import json
import os
import re
import sys

import pexpect
import pytest

from tests.integration import matrix
from tests.integration.cli import godbg_core, godbg_json
from tests.integration.gdbrun import gdb_batch

ANSI = re.compile(r"\x1b\[[0-9;]*m")

pytestmark = pytest.mark.core_kinds("kernel")


@pytest.mark.arm64
def test_panic_chain_headline(build, core_kind):
    fx = matrix.crash("panics", build, args=["chain"], core_kind=core_kind)
    first = godbg_core(fx, "report").stdout.splitlines()[0]
    # Go's own panic lines, oldest first, each value with its [recovered] mark
    for p in fx.traceback.panics:
        assert p.value in first
    assert first.count("panic: ") == len(fx.traceback.panics)
    assert first.count("[recovered") == sum(1 for p in fx.traceback.panics if p.recovered)
    doc = godbg_json(fx, "report")
    assert doc["crashing_goroutine"]["goroutine"] == doc["panic"]["goroutine"]
    assert doc["groups"][0]["ids"][0] == doc["panic"]["goroutine"]  # the crashing one first


@pytest.mark.arm64
@pytest.mark.parametrize("program,args", [("panics", ["overflow"]), ("headroom", ["overflow"])])
def test_stack_overflow_headline(build, core_kind, program, args):
    fx = matrix.crash(program, build, args=args, core_kind=core_kind)
    assert fx.traceback.fatal_error == "stack overflow"
    lines = godbg_core(fx, "report").stdout.splitlines()
    assert lines[0] == "fatal error: stack overflow"
    doc = godbg_json(fx, "report")["stack_overflow"]
    # the limit as Go's own message states it
    limit = int(re.search(r"goroutine stack exceeds (\d+)-byte limit", fx.stderr).group(1))
    assert doc["maxstacksize"] == limit and doc["size"] <= limit < 2 * doc["size"]
    assert f"goroutine {doc['goroutine']} outgrew its stack" in lines[2] and doc["function"] in lines[2]
    # the recursion fills the stack: its frames times its depth come to the stack's size
    assert doc["depth"] * doc["frame_bytes"] <= doc["size"] < (doc["depth"] + 64) * doc["frame_bytes"]


@pytest.mark.arm64
def test_goroutine_groups(build, core_kind):
    fx = matrix.crash("goroutines", build, core_kind=core_kind)
    doc = godbg_json(fx, "report", "--groups", "0")
    groups = {tuple(sorted(g["ids"])): g for g in doc["groups"]}
    for kind in ("recv", "mutex", "sleep", "cond"):
        want = fx.truth["groups"][kind]
        g = groups.get(tuple(sorted(want["ids"])))
        assert g is not None, f"{kind}: no group holds exactly goroutines {sorted(want['ids'])[:5]}…"
        assert (g["status"], g["wait_reason"]) == (want["status"], want["wait_reason"])
    # every goroutine of Go's traceback is in exactly one group
    ids = [i for g in doc["groups"] for i in g["ids"]]
    assert sorted(ids) == sorted(fx.traceback.ids) and len(ids) == len(set(ids))


def _on_a_terminal(argv: list[str], **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    child = pexpect.spawn(sys.executable, argv, env={**base, "TERM": "xterm", **env}, timeout=120,
                          encoding="utf-8")
    child.expect(pexpect.EOF)
    return child.before


def test_no_colour_unless_a_terminal(build, core_kind):
    fx = matrix.crash("panics", build, args=["chain"], core_kind=core_kind)
    piped = godbg_core(fx, "report")
    assert piped.returncode == 0 and not ANSI.search(piped.stdout)
    argv = ["-m", "godbg", "core", str(fx.binary), str(fx.core), "report"]
    assert ANSI.search(_on_a_terminal(argv)), "a terminal gets colour"
    plain = _on_a_terminal(argv, NO_COLOR="1")
    assert not ANSI.search(plain) and "panic:" in plain


@pytest.mark.gdb
def test_gdb_report_follows_style(build, core_kind):
    fx = matrix.crash("panics", build, args=["chain"], core_kind=core_kind)
    res = gdb_batch(["set style enabled on", "go report", "set style enabled off", "go report",
                     "go report --json"], str(fx.binary), str(fx.core), env={"NO_COLOR": ""})
    on, off = res.outputs[1], res.outputs[3]
    assert ANSI.search(on), res.stderr[-2000:]
    assert not ANSI.search(off) and ANSI.sub("", on) == off
    assert json.loads(res.outputs[4])["headline"] == off.splitlines()[0]
