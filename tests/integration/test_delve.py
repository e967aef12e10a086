"""`godbg dlv …` through a real headless delve.

(a) On cores of testdata/basic, every godbg command prints the same JSON document (or
    the same one-line error) through delve as in core mode: the delve backend changes
    where bytes and registers come from, never an answer.
(b) `godbg dlv exec` on the live program, driven with pexpect: a delve breakpoint,
    godbg commands at it, delve's continue to the panic, quit; then no dlv process and
    no program is left.
(c) `godbg dlv attach` leaves the program running when it quits.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import pytest

from godbg.backends.delve.client import find_dlv
from godbg.commands import registry
from godbg.errors import TargetError
from tests.integration import matrix

pytestmark = pytest.mark.delve

PROGRAM = "basic"
CRASH_GOID = "1"  # basic panics on its main goroutine
# How each command is run on the core; a command not listed runs without arguments.
COMMAND_ARGS: dict[str, list[list[str]]] = {
    "goroutines": [["goroutines"], ["goroutines", "--group"]],
    "bt": [["bt", CRASH_GOID], ["bt", CRASH_GOID, "--full"]],
    "map": [["map", "main.table"], ["map", "main.table", "--stats"]],
    "check": [["check", "--max-goroutines", "3", "--no-panic", "--headroom", "1"]],
    "print": [["print", "main.table"], ["print", "len(main.table)"]],
}
PROMPT = r"\(godbg-dlv\) "
LIVE_TIMEOUT = 60


def _command_lines() -> list[list[str]]:
    lines = []
    for module in registry.available():
        lines += COMMAND_ARGS.get(module.NAME, [[module.NAME]])
    return lines


@pytest.fixture(scope="module", autouse=True)
def _dlv() -> str:
    try:
        return find_dlv()
    except TargetError as e:
        if os.environ.get("CI"):
            pytest.fail(str(e))
        pytest.skip(str(e))


@cache
def _fixture(build: matrix.Build, core_kind: str) -> matrix.Fixture:
    return matrix.crash(PROGRAM, build, core_kind=core_kind)


def godbg(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "godbg", *argv], capture_output=True, text=True,
                          timeout=timeout, cwd=matrix.REPO, env=dict(os.environ, NO_COLOR="1"))


def _answer(p: subprocess.CompletedProcess[str]) -> tuple[int, object]:
    """What a command said: its JSON document, or its one-line error."""
    if p.returncode in (0, 1):
        return p.returncode, json.loads(p.stdout)
    return p.returncode, p.stderr.strip()


@pytest.mark.pie("ends")
@pytest.mark.parametrize("argv", _command_lines(), ids=lambda a: "-".join(a))
def test_core_same_as_core_mode(build: matrix.Build, core_kind: str, argv: list[str]) -> None:
    fx = _fixture(build, core_kind)
    want = _answer(godbg("core", str(fx.binary), str(fx.core), *argv, "--json"))
    got = _answer(godbg("dlv", "core", str(fx.binary), str(fx.core), *argv, "--json"))
    assert got == want


@pytest.mark.core_kinds("kernel")
def test_core_errors_are_one_line(build: matrix.Build, core_kind: str, tmp_path: Path) -> None:
    fx = _fixture(build, core_kind)
    p = godbg("dlv", "core", str(fx.binary), str(fx.core), "nosuch")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "unknown command 'nosuch'" in p.stderr
    missing = subprocess.run([sys.executable, "-m", "godbg", "dlv", "core", str(fx.binary), str(fx.core), "info"],
                             capture_output=True, text=True, timeout=60, cwd=matrix.REPO,
                             env=dict(os.environ, GODBG_DLV=str(tmp_path / "no-dlv")))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "GODBG_DLV" in missing.stderr


# ----------------------------------------------------------------- live: exec, attach


def _processes() -> dict[int, tuple[str, list[str]]]:
    """Every live (not zombie) process: pid -> (state, argv)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if state != "Z":
            out[int(entry)] = (state, argv)
    return out


#: Every process a live test starts carries this in its environment (dlv and the
#: program inherit it from godbg), so a leftover check counts this test worker's
#: processes only, never those of another worker or of anyone else on the machine.
OWNER = f"GODBG_TEST_OWNER={os.getpid()}"


def _ours(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return OWNER.encode() in f.read().split(b"\0")
    except OSError:
        return False


def _leftovers(before: dict[int, tuple[str, list[str]]], binary: Path, keep: int | None = None) -> list[str]:
    """New dlv processes, and processes of ``binary`` other than ``keep``, that this
    test worker started."""
    left = []
    for pid, (_state, argv) in _processes().items():
        if pid in before or pid == keep or not argv:
            continue
        if (os.path.basename(argv[0]) == "dlv" or argv[0] == str(binary)) and _ours(pid):
            left.append(f"{pid}: {' '.join(argv)}")
    return left


def _wait_no_leftovers(before, binary: Path, keep: int | None = None) -> list[str]:
    deadline = time.monotonic() + 10
    while True:
        left = _leftovers(before, binary, keep)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _spawn(args: list[str], cwd: Path, env: dict[str, str]):
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(sys.executable, ["-m", "godbg", *args], cwd=str(cwd), env=env, encoding="utf-8",
                          timeout=LIVE_TIMEOUT, dimensions=(50, 500))
    child.expect(PROMPT)
    return child


def _run(child, line: str, expect: str | None = None) -> str:
    """Send one line, return what came back before the next prompt (the echo removed)."""
    child.sendline(line)
    child.expect(PROMPT)
    text = child.before.replace("\r\n", "\n")
    text = text.split("\n", 1)[1] if "\n" in text else ""
    if expect is not None:
        assert re.search(expect, text), f"{line!r} printed:\n{text}"
    return text


def _json(child, line: str) -> dict:
    text = _run(child, line + " --json")
    start = text.find("{")
    assert start >= 0, f"{line!r} printed no JSON:\n{text}"
    return json.loads(text[start:])


def _live_env(workdir: Path) -> dict[str, str]:
    env = matrix.program_env(workdir)
    env.update(TERM="dumb", NO_COLOR="1", PYTHONPATH=str(matrix.REPO))
    key, value = OWNER.split("=", 1)
    env[key] = value
    return env


@pytest.mark.pie("ends")
def test_exec_interactive(build: matrix.Build, tmp_path: Path) -> None:
    binary = matrix.build_program(PROGRAM, build)
    before = _processes()
    child = _spawn(["dlv", "exec", str(binary)], tmp_path, _live_env(tmp_path))
    try:
        _run(child, "break main.readyForCore", r"Breakpoint 1 set at 0x[0-9a-f]+ for main\.readyForCore")
        _run(child, "continue", r"\[Breakpoint 1\] main\.readyForCore\(\)")
        truth = json.loads((tmp_path / "truth.json").read_text())

        info = _json(child, "info")
        assert info["go_version"] == truth["go_version"].split()[0]  # runtime.Version() adds " X:exp"
        assert info["goroutines"] >= truth["workers"] + 1
        assert info["signal"] is None and info["crash_thread"] is None
        assert "main.readyForCore" in _run(child, "stack")  # delve's own command, passed through
        if registry.find("map"):
            got = _json(child, "map main.table")
            assert dict(got["entries"]) == truth["map"]
        if registry.find("goroutines"):
            got = _json(child, "goroutines")
            by_id = {g["id"]: g for g in got["goroutines"]}
            for goid in truth["worker_goids"]:
                assert by_id[goid]["wait_reason"] == truth["worker_wait_reason"]
        if registry.find("bt"):
            got = _json(child, f"bt {CRASH_GOID}")
            assert got["frames"][0]["function"] == "main.readyForCore"
        assert "Command failed" in _run(child, "whatis no_such_variable")  # delve's error, prompt alive
        _run(child, "info --bogus", r"godbg: .*--bogus")  # godbg's error, prompt alive

        _run(child, "continue", r"unrecovered-panic")
        if registry.find("panic"):
            got = _json(child, "panic")
            assert got["panics"][-1]["value"] == truth["panic"]
        child.sendline("quit")
        child.expect(pexpect_eof())
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert _wait_no_leftovers(before, binary) == []


def test_exec_eof_leaves_nothing(build: matrix.Build, tmp_path: Path) -> None:
    """End of input (Ctrl-D) at the prompt, with the program stopped mid-run."""
    binary = matrix.build_program(PROGRAM, build)
    before = _processes()
    child = _spawn(["dlv", "exec", str(binary)], tmp_path, _live_env(tmp_path))
    try:
        _run(child, "break main.worker")
        _run(child, "continue", r"main\.worker")
        child.sendeof()
        child.expect(pexpect_eof())
    finally:
        child.close(force=True)
    assert _wait_no_leftovers(before, binary) == []


@pytest.mark.builds(lambda b: b.go == matrix.GO_VERSIONS[-1] and not b.goexperiment)
@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=lambda s: s.name)
def test_exec_killed_leaves_nothing(build: matrix.Build, tmp_path: Path, signo: signal.Signals) -> None:
    """godbg killed at its prompt, even by SIGKILL: dlv stops and ends the program."""
    binary = matrix.build_program(PROGRAM, build)
    before = _processes()
    child = _spawn(["dlv", "exec", str(binary)], tmp_path, _live_env(tmp_path))
    try:
        _run(child, "break main.readyForCore")
        _run(child, "continue", r"main\.readyForCore")
        os.kill(child.pid, signo)
        child.expect(pexpect_eof())
    finally:
        child.close(force=True)
    assert _wait_no_leftovers(before, binary) == []


SLEEPER = """package main

import (
\t"fmt"
\t"os"
\t"time"
)

var table = map[string]int{"one": 1, "two": 2}

func main() {
\tfmt.Println(os.Getpid())
\tfor {
\t\ttime.Sleep(10 * time.Millisecond)
\t}
}
"""


@pytest.mark.builds(lambda b: b.go in matrix.QUICK_VERSIONS and not b.goexperiment)
def test_attach_leaves_program_running(build: matrix.Build, tmp_path: Path) -> None:
    src = tmp_path / "sleeper"
    src.mkdir()
    (src / "go.mod").write_text("module godbg.test/sleeper\n\ngo 1.22\n")
    (src / "main.go").write_text(SLEEPER)
    binary = matrix.build_program(src, build)
    program = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert program.stdout is not None
        pid = int(program.stdout.readline())
        before = _processes()
        child = _spawn(["dlv", "attach", str(pid)], tmp_path, _live_env(tmp_path))
        try:
            info = _json(child, "info")
            assert info["go_version"] == f"go{build.go}"
            if registry.find("map"):
                assert dict(_json(child, "map main.table")["entries"]) == {"one": 1, "two": 2}
            child.sendline("quit")
            child.expect(pexpect_eof())
        finally:
            child.close(force=True)
        assert _wait_no_leftovers(before, binary, keep=pid) == []
        time.sleep(0.3)
        assert program.poll() is None, "detaching killed the attached program"
        with open(f"/proc/{pid}/status") as f:
            assert re.search(r"TracerPid:\s+0\b", f.read()), "the program is still traced"
    finally:
        os.killpg(program.pid, signal.SIGKILL)
        program.wait()


def pexpect_eof():
    import pexpect

    return pexpect.EOF
