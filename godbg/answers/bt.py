"""`bt`: the backtrace of any goroutine, or of an M's system stacks, unwound from memory
alone, as Go's own crash traceback prints it (inlined calls as frames of their own)."""

from __future__ import annotations

from dataclasses import replace

from godbg.answers.values import element_limits
from godbg.errors import BadInputError, GodbgError
from godbg.program.target import Target
from godbg.results.bt import Backtrace
from godbg.results.frames import Frame
from godbg.runtime import g as rg_g
from godbg.runtime import goroutines as rg
from godbg.runtime import m as rm_m
from godbg.runtime import stack as rstack
from godbg.runtime import unwind
from godbg.runtime.waits import goroutine_waits
from godbg.values.model import DEFAULT_LIMITS, Limits


def variable_limits(json_output: bool) -> Limits:
    """How much of each argument and local `bt --full` decodes: print's bounds (more
    elements for --json than for text)."""
    return element_limits(json_output)


def backtrace(target: Target, goid: int, *, full: bool = False, limits: Limits = DEFAULT_LIMITS) -> Backtrace:
    """Goroutine ``goid``'s frames, with ``full`` each frame's arguments and locals too,
    their values decoded within ``limits`` (`bt --full` passes print's: more elements for
    --json than for text)."""
    g = rg.find_goroutine(target, goid)
    if g is None:
        raise BadInputError(f"no goroutine {goid} (see `goroutines`)")
    stack = rstack.goroutine_stack(target, g)
    logical, elided = unwind.elide(stack.logical(unwind.unwinder(target)))
    for note in stack.notes:
        target.warn(f"goroutine {goid}: {note}")
    status, reason = rg_g.status_name(target, g.status), rg_g.wait_reason(target, g)
    frames = _with_variables(target, logical, limits) if full else tuple(f.result() for f in logical)
    created_by = rg.func_name_at(target, g.gopc) if g.goid != rg.MAIN_GOID else None
    w = goroutine_waits(target, [g]).get(g.goid)
    return Backtrace(
        goroutine=g.goid, status=status, wait_reason=reason, m=stack.m.id if stack.m is not None else None,
        thread=None, curg=None, start=stack.start.source if stack.start is not None else None, frames=frames,
        elided=elided, stop=stack.stop, created_by=created_by, parent_goid=g.parent_goid or None,
        labels=w.labels if w is not None else {}, waiting_on=w.waiting_on if w is not None else None,
    )


def _with_variables(target: Target, frames: list[unwind.Frame], limits: Limits) -> tuple[Frame, ...]:
    from godbg.values.frames import frame_variables

    out = []
    for i, frame in enumerate(frames):
        try:
            vs = frame_variables(target, frame, i == 0) or []
        except GodbgError as e:
            target.warn(f"bt --full: {e}")
            vs = []
        args = tuple(v.result(target, limits) for v in vs if v.is_arg)
        local_vars = tuple(v.result(target, limits) for v in vs if not v.is_arg)
        out.append(replace(frame.result(), args=args, locals=local_vars))
    return tuple(out)


def m_backtrace(target: Target, mid: int) -> Backtrace:
    """M ``mid``'s system stacks: its gsignal frames when its thread is in a signal
    handler, then its g0 frames (C frames of a cgo call included)."""
    ms = rm_m.all_ms(target)
    m = next((x for x in ms if x.id == mid), None)
    if m is None:
        raise BadInputError(f"no M {mid} (Ms: {', '.join(str(x.id) for x in sorted(ms, key=lambda x: x.id))})")
    phys, _sp, stop = rstack.m_system_frames(target, m)
    frames, elided = unwind.elide(rstack.system_logical(unwind.unwinder(target), phys))
    curg = None
    if m.curg:
        try:
            curg = rg_g.read_g(target, m.curg).goid
        except GodbgError:  # a bad curg pointer only loses this field
            curg = None
    thread = rm_m.thread_of(target, m)
    return Backtrace(
        goroutine=None, status=None, wait_reason=None, m=m.id,
        thread=thread.tid if thread is not None else (m.procid or None), curg=curg, start=None,
        frames=tuple(f.result() for f in frames), elided=elided, stop=stop, created_by=None, parent_goid=None,
        labels={}, waiting_on=None,
    )
