"""Stack headroom per goroutine: how far each stack is from its guard (the next growth)
and from the limit (a fatal "stack overflow"), how many doublings it has left, and what
fills it: the largest frame, the innermost user function, recursion.

Frame sizes come from the engine's own unwinder: a physical frame spans [sp, fp), where
fp is its caller's SP, so its size includes its return address, as the runtime counts it."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from godbg.errors import FaultError
from godbg.program.pclntab import print_name
from godbg.program.target import Target
from godbg.runtime import goroutines as rg
from godbg.runtime import ms as rms
from godbg.runtime.g import G, status_name
from godbg.runtime.stack import goroutine_stack, stack_guard
from godbg.runtime.stacklimits import StackLimits, read_limits
from godbg.runtime.unwind import PhysFrame

RUNTIME_PREFIX = "runtime."
# A stack's shape for sharing summaries: (pc, frame size) of each frame.
StackShape = tuple[tuple[int, int], ...]
Row = tuple[Any, ...]
# The keys of a goroutine's headroom record, in the contract's order.
HEADROOM_KEYS = ("id", "status", "lo", "hi", "sp", "size", "used", "guard_headroom", "limit_headroom",
                 "doublings_left", "frames", "deepest_function", "repeated", "largest_frame")


@dataclass(frozen=True)
class FrameSummary:
    deepest_function: str | None
    repeated: dict[str, Any] | None
    largest_frame: dict[str, Any] | None
    depth: int


def summarize_frames(frames: list[PhysFrame]) -> FrameSummary:
    """``frames`` innermost first, on the goroutine's own stack."""
    names = [print_name(pf.func.name) for pf in frames]
    deepest = next((n for n in names if not n.startswith(RUNTIME_PREFIX)), names[0] if names else None)
    repeated: dict[str, Any] | None = None
    # Recursion in the program, not the runtime's own re-entry (gopanic twice for a
    # panic raised in a deferred call is not recursion anyone needs to hear about).
    counts = Counter(n for n in names if not n.startswith(RUNTIME_PREFIX))
    if counts:
        name, times = counts.most_common(1)[0]
        if times > 1:
            sizes = [pf.fp - pf.sp for pf in frames if print_name(pf.func.name) == name]
            repeated = {"function": name, "times": times, "frame_bytes": max(sizes) if sizes else None}
    largest: dict[str, Any] | None = None
    for pf in frames:
        size = pf.fp - pf.sp
        if size > 0 and (largest is None or size > largest["bytes"]):
            largest = {"function": print_name(pf.func.name), "bytes": size}
    return FrameSummary(deepest, repeated, largest, len(frames))


def _summary(frames: list[PhysFrame], memo: dict[StackShape, FrameSummary] | None) -> FrameSummary:
    """summarize_frames, shared by every goroutine whose frames have the same pcs and sizes."""
    if memo is None:
        return summarize_frames(frames)
    key = tuple([(pf.pc, pf.fp - pf.sp) for pf in frames])
    found = memo.get(key)
    if found is None:
        found = memo[key] = summarize_frames(frames)
    return found


def goroutine_headroom(target: Target, g: G, limits: StackLimits, keep: bool = True,
                       summaries: dict[StackShape, FrameSummary] | None = None) -> dict[str, Any]:
    # The keys are HEADROOM_KEYS, in that order (Rows rebuilds records from it).
    stack = goroutine_stack(target, g, keep=keep)
    sp = stack.sp if stack.sp is not None else g.sched_sp
    size = g.hi - g.lo if g.hi > g.lo else 0
    inside = bool(size) and g.lo <= sp <= g.hi
    used = g.hi - sp if inside else None
    summary = _summary(stack.frames, summaries)
    return {
        "id": g.goid,
        "status": status_name(target, g.status),
        "lo": g.lo,
        "hi": g.hi,
        "sp": sp if inside else None,
        "size": size,
        "used": used,
        "guard_headroom": sp - (g.lo + limits.stack_guard) if inside else None,
        "limit_headroom": limits.limit_headroom(used) if used is not None else None,
        "doublings_left": limits.doublings_left(size),
        "frames": summary.depth,
        "deepest_function": summary.deepest_function,
        "repeated": summary.repeated,
        "largest_frame": summary.largest_frame,
    }


def _sort_key(doc: dict[str, Any]) -> tuple[Any, ...]:
    lh = doc["limit_headroom"]
    return (lh is None, lh if lh is not None else 0, doc["id"])


_ID, _LIMIT_HEADROOM = HEADROOM_KEYS.index("id"), HEADROOM_KEYS.index("limit_headroom")


def _row_key(row: Row) -> tuple[bool, int, int]:
    lh = row[_LIMIT_HEADROOM]
    return (lh is None, lh if lh is not None else 0, row[_ID])


class Rows:
    """Every goroutine's headroom, sorted, held as tuples (a dict per goroutine would
    take a gigabyte for a million); iterating gives the contract's dicts."""

    def __init__(self, rows: list[Row], keys: tuple[str, ...]) -> None:
        self.rows = rows
        self.keys = keys

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        keys = self.keys
        return (dict(zip(keys, row)) for row in self.rows)


def headroom(target: Target, top: int | None = None, below: int | None = None) -> dict[str, Any]:
    """The headroom document: "goroutines" is a list of the ``top`` closest to the limit
    when ``top`` is given, else Rows of all of them; with ``below``, "findings" lists
    the goroutines whose limit_headroom is under ``below`` bytes, closest first."""
    guard = stack_guard(target)
    limits = read_limits(target, guard)
    summaries: dict[StackShape, FrameSummary] = {}
    findings: list[dict[str, Any]] = []

    def docs() -> Iterator[dict[str, Any]]:
        for g in rg.iter_live_gs(target):
            try:
                doc = goroutine_headroom(target, g, limits, keep=False, summaries=summaries)
            except FaultError as e:
                target.warn(f"goroutine {g.goid}: stack unreadable ({e})")
                continue
            lh = doc["limit_headroom"]
            if below is not None and lh is not None and lh < below:
                findings.append({"id": doc["id"], "limit_headroom": lh, "size": doc["size"], "used": doc["used"],
                                 "function": doc["deepest_function"]})
            yield doc

    goroutines: list[dict[str, Any]] | Rows
    if top:
        goroutines = heapq.nsmallest(top, docs(), key=_sort_key)
    else:
        rows = [tuple(doc.values()) for doc in docs()]
        rows.sort(key=_row_key)
        goroutines = Rows(rows, HEADROOM_KEYS)
    findings.sort(key=lambda f: (f["limit_headroom"], f["id"]))
    system = []
    for m in rms.ms(target):
        for which, s in (("g0", m.g0), ("gsignal", m.gsignal)):
            system.append({"m": m.id, "stack": which, "lo": s.lo, "hi": s.hi, "sp": s.sp,
                           "size": s.size, "used": s.used, "guard_headroom": s.guard_headroom})
    out: dict[str, Any] = {
        "maxstacksize": limits.maxstacksize,
        "max_stack": limits.max_stack,
        "stack_guard": guard,
        "goroutines": goroutines,
        "system": system,
    }
    if below is not None:
        out["findings"] = findings
    return out
