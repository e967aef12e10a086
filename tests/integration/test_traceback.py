"""The crash-traceback parser: on saved real crashes (no Go needed), on hand-written
corner cases, and on fresh crashes of tbgen with every build of the matrix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration import matrix
from tests.integration import traceback as tbm

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = sorted((DATA / "tracebacks").glob("*.txt"))
TBGEN = DATA / "tbgen"
# tracebackInnerFrames in src/runtime/traceback.go: frames printed before "...N frames elided...".
INNER_FRAMES = 50


def sample(name: str) -> tbm.Traceback:
    return tbm.parse((DATA / "tracebacks" / name).read_text())


def check_well_formed(tb: tbm.Traceback) -> None:
    assert tb.unparsed == []
    assert tb.preamble == []
    assert len(tb.ids) == len(set(tb.ids)), "a goroutine listed twice"
    for g in tb.goroutines:
        assert g.id > 0 and g.status
        assert g.frames or g.stack_unavailable, f"goroutine {g.id} has no frames"
        for f in g.frames:
            assert f.file and f.line > 0, f
            if not f.inlined and f.function != "non-Go function":
                # crash mode prints fp= sp= pc= for every physical frame
                assert None not in (f.offset, f.fp, f.sp, f.pc), f
                assert f.fp >= f.sp
    for s in tb.system_stacks:
        assert s.frames, s.header


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_samples_parse_completely(path: Path) -> None:
    check_well_formed(tbm.parse(path.read_text()))


def test_plain_panic_go122() -> None:
    tb = sample("plain-go1.22.10.txt")
    assert tb.panics == [tbm.Panic("plain panic")]
    assert tb.fatal_error is None and tb.signal is None
    g1 = tb.goroutine(1)
    assert g1.status == "running" and g1.m is not None and g1.gp is not None
    assert g1.frames[0].function == "panic" and g1.frames[0].symbol == "runtime.gopanic"
    assert g1.functions[1:4] == ["main.level2", "main.level1", "main.main"]
    assert g1.created_by is None  # goroutine 1 has no creator line
    locked = [g for g in tb.goroutines if g.locked_to_thread]
    assert [g.status for g in locked] == ["select (no cases)"]
    assert "main.locked" in locked[0].functions
    syscall = tb.by_status("syscall")
    assert len(syscall) == 1 and syscall[0].m is not None and "main.reading" in syscall[0].functions
    parked = tb.by_status("chan receive")[0]
    inlined = [f for f in parked.frames if f.function == "main.inlined"]
    assert inlined and inlined[0].inlined and inlined[0].args == "..." and inlined[0].pc is None
    assert parked.created_by is not None
    assert (parked.created_by.function, parked.created_by.goroutine) == ("main.main", 1)
    assert parked.created_by.file.endswith("tbgen/main.go") and parked.created_by.offset
    deep = [g for g in tb.goroutines if "main.deep" in g.functions][0]
    assert deep.elided > 0 and deep.elided_at == INNER_FRAMES
    # gopark, block, main.deep…, gowrap, goexit: the outer frames printed after the gap
    assert deep.functions.count("main.deep") == len(deep.frames) - 4
    assert deep.functions[-1] == "runtime.goexit" and deep.functions[-2].startswith("main.main.gowrap")


def test_labels_go127() -> None:
    tb = sample("plain-go1.27.3-tracebacklabels.txt")
    labelled = [g for g in tb.goroutines if g.labels]
    assert len(labelled) == 1
    assert labelled[0].labels == {"worker": "labelled", "the key": "a value"}
    assert labelled[0].status == "select (no cases)"


def test_ancestors() -> None:
    tb = sample("plain-go1.26.6-tracebackancestors.txt")
    parked = tb.by_status("chan receive")[0]
    assert [a.id for a in parked.ancestors] == [1]
    assert "main.main" in parked.ancestors[0].functions


@pytest.mark.parametrize("name, expected, gopanic_frames", [
    # Go 1.22-1.24: a value re-panicked after recover() is printed twice
    ("repanic-go1.22.10.txt", [tbm.Panic("stage 7 failed", recovered=True), tbm.Panic("stage 7 failed")], 2),
    # Go 1.25+: once, marked [recovered, repanicked] (two gopanic frames all the same)
    ("repanic-go1.25.5.txt", [tbm.Panic("stage 7 failed", recovered=True, repanicked=True)], 2),
    ("recovered-go1.27.3.txt", [tbm.Panic("first", recovered=True), tbm.Panic("again after first")], 2),
    ("nested-go1.23.9.txt", [tbm.Panic("first"), tbm.Panic("second")], 2),
    # a multi-line value: continuation unindented in 1.22, tab-indented from 1.23
    ("multiline-go1.22.10.txt", [tbm.Panic("line one\nline two")], 1),
    ("multiline-go1.27.3.txt", [tbm.Panic("line one\nline two")], 1),
])
def test_panic_chains(name: str, expected: list[tbm.Panic], gopanic_frames: int) -> None:
    tb = sample(name)
    assert tb.panics == expected
    assert tb.goroutine(1).functions.count("panic") == gopanic_frames


def test_nil_dereference() -> None:
    tb = sample("nil-go1.27.3.txt")
    assert tb.panic_values == ["runtime error: invalid memory address or nil pointer dereference"]
    assert tb.signal == tbm.SignalInfo("SIGSEGV", "segmentation violation", "0x1", 0, tb.signal.pc)
    g1 = tb.goroutine(1)
    assert g1.functions[:3] == ["panic", "runtime.panicmem", "runtime.sigpanic"]
    assert g1.frames[1].inlined
    assert g1.frames[3].pc == tb.signal.pc  # the faulting instruction is the frame's pc


def test_stack_overflow() -> None:
    tb = sample("overflow-go1.24.11.txt")
    assert tb.fatal_error == "stack overflow" and tb.panics == []
    assert any("goroutine stack exceeds 1000000000-byte limit" in m for m in tb.runtime_messages)
    [runtime_stack] = tb.system_stacks
    assert runtime_stack.kind == "runtime stack"
    assert runtime_stack.functions == ["runtime.throw", "runtime.newstack", "runtime.morestack"]
    g1 = tb.goroutine(1)
    assert g1.elided > 1000 and g1.elided_at == INNER_FRAMES
    assert set(g1.functions[:INNER_FRAMES]) == {"main.recurse"}


def test_deadlock() -> None:
    tb = sample("deadlock-go1.27.3.txt")
    assert tb.fatal_error == "all goroutines are asleep - deadlock!"
    assert "runtime.checkdead" in tb.system_stacks[0].functions
    assert tb.goroutine(1).status == "select (no cases)"


def test_sigquit_dumps_every_m() -> None:
    tb = sample("quit-go1.27.3.txt")
    assert tb.panics == [] and tb.fatal_error is None
    assert {d.name for d in tb.signal_dumps} == {"SIGQUIT"}
    ms = [d.m for d in tb.signal_dumps]
    assert len(ms) == len(set(ms)) > 1
    for d in tb.signal_dumps:
        assert d.registers["rip"] == d.pc and "rsp" in d.registers
        assert d.stack is not None
        if isinstance(d.stack, tbm.SystemStack):
            assert d.stack.m == d.m and d.stack.signal is d and d.stack.status == "idle"
        else:  # the M was running a goroutine: it is in tb.goroutines once
            assert d.stack.m == d.m and tb.ids.count(d.stack.id) == 1
    assert all(s.kind == "goroutine 0" for s in tb.system_stacks)


# ---------------------------------------------------------------- corner cases


HANDMADE = """\
goroutine 7 [chan receive, 3 minutes, locked to thread]:
main.worker(...)
\t/src/app/main.go:23
main.(*Pool).run[...](0xc000010000, {0x1, 0x2})
\t/src/app/pool.go:40 +0x1d
...additional frames elided...
created by main.start
\t/src/app/main.go:10 +0x3a

goroutine 9 [running]:
\tgoroutine running on other thread; stack unavailable
created by main.start in goroutine 1
\t/src/app/main.go:11 +0x4a

goroutine 12 [GC worker (idle) (scan)]:
runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)
\t/usr/lib/go/src/runtime/proc.go:402 +0xce
non-Go function at pc=0x7f0000001000

goroutine 13 [synctest.Wait (durable), synctest bubble 5]:
main.test()
\t/src/app/main.go:50 +0x1
"""


def test_handmade_corner_cases() -> None:
    tb = tbm.parse(HANDMADE)
    assert tb.unparsed == [] and tb.ids == [7, 9, 12, 13]
    g7 = tb.goroutine(7)
    assert (g7.status, g7.wait_minutes, g7.locked_to_thread, g7.gp, g7.m) == ("chan receive", 3, True, None, None)
    assert g7.frames[0].inlined and g7.frames[0].offset is None
    assert g7.frames[1].function == "main.(*Pool).run[...]" and g7.frames[1].args == "0xc000010000, {0x1, 0x2}"
    assert g7.frames[1].offset == 0x1D and g7.frames[1].pc is None  # not crash mode: no fp/sp/pc
    assert (g7.elided, g7.elided_at) == (-1, 2)
    assert g7.created_by == tbm.CreatedBy("main.start", None, "/src/app/main.go", 10, 0x3A)
    g9 = tb.goroutine(9)
    assert g9.stack_unavailable and g9.frames == [] and g9.created_by.goroutine == 1
    g12 = tb.goroutine(12)
    assert g12.status == "GC worker (idle)" and g12.scan
    assert g12.frames[-1].function == "non-Go function" and g12.frames[-1].pc == 0x7F0000001000
    g13 = tb.goroutine(13)
    assert g13.status == "synctest.Wait (durable)" and g13.durable and g13.synctest_bubble == 5


def test_program_output_before_the_crash_is_preamble() -> None:
    tb = tbm.parse("starting up\nworking: 3 items\npanic: boom\n\n" + HANDMADE)
    assert tb.preamble == ["starting up", "working: 3 items"]
    assert tb.panic_values == ["boom"]


def test_not_a_traceback() -> None:
    with pytest.raises(tbm.TracebackError):
        tbm.parse("hello\nworld\n")


# ------------------------------------------------------- live, every toolchain


MODES = ["plain", "repanic", "recovered", "multiline", "nil", "overflow", "deadlock", "quit"]


@pytest.mark.parametrize("mode", MODES)
def test_parser_on_every_build(build: matrix.Build, mode: str) -> None:
    fx = matrix.crash(TBGEN, build, args=[mode], core_kind="none")
    assert fx.signal == "SIGABRT"
    tb = fx.traceback
    check_well_formed(tb)
    if mode == "repanic":
        if build.at_least("1.25"):
            assert tb.panics == [tbm.Panic("stage 7 failed", recovered=True, repanicked=True)]
        else:
            assert tb.panics == [tbm.Panic("stage 7 failed", recovered=True), tbm.Panic("stage 7 failed")]
    elif mode == "recovered":
        assert tb.panics == [tbm.Panic("first", recovered=True), tbm.Panic("again after first")]
    elif mode == "multiline":
        assert tb.panic_values == ["line one\nline two"]
    elif mode == "nil":
        assert tb.signal is not None and tb.signal.name == "SIGSEGV" and tb.signal.addr == 0
    elif mode == "overflow":
        assert tb.fatal_error == "stack overflow" and tb.goroutine(1).elided > 0
    elif mode == "deadlock":
        assert tb.fatal_error == "all goroutines are asleep - deadlock!"
    elif mode == "quit":
        assert len(tb.signal_dumps) > 1 and all(d.stack is not None for d in tb.signal_dumps)
    else:
        assert tb.panic_values == ["plain panic"]
    if mode not in ("deadlock", "quit"):
        g1 = tb.goroutine(1)
        assert g1.status == "running" and g1.m is not None and "main.level2" in g1.functions
    if mode != "deadlock":
        assert len(tb.by_status("syscall")) == 1
        assert [g.status for g in tb.goroutines if g.locked_to_thread] == ["select (no cases)"]
