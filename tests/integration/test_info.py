"""`info` on every build: core mode, gdb on the same core, and gdb on the live program
stopped at a breakpoint — against the program's own account, Go's crash traceback and
gdb's view of the threads."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration import matrix
from tests.integration import traceback as go_traceback
from tests.integration.cli import godbg_json
from tests.integration.gdbrun import gdb_batch

STACK_GUARD = 928  # linux/amd64, no -race: runtime/stack.go stackGuard


def _threads(info_threads: str) -> list[int]:
    # core: "LWP 25466"; live: "Thread 0x7f… (LWP 25466)"
    return [int(t) for t in re.findall(r"LWP (\d+)", info_threads)]


@pytest.mark.pie("all", external=True)
def test_info_on_core(build, core_kind):
    fx = matrix.crash("basic", build, core_kind=core_kind)
    doc = godbg_json(fx, "info")
    experiments = " X:" + ",".join(doc["goexperiments"]) if doc["goexperiments"] else ""
    assert doc["go_version"] + experiments == fx.truth["go_version"]
    assert doc["goarch"] == fx.truth["goarch"] == "amd64"
    assert doc["map_impl"] == build.map_impl
    # every goroutine Go's own crash traceback lists, no more
    assert doc["goroutines"] == len(fx.traceback.goroutines)
    assert doc["maxstacksize"] == fx.truth["maxstacksize"]
    assert doc["stack_guard"] == STACK_GUARD
    assert doc["signal"] == fx.signal == "SIGABRT"
    res = gdb_batch(["info threads", "go info --json"], str(fx.binary), str(fx.core))
    threads = _threads(res.outputs[0])
    # a cgo-free program has one thread per M; linked with runtime/cgo (external linking) it
    # also has the one extra M the runtime keeps for C threads calling Go, with no thread yet;
    # gdb's thread 1 is the one that got the signal
    assert doc["ms"] == len(threads) + (1 if build.external else 0)
    # "(LWP N)", or "(Thread 0x… (LWP N))" for a program linked with libpthread
    current = re.search(r"Current thread is 1 \((?:Thread 0x[0-9a-f]+ \()?LWP (\d+)\)", res.stdout)
    assert current and doc["crash_thread"] == int(current.group(1))
    assert json.loads(res.outputs[1]) == doc


@pytest.mark.pie("ends")
def test_info_live_at_breakpoint(build, tmp_path):
    binary = matrix.build_program("basic", build)
    env = matrix.program_env(tmp_path)
    # `delete` first: a goroutine preempted on the breakpoint would report it again.
    res = gdb_batch(["go info --json", "info threads", "delete", "continue"], str(binary),
                    before=["break main.readyForCore", "run"], env=env, cwd=str(tmp_path))
    doc = json.loads(res.outputs[0])
    truth = json.loads((tmp_path / "truth.json").read_text())
    experiments = " X:" + ",".join(doc["goexperiments"]) if doc["goexperiments"] else ""
    assert doc["go_version"] + experiments == truth["go_version"]
    assert doc["map_impl"] == build.map_impl and doc["goarch"] == "amd64"
    assert doc["maxstacksize"] == truth["maxstacksize"]
    assert doc["stack_guard"] == STACK_GUARD
    assert doc["signal"] is None and doc["crash_thread"] is None
    assert doc["ms"] == len(_threads(res.outputs[1]))
    # Only the panic is left after readyForCore: the crash traceback that `continue`
    # produces lists the goroutines that existed at the breakpoint.
    both = res.stdout + res.stderr
    assert "panic: " in both, both[-3000:]
    tb = go_traceback.parse(both[both.index("panic: "):])
    assert doc["goroutines"] == len(tb.goroutines)


def test_bad_input_is_one_line(build, tmp_path):
    fx = matrix.crash("basic", build)
    other = matrix.crash("headroom", build)
    cases = {
        "wrong binary": ["core", str(other.binary), str(fx.core), "info"],
        "not a core": ["core", str(fx.binary), str(fx.binary), "info"],
        "truncated": ["core", str(fx.binary), str(_truncated(fx, tmp_path)), "info"],
        "no such file": ["core", str(fx.binary), str(tmp_path / "nope"), "info"],
    }
    from tests.integration.cli import godbg

    for what, argv in cases.items():
        p = godbg(*argv)
        assert p.returncode == 2, (what, p.stdout, p.stderr)
        assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, (what, p.stderr)
        assert p.stdout == ""


def _truncated(fx: matrix.Fixture, tmp_path) -> str:
    data = fx.core.read_bytes()
    out = tmp_path / "core.truncated"
    out.write_bytes(data[: len(data) // 2])
    return str(out)


@pytest.mark.core_kinds("kernel")
def test_wrong_binary_message(build, core_kind):
    fx = matrix.crash("basic", build, core_kind=core_kind)
    other = matrix.crash("headroom", build)
    from tests.integration.cli import godbg

    p = godbg("core", str(other.binary), str(fx.core), "info")
    assert p.returncode == 2 and "build ids differ" in p.stderr
