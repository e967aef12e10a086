"""`panic` against Go's own account of the same crash, on every build of the matrix:
the panic chain's values and [recovered] marks equal the `panic:` lines Go printed
(tests/integration/traceback.py parses them), the dynamic types equal what the program
wrote down with %T before panicking, and each fatal runtime error is named as Go named
it. Live in gdb, `panic replay` narrates the deferred calls in the order the program
printed its MARK lines, with the recovers and the fatal end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache

import pytest

from tests.integration import matrix
from tests.integration.gdbrun import gdb_batch

PROGRAM = "panics"
RUNTIME_ERROR_MODES = ("nilmap", "index", "assert")
FATAL_MODES = ("mapwrites", "overflow", "deadlock")
# The deferred calls of the chain mode, by the marker each prints when it starts.
MARK_FUNCTIONS = {
    "defer level3": "main.level3.func1",
    "defer level3 outer": "main.level3.deferwrap1",
    "defer level2": "main.level2.func1",
    "defer level1 stack": "main.level1.deferwrap2",
    "defer level1 heap 1": "main.level1.deferwrap1",
    "defer level1 heap 0": "main.level1.deferwrap1",
    "defer chain": "main.chain.func1",
    "defer recoverMode": "main.recoverMode.func1",
}
MARK_RE = re.compile(r"^MARK (defer .*)$", re.M)


@cache
def _fixture(build: matrix.Build, mode: str) -> matrix.Fixture:
    return matrix.crash(PROGRAM, build, args=[mode])


def godbg_panic(fx: matrix.Fixture, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "godbg", "core", str(fx.binary), str(fx.core), "panic", *extra],
                          capture_output=True, text=True, timeout=300, cwd=matrix.REPO)


def _panic_json(fx: matrix.Fixture) -> dict:
    p = godbg_panic(fx, "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _go_lines(fx: matrix.Fixture) -> list[tuple[str, bool, bool]]:
    return [(p.value, p.recovered, p.repanicked) for p in fx.traceback.panics]


def _godbg_lines(doc: dict) -> list[tuple[str, bool, bool]]:
    return [(p["value"], p["recovered"], p["repanicked"]) for p in doc["panics"] if not p["goexit"]]


def _crashing_goroutine(fx: matrix.Fixture) -> int:
    """The goroutine Go printed first: the one that panicked."""
    return fx.traceback.goroutines[0].id


@pytest.mark.pie("all")
@pytest.mark.arm64
def test_chain_matches_go(build: matrix.Build) -> None:
    fx = _fixture(build, "chain")
    doc = _panic_json(fx)
    assert _godbg_lines(doc) == _go_lines(fx)
    assert doc["fatal_error"] is None
    assert doc["goroutine"] == _crashing_goroutine(fx)
    # Types from before preprintpanics replaced the values by their text.
    truth = {(p["value"], p["type"]) for p in fx.truth["panics"]}
    for p in doc["panics"]:
        assert (p["value"], p["type"]) in truth
    states = {(d["function"], d["frame"]): d["state"] for d in doc["defers"]}
    for fn, frame in (("main.level3.func1", "main.level3"), ("main.level2.func1", "main.level2"),
                      ("main.chain.func1", "main.chain")):
        assert states.get((fn, frame)) == "running", doc["defers"]
    assert states.get(("main.level3.deferwrap1", "main.level3")) == "ran", doc["defers"]
    assert not [d for d in doc["defers"] if d["state"] == "pending"]
    functions = [f["function"] for f in doc["frames"]]
    assert "main.level3" in functions and "runtime.gopanic" in functions


@pytest.mark.arm64
@pytest.mark.parametrize("mode", RUNTIME_ERROR_MODES)
def test_runtime_errors(build: matrix.Build, mode: str) -> None:
    fx = _fixture(build, mode)
    doc = _panic_json(fx)
    assert _godbg_lines(doc) == _go_lines(fx)
    want = fx.truth["panics"][-1]
    assert doc["panics"][-1]["value"] == want["value"]
    assert doc["panics"][-1]["type"] == want["type"]
    assert doc["goroutine"] == _crashing_goroutine(fx)


@pytest.mark.arm64
@pytest.mark.parametrize("mode", FATAL_MODES)
def test_fatal_errors(build: matrix.Build, mode: str) -> None:
    fx = _fixture(build, mode)
    doc = _panic_json(fx)
    assert doc["fatal_error"] == fx.traceback.fatal_error == fx.truth["fatal_error"]
    assert doc["fatal_function"], doc
    assert doc["panics"] == []
    if mode == "deadlock":
        assert doc["goroutine"] is None  # checkdead runs on g0 with no user goroutine
    else:
        assert doc["goroutine"] is not None and doc["frames"]


@pytest.mark.arm64
def test_text_output(build: matrix.Build) -> None:
    fx = _fixture(build, "chain")
    p = godbg_panic(fx)
    assert p.returncode == 0, p.stderr
    go = [line for line in fx.stderr.splitlines() if line.lstrip("\t").startswith("panic: ")]
    shown = [line.split("  (")[0] for line in p.stdout.splitlines() if line.lstrip("\t").startswith("panic: ")]
    assert shown == go
    assert "\x1b[" not in p.stdout  # not a terminal: no colour


@pytest.mark.builds(lambda b: b.go in matrix.QUICK_VERSIONS and not b.goexperiment)
def test_replay_needs_a_live_program(build: matrix.Build) -> None:
    fx = _fixture(build, "chain")
    p = godbg_panic(fx, "replay")
    assert p.returncode == 2
    assert "live" in p.stderr and "Traceback" not in p.stderr


# --- live, in gdb ----------------------------------------------------------------------------


# CONTRACT.md: the events `panic replay --json` writes, one object a line.
REPLAY_EVENTS = {"panic", "defer", "recovered", "repanic", "fatal", "exit"}


def _line_of(text: str) -> int:
    src = (matrix.TESTDATA / PROGRAM / "main.go").read_text().splitlines()
    return next(i for i, line in enumerate(src, 1) if text in line)


def _replay(build: matrix.Build, mode: str, marker: str) -> tuple[list[dict], str]:
    binary = matrix.build_program(PROGRAM, build)
    res = gdb_batch(
        ["go panic replay --json"], str(binary), args=[mode],
        before=[f"break main.go:{_line_of(marker)}", "run"],
        env={"GOTRACEBACK": "single", "GODBG_TRUTH": ""}, cwd=str(binary.parent),
    )
    # --json: one event object a line (gdb's own "[Switching to LWP …]" chatter may come
    # between them: it is gdb's, not godbg's)
    events = [json.loads(line) for line in res.outputs[0].splitlines() if line.startswith("{")]
    assert events, res.stdout[-3000:] + res.stderr[-3000:]
    assert all(e["event"] in REPLAY_EVENTS for e in events), events
    return events, res.stderr


@pytest.mark.gdb
@pytest.mark.builds(lambda b: not b.goexperiment)
def test_replay_chain(build: matrix.Build) -> None:
    events, stderr = _replay(build, "chain", 'mark("panic level3")')
    kinds = [e["event"] for e in events]
    marks = MARK_RE.findall(stderr)
    defers = [e["function"] for e in events if e["event"] == "defer" and e["function"].startswith("main.")]
    assert defers == [MARK_FUNCTIONS[m] for m in marks]
    assert kinds[0] == "panic" and events[0]["function"] == "main.level3"
    assert kinds.count("recovered") == 2 and kinds.count("repanic") == 2
    assert kinds[-2:] == ["fatal", "exit"] and events[-1]["value"] == 2
    assert events[-2]["value"] == "runtime error: index out of range [5] with length 3"
    # Each recover comes right after the deferred call that made it, before its re-panic.
    first_recover = kinds.index("recovered")
    assert events[first_recover - 1]["function"] == "main.level3.func1"
    assert kinds[first_recover + 1] == "repanic"


@pytest.mark.gdb
@pytest.mark.builds(lambda b: b.go in matrix.QUICK_VERSIONS and not b.goexperiment)
def test_replay_recovered_runs_on(build: matrix.Build) -> None:
    events, stderr = _replay(build, "recover", 'mark("panic recoverMode")')
    kinds = [e["event"] for e in events]
    assert kinds == ["panic", "defer", "recovered"], events
    assert events[1]["function"] == "main.recoverMode.func1"
    assert events[2]["value"] == "calm down"
    # The replay stopped the program where it resumes, before it printed its next marker.
    assert "MARK runs on" not in stderr
    assert "the program runs on in main.recoverMode" in stderr
