"""`goroutines`, `bt` and `ms` on cores of testdata/goroutines, against Go's own crash
traceback (GOTRACEBACK=crash) and what the program wrote about itself.

Two crashes per build: "panic" (main panics; the crashing thread dies in the SIGABRT
handler, the panicking goroutine's frames continue past the signal frame) and "signal"
(SIGQUIT sent to the thread of a spinning goroutine: every M dumps its stack from its
signal handler, so running goroutines and g0 stacks are checked through ucontexts).
Every goroutine's frames are compared frame by frame: function, file, line, inlined,
and pc/sp for physical frames.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache
from typing import Any

import pytest

from godbg.backends.core.corefile import open_core_target
from godbg.commands.execute import execute
from godbg.program.target import Target
from godbg.render.theme import PLAIN
from tests.integration import matrix
from tests.integration import traceback as go_tb

PROGRAM = "goroutines"
MODES = ("panic", "signal")
# Frames the crashing goroutine of a panic has above what Go prints for it: Go starts
# its traceback at gopanic, the thread is still on its way down in crash().
PANIC_CRASH_FRAMES = ("runtime.raise", "runtime.dieFromSignal", "runtime.crash", "runtime.fatalpanic")
# Go's traceback keeps this many innermost and outermost frames (tracebackInnerFrames,
# tracebackOuterFrames).
GO_INNER_FRAMES = 50


def fixture(build: matrix.Build, mode: str, core_kind: str = "kernel") -> matrix.Fixture:
    return matrix.crash(PROGRAM, build, args=[mode], core_kind=core_kind)


@lru_cache(maxsize=4)
def target_for(binary: str, core: str) -> Target:
    return open_core_target(binary, core)


def run_json(fx: matrix.Fixture, *argv: str) -> dict[str, Any]:
    """One command, in process (same parse/run/render path as the CLI)."""
    assert fx.core is not None
    printed = execute(target_for(str(fx.binary), str(fx.core)), [*argv, "--json"], PLAIN)
    assert printed.status == 0, printed.stderr
    return json.loads(printed.stdout)


def run_cli(fx: matrix.Fixture, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "godbg", "core", str(fx.binary), str(fx.core), *argv],
                          capture_output=True, text=True, timeout=300)


def first_goroutines(tb: go_tb.Traceback) -> dict[int, go_tb.Goroutine]:
    """Each goroutine as tracebackothers printed it (an M's signal dump may print the
    goroutine it runs a second time)."""
    out: dict[int, go_tb.Goroutine] = {}
    for g in tb.goroutines:
        out.setdefault(g.id, g)
    return out


def same_frame(ours: dict, theirs: go_tb.Frame) -> list[str]:
    problems = []
    if ours["function"] != theirs.function and ours["function"] != theirs.symbol:
        problems.append(f"function {ours['function']} != {theirs.function}")
    if ours["file"] != theirs.file or ours["line"] != theirs.line:
        problems.append(f"location {ours['file']}:{ours['line']} != {theirs.file}:{theirs.line}")
    if ours["inlined"] != theirs.inlined:
        problems.append(f"inlined {ours['inlined']} != {theirs.inlined}")
    if not theirs.inlined and theirs.pc is not None:
        if int(ours["pc"], 16) != theirs.pc or int(ours["sp"], 16) != theirs.sp:
            problems.append(f"pc/sp {ours['pc']}/{ours['sp']} != {theirs.pc:#x}/{theirs.sp:#x}")
    return problems


def compare_stack(ours: list[dict], theirs: go_tb.Stack, *, allow_prefix: tuple[str, ...] = (),
                  our_elided: int = 0) -> list[str]:
    """Go's frames against ours; both elide the middle of deep stacks (Go keeps 50 + 50,
    godbg 500 + 500: ``our_elided`` frames left out). ``allow_prefix``: functions ours may
    have above Go's first frame."""
    skip = 0
    if allow_prefix and theirs.frames:
        while skip < len(ours) and same_frame(ours[skip], theirs.frames[0]):
            skip += 1
        extra = [f["function"] for f in ours[:skip]]
        if extra != list(allow_prefix)[: len(extra)] or skip == len(ours):
            return [f"cannot align: our frames start {extra[:6]}"]
    ours = ours[skip:]
    if theirs.elided:
        head = theirs.frames[: theirs.elided_at]
        tail = theirs.frames[theirs.elided_at:]
        pairs = list(zip(ours[: len(head)], head)) + list(zip(ours[len(ours) - len(tail):], tail))
        if theirs.elided > 0 and len(ours) + our_elided != len(head) + len(tail) + theirs.elided:
            return [f"{len(ours)} + {our_elided} elided frames, Go has {len(head)} + {theirs.elided} elided "
                    f"+ {len(tail)}"]
    else:
        if len(ours) != len(theirs.frames):
            return [f"{len(ours)} frames, Go printed {len(theirs.frames)}: "
                    f"ours {[f['function'] for f in ours]}, Go's {theirs.functions}"]
        pairs = list(zip(ours, theirs.frames))
    problems = []
    for i, (a, b) in enumerate(pairs):
        for p in same_frame(a, b):
            problems.append(f"frame {i}: {p}")
    return problems


@pytest.mark.pie("all", external=True)
@pytest.mark.arm64
@pytest.mark.parametrize("mode", MODES)
def test_goroutines_match_go_traceback(build: matrix.Build, mode: str, core_kind: str) -> None:
    check_goroutines(fixture(build, mode, core_kind))


def check_goroutines(fx: matrix.Fixture) -> None:
    tb = fx.traceback
    theirs = first_goroutines(tb)
    doc = run_json(fx, "goroutines")
    ours = {g["id"]: g for g in doc["goroutines"]}
    assert doc["total"] == len(doc["goroutines"])
    assert sorted(ours) == sorted(theirs), "goroutine ids differ from Go's traceback"
    problems = []
    for goid, g in ours.items():
        t = theirs[goid]
        want = g["wait_reason"] or g["status"].split("+")[0]
        if want != t.status:
            problems.append(f"goroutine {goid}: status {g['status']}/{g['wait_reason']} != Go's {t.status!r}")
        if t.scan != g["status"].endswith("+scan"):
            problems.append(f"goroutine {goid}: scan bit differs")
        if t.m is not None or t.gp is not None:
            if g["m"] != t.m:
                problems.append(f"goroutine {goid}: m {g['m']} != Go's {t.m}")
        if t.locked_to_thread != g["locked_to_thread"]:
            problems.append(f"goroutine {goid}: locked_to_thread {g['locked_to_thread']}")
        if t.created_by is not None:
            if g["created_by"] != t.created_by.function:
                problems.append(f"goroutine {goid}: created_by {g['created_by']} != {t.created_by.function}")
            if t.created_by.goroutine is not None and g["parent_goid"] != t.created_by.goroutine:
                problems.append(f"goroutine {goid}: parent {g['parent_goid']} != {t.created_by.goroutine}")
        if t.frames and not t.stack_unavailable:
            first = t.frames[0]
            if g["function"] not in (first.function, first.symbol) and goid != tb.goroutines[0].id:
                problems.append(f"goroutine {goid}: function {g['function']} != {first.function}")
        st = g["stack"]
        if st["sp"] is not None:
            assert st["lo"] <= st["sp"] <= st["hi"]
            assert st["used"] == st["hi"] - st["sp"] and st["size"] == st["hi"] - st["lo"]
    assert not problems, "\n".join(problems[:40])


@pytest.mark.pie("all", external=True)
@pytest.mark.arm64
@pytest.mark.parametrize("mode", MODES)
def test_every_backtrace_matches_go(build: matrix.Build, mode: str, core_kind: str) -> None:
    check_backtraces(fixture(build, mode, core_kind), mode)


@pytest.mark.parametrize("mode", MODES)
def test_stripped_binaries(build: matrix.Build, mode: str) -> None:
    """No symbols, no DWARF: the pclntab (found without symbols) still unwinds everything."""
    fx = fixture(build.variant(stripped=True), mode)
    check_goroutines(fx)
    check_backtraces(fx, mode)


def check_backtraces(fx: matrix.Fixture, mode: str) -> None:
    tb = fx.traceback
    crashing = tb.goroutines[0].id  # printed first: the panicking / signalled goroutine
    problems = []
    checked = 0
    for goid, t in first_goroutines(tb).items():
        if t.stack_unavailable:
            continue
        bt = run_json(fx, "bt", str(goid))
        assert bt["goroutine"] == goid
        own = [f for f in bt["frames"] if "stack" not in f]
        prefix = PANIC_CRASH_FRAMES if (mode == "panic" and goid == crashing) else ()
        for p in compare_stack(own, t, allow_prefix=prefix, our_elided=bt["elided"]):
            problems.append(f"goroutine {goid} ({t.status}): {p}")
        checked += 1
    assert checked > 250
    assert not problems, "\n".join(problems[:40])


@pytest.mark.arm64
@pytest.mark.parametrize("mode", MODES)
def test_goroutines_match_the_truth(build: matrix.Build, mode: str) -> None:
    fx = fixture(build, mode)
    truth = fx.truth
    ours = {g["id"]: g for g in run_json(fx, "goroutines")["goroutines"]}
    problems = []
    for kind, group in truth["groups"].items():
        assert group["ids"], f"{kind}: the program reported no goroutines"
        for goid in group["ids"]:
            g = ours.get(goid)
            if g is None:
                problems.append(f"{kind}: goroutine {goid} missing")
                continue
            if kind != "running" or mode == "signal":
                if g["status"] != group["status"]:
                    problems.append(f"{kind} {goid}: status {g['status']} != {group['status']}")
                if (g["wait_reason"] or "") != group["wait_reason"]:
                    problems.append(f"{kind} {goid}: wait reason {g['wait_reason']!r} != {group['wait_reason']!r}")
            if g["user_function"] != group["function"]:
                problems.append(f"{kind} {goid}: user function {g['user_function']} != {group['function']}")
            if not (g["location"] or "").endswith("/testdata/goroutines/main.go:" + g["location"].split(":")[-1]):
                problems.append(f"{kind} {goid}: location {g['location']}")
            if not (g["created_by"] or "").startswith(group["created_by"]):
                problems.append(f"{kind} {goid}: created by {g['created_by']} !~ {group['created_by']}")
            if not (g["start_function"] or "").startswith(group["start_function"]):
                problems.append(f"{kind} {goid}: start {g['start_function']} !~ {group['start_function']}")
    spawner = truth["groups"]["spawner"]["ids"][0]
    for goid in truth["groups"]["child"]["ids"]:
        assert ours[goid]["parent_goid"] == spawner
    syscall = ours[truth["groups"]["syscall"]["ids"][0]]
    assert syscall["m"] is not None and syscall["thread"] is not None
    locked = ours[truth["groups"]["locked"]["ids"][0]]
    assert locked["locked_to_thread"]
    assert not problems, "\n".join(problems[:40])


@pytest.mark.arm64
def test_filters_and_groups(build: matrix.Build) -> None:
    fx = fixture(build, "panic")
    truth = fx.truth
    recv = truth["groups"]["recv"]["ids"]
    grouped = run_json(fx, "goroutines", "--group")
    assert grouped["groups"][0]["ids"] == recv  # the largest group: every receiver, same frames
    assert grouped["groups"][0]["wait_reason"] == "chan receive"
    assert grouped["groups"][0]["frames"][-2]["function"] == "main.recvWorker"
    sizes = [len(g["ids"]) for g in grouped["groups"]]
    assert sizes == sorted(sizes, reverse=True)
    assert sum(sizes) == grouped["total"]
    sends = run_json(fx, "goroutines", "--status", "chan send")
    assert [g["id"] for g in sends["goroutines"]] == truth["groups"]["send"]["ids"]
    deep = run_json(fx, "goroutines", "--function", r"^main\.recurse$")
    want = sorted(truth["groups"]["shallow"]["ids"] + truth["groups"]["deep"]["ids"])
    assert sorted(g["id"] for g in deep["goroutines"]) == want
    limited = run_json(fx, "goroutines", "--limit", "5")
    assert len(limited["goroutines"]) == 5 and limited["total"] > 250
    dead = run_json(fx, "goroutines", "--status", "dead")
    assert all(g["status"].startswith("dead") for g in dead["goroutines"])


@pytest.mark.arm64
def test_system_stacks_match_go(build: matrix.Build) -> None:
    """Signal mode: every M dumped its g0 stack from its own signal handler; `bt --m`
    walks the same frames, through the handler and the kernel's signal frame."""
    fx = fixture(build, "signal")
    tb = fx.traceback
    ms = {m["id"]: m for m in run_json(fx, "ms")["ms"]}
    dumped = {d.m for d in tb.signal_dumps}
    assert dumped <= set(ms), f"Go dumped Ms {sorted(dumped)}, godbg lists {sorted(ms)}"
    problems = []
    checked = 0
    for sys_stack in tb.system_stacks:
        if sys_stack.kind != "goroutine 0" or sys_stack.m is None:
            continue
        bt = run_json(fx, "bt", "--m", str(sys_stack.m))
        g0 = [f for f in bt["frames"] if f.get("stack") == "g0"]
        for p in compare_stack(g0, sys_stack):
            problems.append(f"m{sys_stack.m}: {p}")
        assert ms[sys_stack.m]["in_signal_handler"]
        checked += 1
    assert checked >= 1
    assert not problems, "\n".join(problems[:40])
    crash_m = [m for m in ms.values() if m["crashing"]]
    assert len(crash_m) == 1 and crash_m[0]["curg"] == fx.truth["signal_goid"]
    for m in ms.values():
        g0 = m["g0"]
        if g0["sp"] is not None:
            assert g0["lo"] <= g0["sp"] <= g0["hi"] and g0["used"] == g0["hi"] - g0["sp"]


@pytest.mark.arm64
def test_cli_and_text(build: matrix.Build) -> None:
    fx = fixture(build, "panic")
    out = run_cli(fx, "goroutines", "--json")
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["goroutines"]) > 250
    for argv in (["goroutines"], ["goroutines", "--group"], ["bt", "1"], ["ms"], ["bt", "--m", "0"]):
        out = run_cli(fx, *argv)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() and "\x1b[" not in out.stdout
    text = run_cli(fx, "goroutines", "--group").stdout
    assert "main.recvWorker" in text and "chan receive" in text
    bad = run_cli(fx, "bt", "999999")
    assert bad.returncode == 2 and bad.stderr.startswith("godbg: ") and "999999" in bad.stderr
    assert run_cli(fx, "bt").returncode == 2


def test_jsonl_matches_the_truth(build: matrix.Build) -> None:
    """--jsonl: one goroutine (or group) a line, every goroutine the program recorded."""
    fx = fixture(build, "panic")
    truth = fx.truth
    out = run_cli(fx, "goroutines", "--jsonl")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    ours = {g["id"]: g for g in map(json.loads, lines)}
    assert len(ours) == len(lines) > 250
    for kind, group in truth["groups"].items():
        assert set(group["ids"]) <= set(ours), f"{kind}: missing {set(group['ids']) - set(ours)}"
    recv = truth["groups"]["recv"]["ids"]
    assert {ours[i]["wait_reason"] for i in recv} == {"chan receive"}
    grouped = [json.loads(line) for line in run_cli(fx, "goroutines", "--group", "--jsonl").stdout.splitlines()]
    assert grouped[0]["ids"] == recv and sum(len(g["ids"]) for g in grouped) == len(lines)
    assert len(run_cli(fx, "goroutines", "--jsonl", "--limit", "5").stdout.splitlines()) == 5


# What a throw's goroutine has above the frame Go starts it at (fatalthrow passes its
# caller's pc/sp), and what the crashing M's g0 has above Go's "runtime stack:".
THROW_FRAMES = ("runtime.systemstack_switch", "runtime.fatalthrow")
G0_CRASH_FRAMES = ("runtime.raise", "runtime.dieFromSignal", "runtime.crash", "runtime.fatalthrow.func1",
                   "runtime.fatalthrow")


@pytest.mark.arm64
@pytest.mark.parametrize("mode", ["overflow", "deadlock", "mapwrites"])
def test_throws_match_go(build: matrix.Build, mode: str) -> None:
    """Fatal errors (testdata/panics): the throwing goroutine's frames continue from its
    sched (saved by systemstack/morestack) after godbg's g0 frames, and the crashing M's
    g0 frames end with Go's "runtime stack:"; 87,000-frame stacks are elided like Go's."""
    fx = matrix.crash("panics", build, args=[mode], core_kind="kernel")
    tb = fx.traceback
    problems = []
    for goid, t in first_goroutines(tb).items():
        if t.stack_unavailable:
            # A goroutine running on another thread when the throw came: Go prints
            # "stack unavailable" for it, and its frames later if its M dumps them.
            t = next((x for x in tb.goroutines if x.id == goid and not x.stack_unavailable), None)
            if t is None:
                continue
        bt = run_json(fx, "bt", str(goid))
        own = [f for f in bt["frames"] if "stack" not in f]
        prefix = THROW_FRAMES if any(f.get("stack") for f in bt["frames"]) else ()
        for p in compare_stack(own, t, allow_prefix=prefix, our_elided=bt["elided"]):
            problems.append(f"goroutine {goid}: {p}")
    crashing = [m for m in run_json(fx, "ms")["ms"] if m["crashing"]]
    assert len(crashing) == 1
    g0 = [f for f in run_json(fx, "bt", "--m", str(crashing[0]["id"]))["frames"] if f.get("stack") == "g0"]
    for stack in tb.system_stacks:
        if stack.kind == "runtime stack":
            problems += [f"runtime stack: {p}" for p in compare_stack(g0, stack, allow_prefix=G0_CRASH_FRAMES)]
    assert not problems, "\n".join(problems[:40])
