"""Frames as `bt`, `panic` and `report` give them: innermost first, inlined calls as
frames of their own; with `bt --full` each frame's arguments and locals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from godbg.results.base import JSON, Result


@dataclass(frozen=True)
class Variable(Result):
    """An argument or local of a frame: its decoded value (JSON, by print's rules), or why
    it is unavailable."""

    name: str
    type: str | None
    value: Any = None
    unavailable: str | None = None

    def to_json(self) -> JSON:
        out: JSON = {"name": self.name, "type": self.type}
        if self.unavailable is not None:
            out["unavailable"] = self.unavailable
        else:
            out["value"] = self.value
        return out


@dataclass(frozen=True)
class Frame(Result):
    function: str
    file: str  # "" for C code without DWARF
    line: int
    pc: int  # the return address for callers, the interrupted pc for a trapped frame
    sp: int
    inlined: bool
    stack: str = ""  # `bt --m`: "g0" / "gsignal"; empty on a goroutine's own stack
    object: str = ""  # native (C) code: the ELF file holding it; empty for Go code
    # `bt --full`: None when not asked for.
    args: tuple[Variable, ...] | None = None
    locals: tuple[Variable, ...] | None = None

    def to_json(self) -> JSON:
        out: JSON = {"function": self.function, "file": self.file, "line": self.line, "pc": f"{self.pc:#x}",
                     "sp": f"{self.sp:#x}", "inlined": self.inlined}
        if self.stack:
            out["stack"] = self.stack
        if self.object:
            out["object"] = self.object
        if self.args is not None:
            out["args"] = [v.to_json() for v in self.args]
        if self.locals is not None:
            out["locals"] = [v.to_json() for v in self.locals]
        return out


@dataclass(frozen=True)
class SourceFrame(Result):
    """A frame as `goroutines --group` lists it: where, not which pc."""

    function: str
    file: str
    line: int

    def to_json(self) -> JSON:
        return {"function": self.function, "file": self.file, "line": self.line}
