"""Every M (`runtime.allm`): its id, OS thread, the goroutine it runs, and its g0 and
gsignal stacks with their use and headroom. SP comes from the thread's registers where
the target has them (a core's thread notes, a live thread), through a signal handler
when the thread is in one; otherwise from g0.sched.sp, the top mstart left it at."""

from __future__ import annotations

from godbg.errors import FaultError
from godbg.program.target import Target
from godbg.results.ms import M as MRecord
from godbg.results.ms import Ms
from godbg.results.stacks import StackFigures
from godbg.runtime.g import read_g, stack_bounds
from godbg.runtime.m import M, all_ms, thread_of
from godbg.runtime.stack import stack_guard, thread_view


def m_record(target: Target, m: M, guard: int) -> MRecord:
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
    return MRecord(m.id, thread.tid if thread is not None else (m.procid or None), curg, in_signal,
                   thread is not None and thread.tid == target.crash_thread,
                   StackFigures.at(g0_lo, g0_hi, g0_sp, guard), StackFigures.at(gs_lo, gs_hi, gs_sp, guard))


def ms(target: Target) -> Ms:
    """Every M, by id."""
    guard = stack_guard(target)
    return Ms(tuple(m_record(target, m, guard) for m in sorted(all_ms(target), key=lambda m: m.id)))
