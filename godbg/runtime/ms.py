"""Every M (`runtime.allm`): its id, OS thread, the goroutine it runs, and its g0 and
gsignal stacks with their use and headroom. SP comes from the thread's registers where
the target has them (a core's thread notes, a live thread), through a signal handler
when the thread is in one; otherwise from g0.sched.sp, the top mstart left it at."""

from __future__ import annotations

from typing import Any

from godbg.errors import FaultError
from godbg.program.target import Target
from godbg.runtime.g import read_g, stack_bounds
from godbg.runtime.m import M, all_ms, thread_of
from godbg.runtime.stack import stack_guard, thread_view


def _stack_doc(lo: int, hi: int, sp: int | None, guard: int) -> dict[str, Any]:
    inside = sp is not None and lo <= sp <= hi and lo < hi
    return {
        "lo": lo,
        "hi": hi,
        "sp": sp if inside else None,
        "size": hi - lo if hi > lo else 0,
        "used": hi - sp if inside else None,  # type: ignore[operator]  # inside: sp is not None
        "guard_headroom": sp - (lo + guard) if inside else None,  # type: ignore[operator]
    }


def m_json(target: Target, m: M, guard: int) -> dict[str, Any]:
    thread = thread_of(target, m)
    g0_lo, g0_hi = stack_bounds(target, m.g0)
    gs_lo, gs_hi = stack_bounds(target, m.gsignal)
    g0_sp: int | None = None
    gs_sp: int | None = None
    in_signal = False
    if thread is not None:
        if gs_lo <= thread.sp < gs_hi:
            gs_sp = thread.sp
            in_signal = True
        view = thread_view(target, m, thread)
        if view.stack == "g0" and view.regs is not None:
            g0_sp = view.regs.sp
    if g0_sp is None and m.g0:
        try:
            g0_sp = read_g(target, m.g0).sched_sp or None
        except FaultError:
            g0_sp = None
    curg = None
    if m.curg:
        try:
            curg = read_g(target, m.curg).goid
        except FaultError:
            curg = None
    return {
        "id": m.id,
        "thread": thread.tid if thread is not None else (m.procid or None),
        "curg": curg,
        "in_signal_handler": in_signal,
        "crashing": thread is not None and thread.tid == target.crash_thread,
        "g0": _stack_doc(g0_lo, g0_hi, g0_sp, guard),
        "gsignal": _stack_doc(gs_lo, gs_hi, gs_sp, guard),
    }


def ms(target: Target) -> list[dict[str, Any]]:
    """Every M, by id."""
    guard = stack_guard(target)
    return [m_json(target, m, guard) for m in sorted(all_ms(target), key=lambda m: m.id)]
