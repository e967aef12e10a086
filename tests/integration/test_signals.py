"""Fatal signals and C frames, checked against Go's own crash output and gdb's `bt`.

testdata/cgocrash (a cgo build) dies of SIGSEGV inside C (c_deref, reached through
cgo), of SIGQUIT, or of a nil dereference in Go code, or is snapshotted by gcore at a
breakpoint. Go prints the signal ("SIGSEGV: segmentation violation", "PC=… m=N
sigcode=N addr=…", "signal arrived during cgo execution", or the "[signal …]" line of
a panic); gdb's own `bt` of the faulting thread lists the C functions.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.integration import matrix
from tests.integration.cli import godbg_core, godbg_json

PROGRAM = "cgocrash"
SNAPSHOT_ENV = {"GODBG_GCORE_STOP_AT": "main.readyForCore"}
# Where a cgo call's C frames end: the runtime's switch to the g0 stack.
ASMCGOCALL = "runtime.asmcgocall"
CGO_WRAPPER_RE = re.compile(r"^_cgo_[0-9a-f]+_Cfunc_c_crash$")
_GDB_FRAME_RE = re.compile(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(?P<function>\S+) \(")
_GDB_AT_RE = re.compile(r" at (?P<file>\S+):(?P<line>\d+)$")

pytestmark = pytest.mark.builds(lambda b: not b.goexperiment)


def _crash(build: matrix.Build, mode: str, core_kind: str = "kernel") -> matrix.Fixture:
    return matrix.crash(PROGRAM, build.variant(cgo=True), args=[mode], core_kind=core_kind)


def _signed(code: int) -> int:
    return code - (1 << 64) if code >= 1 << 63 else code


def _check_dump(fs: dict, dump) -> None:  # type: ignore[no-untyped-def]
    assert fs["signal"] == dump.name
    assert fs["description"] == f"{dump.name}: {dump.description}"
    assert int(fs["pc"], 16) == dump.pc
    assert fs["m"] == dump.m
    assert fs["code"] == _signed(dump.sigcode)  # Go prints it as a uint64
    assert (int(fs["addr"], 16) if fs["addr"] is not None else None) == dump.addr
    assert fs["in_cgo"] == dump.in_cgo


def _check_fatal_signal(fx: matrix.Fixture) -> dict:
    dump = fx.traceback.signal_dumps[0]
    info = godbg_json(fx, "info")
    assert info["signal"] == "SIGABRT"  # what the kernel saw: Go re-raised it
    assert info["snapshot"] is False
    fs = info["fatal_signal"]
    assert fs is not None and fs["source"] == "signal frame"
    _check_dump(fs, dump)
    return fs


def test_fatal_signal_in_c_is_the_one_go_printed(build, core_kind):
    fx = _crash(build, "segv-c", core_kind)
    assert _check_fatal_signal(fx)["function"] == fx.truth["c_frames"][0]


@pytest.mark.core_kinds("kernel")  # a gcore adds nothing here but half a minute of gdb
def test_fatal_sigquit_is_the_one_go_printed(build, core_kind):
    # Whichever thread the kernel picked: often one inside a C call (in libc's sleep).
    _check_fatal_signal(_crash(build, "quit", core_kind))


def test_fatal_signal_of_a_go_fault(build):
    fx = _crash(build, "segv-go")
    sig = fx.traceback.signal  # "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x…]"
    assert sig is not None
    fs = godbg_json(fx, "info")["fatal_signal"]
    assert fs["source"] == "goroutine" and fs["goroutine"] == fx.truth["main_goroutine"]
    assert fs["signal"] == sig.name and fs["description"] == f"{sig.name}: {sig.description}"
    assert fs["code"] == _signed(int(sig.code, 16))
    assert int(fs["addr"], 16) == sig.addr
    assert int(fs["pc"], 16) == sig.pc
    assert fs["function"] == "main.derefNil"
    report = godbg_json(fx, "report")
    assert report["headline"].startswith(f"panic: {fx.traceback.panics[0].value}")
    assert report["headline"].endswith(f"[signal {sig.name}: {sig.description} code={sig.code} "
                                       f"addr={sig.addr:#x} pc={sig.pc:#x}]")


@pytest.mark.core_kinds("kernel")
def test_fatal_signal_without_cgo(build, core_kind):
    """testdata/goroutines sends SIGQUIT to a spinning goroutine's thread (tgkill:
    sigcode SI_TKILL, which Go prints as a uint64)."""
    fx = matrix.crash("goroutines", build, args=["signal"], core_kind=core_kind)
    fs = _check_fatal_signal(fx)
    assert fs["in_cgo"] is False
    assert fs["printed"] == fx.stderr.splitlines()[:2]  # Go's own two lines, to the byte


def _native(frames: list[dict]) -> list[dict]:
    return [f for f in frames if f.get("object")]


def _gdb_c_frames(fx: matrix.Fixture) -> list[tuple[str, str, int]]:
    """gdb's own `bt` of the core's first thread (the one that died), from the signal
    frame to the first Go frame: (function, file, line)."""
    gdb = shutil.which("gdb")
    assert gdb is not None
    out = subprocess.run([gdb, "-nx", "-q", "-batch", "-iex", "set auto-load off", "-ex", "bt",
                          str(fx.binary), str(fx.core)], capture_output=True, text=True, timeout=120).stdout
    lines = out.splitlines()
    # The last signal frame is the first signal (a cgo build re-raises SIGABRT through
    # the handler, a nested frame above it).
    start = max(i for i, line in enumerate(lines) if "<signal handler called>" in line)
    found = []
    for line in lines[start + 1:]:
        m = _GDB_FRAME_RE.match(line)
        if m is None:
            continue
        if m["function"] == ASMCGOCALL:
            break
        at = _GDB_AT_RE.search(line)
        found.append((m["function"], at["file"] if at else "", int(at["line"]) if at else 0))
    return found


def test_bt_m_walks_into_c(build, core_kind):
    fx = _crash(build, "segv-c", core_kind)
    m = fx.traceback.signal_dumps[0].m
    frames = godbg_json(fx, "bt", "--m", str(m))["frames"]
    native = _native(frames)
    names = [f["function"] for f in native]
    assert names[:-1] == fx.truth["c_frames"]
    assert CGO_WRAPPER_RE.match(names[-1])
    after = frames[frames.index(native[-1]) + 1]
    assert after["function"] == ASMCGOCALL and after.get("stack") == "g0"
    assert int(native[0]["pc"], 16) == fx.traceback.signal_dumps[0].pc
    if core_kind == "kernel":
        assert [(f["function"], f["file"], f["line"]) for f in native] == _gdb_c_frames(fx)


@pytest.mark.core_kinds("kernel")
def test_report_and_panic_name_the_signal(build):
    fx = _crash(build, "segv-c")
    dump = fx.traceback.signal_dumps[0]
    report = godbg_json(fx, "report")
    assert report["headline"].startswith(f"{dump.name}: {dump.description} in {fx.truth['c_frames'][0]}: ")
    assert report["headline"].endswith("signal arrived during cgo execution")
    assert not any("printBacklog" in n for n in report["notes"])
    crashing = report["crashing_goroutine"]
    assert crashing["goroutine"] == fx.truth["main_goroutine"]
    assert [f["function"] for f in _native(crashing["frames"])][:-1] == fx.truth["c_frames"]
    p = godbg_core(fx, "panic", "--json")
    assert p.returncode == 0 and "printBacklog" not in p.stderr + p.stdout
    quit_fx = _crash(build, "quit")
    headline = godbg_json(quit_fx, "report")["headline"]
    assert headline.startswith("SIGQUIT: quit")
    text = godbg_core(quit_fx, "report")
    assert text.returncode == 0 and text.stdout.startswith("SIGQUIT: quit") and "printBacklog" not in text.stderr


@pytest.mark.core_kinds("kernel")
def test_goroutines_inside_c_calls(build):
    fx = _crash(build, "segv-c")
    for goid in fx.truth["c_goroutines"]:
        bt = godbg_json(fx, "bt", str(goid))
        assert bt["status"] == "syscall"
        own = [f for f in bt["frames"] if "stack" not in f]
        go = fx.traceback.goroutine(goid)
        assert go.status == "syscall"
        assert [f["function"] for f in own] == [f.symbol for f in go.frames]
        assert [int(f["pc"], 16) for f in own if not f["inlined"]] == [f.pc for f in go.frames if not f.inlined]


@pytest.mark.core_kinds("kernel")
def test_bt_m_keeps_mstart(build):
    """Go prints every idle M's g0 stack down to runtime.mstart (sysmon's included)."""
    fx = _crash(build, "segv-c")
    checked = 0
    for stack in fx.traceback.system_stacks:
        if stack.m is None or not stack.frames or stack.frames[-1].function != "runtime.mstart":
            continue
        frames = godbg_json(fx, "bt", "--m", str(stack.m))["frames"]
        assert frames[-1]["function"] == "runtime.mstart", f"m{stack.m}"
        assert int(frames[-1]["sp"], 16) == stack.frames[-1].sp
        checked += 1
    assert checked


@pytest.mark.core_kinds("gcore")
def test_snapshot(build, core_kind):
    fx = matrix.crash(PROGRAM, build.variant(cgo=True), args=["snapshot"], env=SNAPSHOT_ENV, core_kind=core_kind)
    info = godbg_json(fx, "info")
    assert info["snapshot"] is True and info["fatal_signal"] is None
    report = godbg_json(fx, "report")
    assert report["headline"].startswith("no crash: a snapshot")
    assert "SIGSTOP" not in report["headline"]
