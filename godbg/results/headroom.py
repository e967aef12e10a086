"""`headroom`'s answer: per goroutine how far its stack is from the guard (the next growth)
and from the limit (a fatal "stack overflow") and what fills it; the Ms' g0 and gsignal
stacks; with `--check BYTES` the goroutines closer than that to the limit."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from godbg.results.base import JSON, Result


@dataclass(frozen=True)
class RepeatedFunction(Result):
    """The program function with the most frames on a stack (recursion)."""

    function: str
    times: int
    frame_bytes: int | None  # its largest frame

    def to_json(self) -> JSON:
        return {"function": self.function, "times": self.times, "frame_bytes": self.frame_bytes}


@dataclass(frozen=True)
class LargestFrame(Result):
    function: str
    bytes: int

    def to_json(self) -> JSON:
        return {"function": self.function, "bytes": self.bytes}


@dataclass(frozen=True)
class GoroutineHeadroom(Result):
    id: int
    status: str
    lo: int
    hi: int
    sp: int | None  # None: outside the bounds
    size: int
    used: int | None  # hi - sp
    guard_headroom: int | None  # sp - (lo + stack guard)
    limit_headroom: int | None  # max_stack - used - stack guard
    doublings_left: int
    frames: int  # physical frames on the stack
    deepest_function: str | None  # the innermost function outside the runtime
    repeated: RepeatedFunction | None
    largest_frame: LargestFrame | None

    def to_json(self) -> JSON:
        return goroutine_headroom_json(tuple(getattr(self, key) for key in _KEYS))


_KEYS = tuple(f.name for f in fields(GoroutineHeadroom))


def goroutine_headroom_json(row: tuple[Any, ...]) -> JSON:
    """The JSON of a GoroutineHeadroom given as the tuple of its fields, in order: a
    listing of every goroutine writes its rows so, without a dataclass for each."""
    out = dict(zip(_KEYS, row))
    repeated, largest = out["repeated"], out["largest_frame"]
    if repeated is not None:
        out["repeated"] = repeated.to_json()
    if largest is not None:
        out["largest_frame"] = largest.to_json()
    return out


@dataclass(frozen=True)
class SystemStack(Result):
    """An M's g0 or gsignal stack: fixed size, it never grows."""

    m: int
    stack: str  # "g0" or "gsignal"
    lo: int
    hi: int
    sp: int | None
    size: int
    used: int | None
    guard_headroom: int | None

    def to_json(self) -> JSON:
        return {"m": self.m, "stack": self.stack, "lo": self.lo, "hi": self.hi, "sp": self.sp, "size": self.size,
                "used": self.used, "guard_headroom": self.guard_headroom}


@dataclass(frozen=True)
class HeadroomFinding(Result):
    """A goroutine closer to the limit than `--check` allows."""

    id: int
    limit_headroom: int
    size: int
    used: int
    function: str | None  # its deepest function

    def to_json(self) -> JSON:
        return {"id": self.id, "limit_headroom": self.limit_headroom, "size": self.size, "used": self.used,
                "function": self.function}


@dataclass(frozen=True)
class HeadroomCheck(Result):
    bytes: int  # what `--check` was given
    findings: tuple[HeadroomFinding, ...]  # closest to the limit first

    def to_json(self) -> JSON:
        return {"bytes": self.bytes, "findings": [f.to_json() for f in self.findings]}


@dataclass(frozen=True)
class Headroom(Result):
    maxstacksize: int
    max_stack: int  # the largest stack maxstacksize allows: a power of two
    stack_guard: int
    goroutines: tuple[GoroutineHeadroom, ...]  # closest to the limit first
    system: tuple[SystemStack, ...]
    check: HeadroomCheck | None = None  # `--check BYTES`

    def to_json(self) -> JSON:
        out: JSON = {"maxstacksize": self.maxstacksize, "max_stack": self.max_stack, "stack_guard": self.stack_guard,
                     "goroutines": [g.to_json() for g in self.goroutines],
                     "system": [s.to_json() for s in self.system]}
        if self.check is not None:
            out["check"] = self.check.to_json()
        return out
