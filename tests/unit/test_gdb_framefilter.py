"""The frame filter behind gdb's `bt` after `go goroutine N`, with gdb stubbed out: frames
whose pc is not a return address are named at pc (Go's symPC), return addresses keep gdb's
own frames, and the pc-0 frame that ends the goroutine is left out."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from godbg.program.pclntab import Func
from godbg.runtime.unwind import PhysFrame


class _Decorator:
    def __init__(self, base: Any) -> None:
        self.base = base

    def inferior_frame(self) -> Any:
        return self.base.inferior_frame() if hasattr(self.base, "inferior_frame") else self.base


@pytest.fixture
def ff(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    gdb = types.ModuleType("gdb")
    gdb.error = RuntimeError  # type: ignore[attr-defined]
    gdb.frame_filters = {}  # type: ignore[attr-defined]
    deco = types.ModuleType("gdb.FrameDecorator")
    deco.FrameDecorator = _Decorator  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gdb", gdb)
    monkeypatch.setitem(sys.modules, "gdb.FrameDecorator", deco)
    monkeypatch.delitem(sys.modules, "godbg.backends.gdb.framefilter", raising=False)
    monkeypatch.delitem(sys.modules, "godbg.backends.gdb.gdbtarget", raising=False)
    import godbg.backends.gdb.framefilter as module

    yield module
    # modules bound to the stub must not outlive the test
    for name in ("godbg.backends.gdb.framefilter", "godbg.backends.gdb.gdbtarget"):
        sys.modules.pop(name, None)


class GdbFrame:
    def __init__(self, level: int, pc: int, sp: int, name: str) -> None:
        self._level, self._pc, self._sp, self.name = level, pc, sp, name

    def level(self) -> int:
        return self._level

    def pc(self) -> int:
        return self._pc

    def read_register(self, _name: str) -> int:
        return self._sp

    def inferior_frame(self) -> GdbFrame:
        return self


def func(name: str, entry: int) -> Func:
    return Func(name, entry, entry + 0x100, 0, 0, 0, 0, 1, 0, 0, 0, 0, (), (), 0)


class Sel:
    def __init__(self, frames: list[PhysFrame]) -> None:
        self.goid = 7
        self.frames = frames

    def index_of(self, pc: int, sp: int) -> int | None:
        for i, f in enumerate(self.frames):
            if (f.pc, f.sp) == (pc, sp):
                return i
        return None


def shown(out: list[Any]) -> list[tuple[int, str]]:
    return [(d.inferior_frame().level(), d.function() if hasattr(d, "_function") else d.name) for d in out]


def test_entry_and_trap_frames_named_at_pc(ff: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    never_ran = PhysFrame(0x1000, 0x50, 0x58, 0x2001, func("main.worker", 0x1000), False)
    goexit = PhysFrame(0x2001, 0x58, 0x60, 0, func("runtime.goexit", 0x2000), False)
    sel = Sel([never_ran, goexit])
    monkeypatch.setattr(ff, "_logical_frames",
                        lambda f: [(f.func.name, "main.go", 10)] if f.pc == 0x1000 else [])
    frames = [GdbFrame(0, 0x9, 0x10, "runtime.raise"), GdbFrame(1, 0x1000, 0x50, "??"),
              GdbFrame(2, 0x2001, 0x58, "runtime.goexit"), GdbFrame(3, 0, 0x60, "??")]
    out = list(ff.GoroutineFrameFilter(sel).filter(iter(frames)))
    assert shown(out) == [(0, "runtime.raise"), (1, "main.worker"), (2, "runtime.goexit")]
    assert out[1].address() == 0x1000 and out[1].line() == 10


def test_interrupted_frame_drops_inlined_call_go_does_not_show(ff: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    spin = PhysFrame(0x3096, 0x80, 0x88, 0x2001, func("main.spin", 0x3000), True)
    sel = Sel([spin])
    monkeypatch.setattr(ff, "_logical_frames", lambda f: [("main.spin", "main.go", 223)])
    frames = [GdbFrame(0, 0x9, 0x10, "runtime.raise"), GdbFrame(1, 0x3096, 0x80, "sync/atomic.(*Int64).Add"),
              GdbFrame(2, 0x3096, 0x80, "main.spin")]
    out = list(ff.GoroutineFrameFilter(sel).filter(iter(frames)))
    assert shown(out) == [(0, "runtime.raise"), (1, "main.spin")]


def test_return_addresses_keep_gdbs_frames(ff: Any) -> None:
    parked = PhysFrame(0x40CA, 0x80, 0x88, 0x5000, func("runtime.gopark", 0x4000), False)
    sel = Sel([parked])
    frames = [GdbFrame(0, 0x9, 0x10, "runtime.raise"), GdbFrame(1, 0x40CA, 0x80, "runtime.gopark")]
    assert ff.GoroutineFrameFilter(sel).filter(iter(frames)).__class__ is not list
    assert shown(list(ff.GoroutineFrameFilter(sel).filter(iter(frames)))) == [(0, "runtime.raise"),
                                                                               (1, "runtime.gopark")]


def test_no_selection_passes_through(ff: Any) -> None:
    sel = Sel([])
    sel.goid = None  # type: ignore[assignment]
    frames = iter([GdbFrame(0, 0x9, 0x10, "f")])
    assert ff.GoroutineFrameFilter(sel).filter(frames) is frames
