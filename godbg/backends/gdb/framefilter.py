"""What gdb's `bt` prints for a goroutine selected with `go goroutine N`.

The goroutine's frames are callers of frame #0 to gdb, and gdb looks every caller up at
pc−1 (inside the CALL of a return address). Two kinds of goroutine frame hold a pc that
is not a return address, and Go symbolizes them at pc itself: a goroutine that never ran
(its pc is its function's entry: pc−1 is the padding before it, `?? ()`), and a frame
interrupted on another thread (pc−1 can be the line before, or an inlined call Go does
not show). gdb's Python unwinders cannot mark a frame as a signal frame, so this frame
filter prints those frames as Go does, from the pclntab; and it drops the pc-0 frame that
ends the goroutine's walk. `bt -no-filters` shows gdb's raw frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import gdb
from gdb.FrameDecorator import FrameDecorator

from godbg.backends.gdb.gdbtarget import SESSION
from godbg.errors import GodbgError
from godbg.runtime.unwind import PhysFrame

SP = "rsp"
# Ahead of gdb's own filters (there are none by default) and runtime-gdb.py's (none).
PRIORITY = 100


class GoFrame(FrameDecorator):
    """One logical frame (a function or an inlined call) at a goroutine frame's real pc."""

    def __init__(self, base: Any, function: str, file: str, line: int, pc: int | None) -> None:
        super().__init__(base)
        self._function, self._file, self._line, self._pc = function, file, line, pc

    def function(self) -> str:
        return self._function

    def filename(self) -> str:
        return self._file

    def line(self) -> int:
        return self._line

    def address(self) -> int | None:
        return self._pc

    def frame_args(self) -> None:
        return None

    def frame_locals(self) -> None:
        return None


class GoroutineFrameFilter:
    def __init__(self, selection: Any) -> None:
        self.name = "godbg-goroutine"
        self.priority = PRIORITY
        self.enabled = True
        self.selection = selection

    def filter(self, frames: Iterator[Any]) -> Iterator[Any]:
        if self.selection.goid is None or not self.selection.frames:
            return frames
        return self._filtered(frames)

    def _filtered(self, frames: Iterable[Any]) -> Iterator[Any]:
        group: list[Any] = []
        key: tuple[int, int] | None = None
        for dec in frames:
            this = _key(dec)
            if group and this == key:
                group.append(dec)
                continue
            yield from self._emit(group, key)
            group, key = [dec], this
        yield from self._emit(group, key)

    def _emit(self, group: list[Any], key: tuple[int, int] | None) -> Iterator[Any]:
        """gdb's frames at one (pc, sp): one physical frame and the inlined calls gdb found."""
        if not group or key is None:
            yield from group
            return
        pc, sp = key
        if pc == 0 and group[0].inferior_frame().level() > 0:
            return  # the end of the goroutine's walk, not a frame
        i = self.selection.index_of(pc, sp)
        frame = self.selection.frames[i] if i is not None else None
        if frame is None or frame.sym_pc != frame.pc:
            yield from group  # a return address: gdb's pc−1 lookup is Go's too
            return
        logical = _logical_frames(frame)
        if not logical:
            yield from group
            return
        for j, (function, file, line) in enumerate(logical):
            base = group[min(j, len(group) - 1)]
            outermost = j == len(logical) - 1
            yield GoFrame(base, function, file, line, frame.pc if outermost else None)


def _key(dec: Any) -> tuple[int, int] | None:
    f = dec.inferior_frame()
    try:
        return int(f.pc()), int(f.read_register(SP))
    except (gdb.error, ValueError):
        return None


def _logical_frames(frame: PhysFrame) -> list[tuple[str, str, int]]:
    """Innermost first, as Go prints them at the frame's own pc."""
    try:
        tab = SESSION.target().binary.pclntab
        return [(x.name, x.file, x.line) for x in tab.inline_frames(frame.func, frame.sym_pc)]
    except GodbgError:
        return []


def register(selection: Any) -> None:
    filt = GoroutineFrameFilter(selection)
    gdb.frame_filters[filt.name] = filt
