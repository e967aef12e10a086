"""Stack headroom per goroutine: how far each stack is from its guard (the next growth)
and from the limit (a fatal "stack overflow"), how many doublings it has left, and what
fills it: the largest frame, the innermost user function, recursion.

Frame sizes come from the engine's own unwinder: a physical frame spans [sp, fp), where
fp is its caller's SP, so its size includes its return address, as the runtime counts it."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from godbg.errors import FaultError
from godbg.program.pclntab import print_name
from godbg.program.target import Target
from godbg.results.base import JSON
from godbg.results.headroom import (
    GoroutineHeadroom,
    Headroom,
    HeadroomCheck,
    HeadroomFinding,
    LargestFrame,
    RepeatedFunction,
    SystemStack,
    goroutine_headroom_json,
)
from godbg.runtime import goroutines as rg
from godbg.runtime import ms as rms
from godbg.runtime.g import G, status_name
from godbg.runtime.stack import goroutine_stack, stack_guard
from godbg.runtime.stacklimits import StackLimits, read_limits
from godbg.runtime.unwind import PhysFrame

RUNTIME_PREFIX = "runtime."
# A stack's shape for sharing summaries: (pc, frame size) of each frame.
StackShape = tuple[tuple[int, int], ...]
# A goroutine's headroom as a tuple of GoroutineHeadroom's fields, in order.
Row = tuple[Any, ...]
_AT = {f.name: i for i, f in enumerate(fields(GoroutineHeadroom))}
_ID, _SIZE, _USED, _LIMIT_HEADROOM, _DEEPEST = (
    _AT["id"], _AT["size"], _AT["used"], _AT["limit_headroom"], _AT["deepest_function"])


@dataclass(frozen=True)
class FrameSummary:
    deepest_function: str | None
    repeated: RepeatedFunction | None
    largest_frame: LargestFrame | None
    depth: int


def summarize_frames(frames: list[PhysFrame]) -> FrameSummary:
    """``frames`` innermost first, on the goroutine's own stack."""
    names = [print_name(pf.func.name) for pf in frames]
    deepest = next((n for n in names if not n.startswith(RUNTIME_PREFIX)), names[0] if names else None)
    repeated = None
    # Recursion in the program, not the runtime's own re-entry (gopanic twice for a
    # panic raised in a deferred call is not recursion anyone needs to hear about).
    counts = Counter(n for n in names if not n.startswith(RUNTIME_PREFIX))
    if counts:
        name, times = counts.most_common(1)[0]
        if times > 1:
            sizes = [pf.fp - pf.sp for pf in frames if print_name(pf.func.name) == name]
            repeated = RepeatedFunction(name, times, max(sizes) if sizes else None)
    largest: LargestFrame | None = None
    for pf in frames:
        size = pf.fp - pf.sp
        if size > 0 and (largest is None or size > largest.bytes):
            largest = LargestFrame(print_name(pf.func.name), size)
    return FrameSummary(deepest, repeated, largest, len(frames))


def _summary(frames: list[PhysFrame], memo: dict[StackShape, FrameSummary]) -> FrameSummary:
    """summarize_frames, shared by every goroutine whose frames have the same pcs and sizes."""
    key = tuple([(pf.pc, pf.fp - pf.sp) for pf in frames])
    found = memo.get(key)
    if found is None:
        found = memo[key] = summarize_frames(frames)
    return found


def _row(target: Target, g: G, limits: StackLimits, summaries: dict[StackShape, FrameSummary]) -> Row:
    stack = goroutine_stack(target, g, keep=False)
    sp = stack.sp if stack.sp is not None else g.sched_sp
    size = g.hi - g.lo if g.hi > g.lo else 0
    inside = bool(size) and g.lo <= sp <= g.hi
    used = g.hi - sp if inside else None
    summary = _summary(stack.frames, summaries)
    return (
        g.goid, status_name(target, g.status), g.lo, g.hi, sp if inside else None, size, used,
        sp - (g.lo + limits.stack_guard) if inside else None,  # guard_headroom
        limits.limit_headroom(used) if used is not None else None,
        limits.doublings_left(size), summary.depth, summary.deepest_function, summary.repeated,
        summary.largest_frame,
    )


def _row_key(row: Row) -> tuple[bool, int, int]:
    lh = row[_LIMIT_HEADROOM]
    return (lh is None, lh if lh is not None else 0, row[_ID])


class Rows:
    """Goroutines' headroom, sorted, held as tuples (a dataclass per goroutine would take
    a gigabyte for a million); iterating makes their GoroutineHeadroom one at a time."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[GoroutineHeadroom]:
        return (GoroutineHeadroom(*row) for row in self.rows)

    def json(self) -> Iterator[JSON]:
        """Each one's ``to_json()``, without making its GoroutineHeadroom (the --json listing)."""
        return map(goroutine_headroom_json, self.rows)


def headroom(target: Target, top: int | None = None, below: int | None = None) -> tuple[Headroom, Rows]:
    """The headroom answer with its goroutines left out, and the goroutines, closest to
    the limit first: the ``top`` closest when ``top`` is given, else all of them. With
    ``below``, its check lists the goroutines whose limit_headroom is under ``below`` bytes."""
    guard = stack_guard(target)
    limits = read_limits(target, guard)
    summaries: dict[StackShape, FrameSummary] = {}
    findings: list[HeadroomFinding] = []

    def rows() -> Iterator[Row]:
        for g in rg.iter_live_gs(target):
            try:
                row = _row(target, g, limits, summaries)
            except FaultError as e:
                target.warn(f"goroutine {g.goid}: stack unreadable ({e})")
                continue
            lh = row[_LIMIT_HEADROOM]
            if below is not None and lh is not None and lh < below:
                findings.append(HeadroomFinding(row[_ID], lh, row[_SIZE], row[_USED], row[_DEEPEST]))
            yield row

    if top:
        listed = heapq.nsmallest(top, rows(), key=_row_key)
    else:
        listed = list(rows())
        listed.sort(key=_row_key)
    findings.sort(key=lambda f: (f.limit_headroom, f.id))
    system = tuple(SystemStack(m.id, which, s.lo, s.hi, s.sp, s.size, s.used, s.guard_headroom)
                   for m in rms.ms(target) for which, s in (("g0", m.g0), ("gsignal", m.gsignal)))
    check = HeadroomCheck(below, tuple(findings)) if below is not None else None
    return Headroom(limits.maxstacksize, limits.max_stack, guard, (), system, check), Rows(listed)
