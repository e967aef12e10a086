"""`report`'s answer: the whole postmortem, each section another command's typed answer
(None when the target could not give it; the notes say why)."""

from __future__ import annotations

from dataclasses import dataclass

from godbg.results.base import JSON, Result
from godbg.results.bt import Backtrace
from godbg.results.goroutines import GoroutineGroups
from godbg.results.headroom import Headroom
from godbg.results.info import Info
from godbg.results.ms import Ms
from godbg.results.panic import PanicPath
from godbg.results.waits import Leaks, Waits


@dataclass(frozen=True)
class StackOverflow(Result):
    """For a "stack overflow" fatal error: the goroutine that hit the limit, how big its
    stack was, and what filled it."""

    goroutine: int
    maxstacksize: int
    size: int
    used: int | None
    function: str | None  # the function on the stack most often (recursion), else the deepest
    depth: int | None  # how many times it is on the stack, else how many frames there are
    frame_bytes: int | None

    def to_json(self) -> JSON:
        return {"goroutine": self.goroutine, "maxstacksize": self.maxstacksize, "size": self.size,
                "used": self.used, "function": self.function, "depth": self.depth, "frame_bytes": self.frame_bytes}


def _json(section: Result | None) -> JSON | None:
    return section.to_json() if section is not None else None


@dataclass(frozen=True)
class Report(Result):
    headline: str  # one line that says what ended the program
    stack_overflow: StackOverflow | None
    binary: str
    info: Info
    panic: PanicPath | None
    crashing_goroutine: Backtrace | None  # a cgo crash's M frames (signal, C, g0) first
    groups: GoroutineGroups | None  # the crashing goroutine's group first, then the largest
    headroom: Headroom | None  # the goroutines closest to the limit
    ms: Ms | None
    waits: Waits | None  # the wait objects with the most waiters
    leaks: Leaks | None
    notes: tuple[str, ...]  # sections that could not be read, and why

    def to_json(self) -> JSON:
        groups = self.groups
        return {
            "headline": self.headline,
            "stack_overflow": _json(self.stack_overflow),
            "binary": self.binary,
            "info": self.info.to_json(),
            "panic": _json(self.panic),
            "crashing_goroutine": _json(self.crashing_goroutine),
            "groups": [g.to_json() for g in groups.groups] if groups is not None else None,
            "goroutine_count": groups.total if groups is not None else None,
            "group_count": groups.total_groups if groups is not None else None,
            "headroom": _json(self.headroom),
            "ms": [m.to_json() for m in self.ms.ms] if self.ms is not None else None,
            "waits": [o.to_json() for o in self.waits.objects] if self.waits is not None else None,
            "leaks": _json(self.leaks),
            "notes": list(self.notes),
        }
