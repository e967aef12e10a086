"""`panic replay` through delve (`godbg dlv exec`), checked the way gdb's replay is
(test_panics.py): against the markers the program prints as each deferred call starts,
and the panic values and exit status Go gives. Afterwards only the user's breakpoint and
delve's own are left."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration import matrix
from tests.integration.test_delve import PROMPT, SLEEPER, _dlv, _live_env, _run, _spawn  # noqa: F401 (_dlv: a fixture)
from tests.integration.test_panics import MARK_FUNCTIONS, MARK_RE, PROGRAM, REPLAY_EVENTS, _line_of

pytestmark = [pytest.mark.delve,
              pytest.mark.builds(lambda b: b.go in matrix.QUICK_VERSIONS and not b.goexperiment)]
# delve's own breakpoints, always there (negative ids in its API).
DELVE_OWN = ("unrecovered-panic", "runtime-fatal-throw")


def _replay(build: matrix.Build, mode: str, marker: str, tmp_path: Path) -> tuple[list[dict], str, str]:
    """The events, the program's and godbg's other output, and delve's breakpoint list after."""
    binary = matrix.build_program(PROGRAM, build)
    env = _live_env(tmp_path)
    env.update(GOTRACEBACK="single", GODBG_TRUTH="")
    child = _spawn(["dlv", "exec", str(binary), "--", mode], tmp_path, env)
    try:
        _run(child, f"break main.go:{_line_of(marker)}", r"Breakpoint 1 set")
        _run(child, "continue", r"\[Breakpoint 1\]")
        out = _run(child, "panic replay --json")
        after = _run(child, "breakpoints") if "exited" not in out else ""
        child.sendline("quit")
        child.expect(__import__("pexpect").EOF)
    finally:
        child.close(force=True)
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert events, out
    assert all(e["event"] in REPLAY_EVENTS for e in events), events
    return events, out, after


def test_replay_chain_delve(build: matrix.Build, tmp_path: Path) -> None:
    events, out, _after = _replay(build, "chain", 'mark("panic level3")', tmp_path)
    kinds = [e["event"] for e in events]
    marks = MARK_RE.findall(out.replace("\r", ""))
    defers = [e["function"] for e in events if e["event"] == "defer" and e["function"].startswith("main.")]
    assert defers == [MARK_FUNCTIONS[m] for m in marks]
    assert kinds[0] == "panic" and events[0]["function"] == "main.level3"
    assert kinds.count("recovered") == 2 and kinds.count("repanic") == 2
    assert kinds[-2:] == ["fatal", "exit"] and events[-1]["value"] == 2
    assert events[-2]["value"] == "runtime error: index out of range [5] with length 3"
    first_recover = kinds.index("recovered")
    assert events[first_recover - 1]["function"] == "main.level3.func1"
    assert kinds[first_recover + 1] == "repanic"


def test_replay_recovered_runs_on_delve(build: matrix.Build, tmp_path: Path) -> None:
    events, out, after = _replay(build, "recover", 'mark("panic recoverMode")', tmp_path)
    kinds = [e["event"] for e in events]
    assert kinds == ["panic", "defer", "recovered"], out
    assert events[1]["function"] == "main.recoverMode.func1"
    assert events[2]["value"] == "calm down"
    assert "MARK runs on" not in out
    assert "the program runs on in main.recoverMode" in out
    # every breakpoint the replay made is gone: the user's and delve's own remain
    listed = re.findall(r"^Breakpoint (\S+)", after, re.M)
    assert sorted(listed) == sorted([*DELVE_OWN, "1"]), after


def test_replay_interrupted_in_attached_program(build: matrix.Build, tmp_path: Path) -> None:
    """A program that never panics runs on under the replay until Ctrl-C: then the
    prompt comes back, the replay's breakpoints are gone, and quitting leaves the program
    running, untraced."""
    src = tmp_path / "sleeper"
    src.mkdir()
    (src / "go.mod").write_text("module godbg.test/sleeper\n\ngo 1.22\n")
    (src / "main.go").write_text(SLEEPER)
    binary = matrix.build_program(src, build)
    program = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert program.stdout is not None
        pid = int(program.stdout.readline())
        child = _spawn(["dlv", "attach", str(pid)], tmp_path, _live_env(tmp_path))
        try:
            child.sendline("panic replay")
            time.sleep(2)  # running on: no prompt while the replay waits
            assert child.expect([PROMPT, __import__("pexpect").TIMEOUT], timeout=0.5) == 1
            child.sendintr()
            child.expect(PROMPT)
            assert "interrupted" in child.before
            after = _run(child, "breakpoints")
            assert sorted(re.findall(r"^Breakpoint (\S+)", after, re.M)) == sorted(DELVE_OWN), after
            child.sendline("quit")
            child.expect(__import__("pexpect").EOF)
        finally:
            child.close(force=True)
        time.sleep(0.3)
        assert program.poll() is None, "the replay or detaching killed the attached program"
        with open(f"/proc/{pid}/status") as f:
            assert re.search(r"TracerPid:\s+0\b", f.read()), "the program is still traced"
    finally:
        os.killpg(program.pid, signal.SIGKILL)
        program.wait()
