"""Stack headroom per goroutine: how far each stack is from its guard (the next growth)
and from the limit (a fatal "stack overflow"), how many doublings it has left, and what
fills it: the largest frame, the innermost user function, recursion.

Frame sizes come from the engine's own unwinder: a physical frame spans [sp, fp), where
fp is its caller's SP, so its size includes its return address, as the runtime counts it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from godbg.errors import FaultError
from godbg.runtime import goroutines as rg
from godbg.runtime import ms as rms
from godbg.runtime.stacklimits import StackLimits, read_limits
from godbg.runtime.stacks import G, goroutine_stack, stack_guard, status_name
from godbg.runtime.unwind import PhysFrame
from godbg.target.pclntab import print_name
from godbg.target.target import Target

RUNTIME_PREFIX = "runtime."


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


def goroutine_headroom(target: Target, g: G, limits: StackLimits) -> dict[str, Any]:
    stack = goroutine_stack(target, g)
    sp = stack.sp if stack.sp is not None else g.sched_sp
    size = g.hi - g.lo if g.hi > g.lo else 0
    inside = bool(size) and g.lo <= sp <= g.hi
    used = g.hi - sp if inside else None
    summary = summarize_frames(stack.frames)
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


def headroom(target: Target) -> dict[str, Any]:
    guard = stack_guard(target)
    limits = read_limits(target, guard)
    docs = []
    for g in rg.live_gs(target):
        try:
            docs.append(goroutine_headroom(target, g, limits))
        except FaultError as e:
            target.warn(f"goroutine {g.goid}: stack unreadable ({e})")
    docs.sort(key=_sort_key)
    system = []
    for m in rms.ms(target):
        for which in ("g0", "gsignal"):
            s = m[which]
            system.append({"m": m["id"], "stack": which, "lo": s["lo"], "hi": s["hi"], "sp": s["sp"],
                           "size": s["size"], "used": s["used"], "guard_headroom": s["guard_headroom"]})
    return {
        "maxstacksize": limits.maxstacksize,
        "max_stack": limits.max_stack,
        "stack_guard": guard,
        "goroutines": docs,
        "system": system,
    }
