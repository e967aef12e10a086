"""Locals and arguments of a goroutine's frame for ``print --goroutine G --frame K``.

Not built yet in core mode: it needs the DWARF of each function's variables (location
expressions and lists). Until then the option says so in one line; in gdb and delve the
selected frame's locals come from the debugger (``Target.local_resolver``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from godbg.errors import UnsupportedError

if TYPE_CHECKING:
    from godbg.target.target import Target


def frame_locals_resolver(target: Target, goroutine: int, frame: int) -> Any:
    raise UnsupportedError(
        f"print --goroutine {goroutine} --frame {frame}: locals of a frame are not decoded in this mode yet "
        "(in gdb or delve, select the frame and print the local by name)")
