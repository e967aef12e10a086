"""Every goroutine, as the `goroutines` command and `report` show it: id, status, wait
reason, where it is (innermost frame and the innermost user frame), who created it,
its M and thread, its stack figures. Decoded in bulk; stacks are unwound only as far
as the answer needs (to the first user frame) unless full frames are asked for."""

from __future__ import annotations

from dataclasses import dataclass

from godbg.errors import FaultError, GodbgError
from godbg.runtime.allgs import allgs
from godbg.runtime.stacks import (
    G_WAITING,
    G,
    GoroutineStack,
    goroutine_stack,
    read_gs,
    stack_guard,
    status_name,
    wait_reason,
)
from godbg.runtime.unwind import Frame, PhysFrame, Unwinder, unwinder
from godbg.target.pclntab import print_name
from godbg.target.target import Target

MAIN_GOID = 1


def package_of(function: str) -> str:
    """The import path of a function's package: up to the first dot after the last slash
    (as runtime.funcpkgpath cuts it)."""
    slash = function.rfind("/", 0, function.find("(") if "(" in function else len(function))
    dot = function.find(".", slash + 1)
    return function[:dot] if dot >= 0 else function


def is_user_function(function: str) -> bool:
    """A frame of the program itself: package main, or an import path whose first element
    holds a dot (a module path, not the standard library)."""
    pkg = package_of(function)
    return pkg == "main" or "." in pkg.split("/", 1)[0]


@dataclass
class GoroutineRecord:
    g: G
    stack: GoroutineStack
    frames: list[Frame]  # logical frames walked so far (all of them when complete)
    complete: bool


def _user_frame(frames: list[Frame]) -> Frame | None:
    for f in frames:
        if not f.stack and is_user_function(f.function):
            return f
    return None


def func_name_at(target: Target, pc: int) -> str | None:
    """The function holding ``pc`` as Go prints it, or None."""
    if not pc:
        return None
    u = unwinder(target)
    f = u.find_func(pc)
    return print_name(f.name) if f is not None else None


def walk_goroutine(target: Target, g: G, full: bool) -> GoroutineRecord:
    u = unwinder(target)

    def reaches_user(pf: PhysFrame) -> bool:
        return any(is_user_function(f.function) for f in u.logical(pf))

    stack = goroutine_stack(target, g, until=None if full else reaches_user)
    frames = stack.logical(u)
    return GoroutineRecord(g, stack, frames, stack.stop != "until")


def goroutine_json(target: Target, rec: GoroutineRecord, guard: int, u: Unwinder) -> dict:
    g = rec.g
    own = [f for f in rec.frames if not f.stack]
    innermost = own[0] if own else None
    user = _user_frame(rec.frames)
    where = user or innermost
    m = rec.stack.m
    thread = rec.stack.thread
    sp = rec.stack.sp
    stack = {
        "lo": g.lo,
        "hi": g.hi,
        "sp": sp,
        "size": g.hi - g.lo if g.hi > g.lo else 0,
        "used": g.hi - sp if sp and g.lo <= sp <= g.hi else None,
        "guard_headroom": sp - (g.lo + guard) if sp and g.lo <= sp <= g.hi else None,
    }
    created_by = func_name_at(target, g.gopc) if g.goid != MAIN_GOID else None
    return {
        "id": g.goid,
        "status": status_name(target, g.status),
        "wait_reason": wait_reason(target, g),
        "waiting_since_ns": g.waitsince or None,
        "function": innermost.function if innermost else None,
        "user_function": user.function if user else None,
        "location": f"{where.file}:{where.line}" if where else None,
        "created_by": created_by,
        "parent_goid": g.parent_goid or None,
        "start_function": func_name_at(target, g.startpc),
        "m": m.id if m is not None else None,
        "thread": (thread.tid if thread is not None else (m.procid or None)) if m is not None else None,
        "locked_to_thread": bool(g.lockedm),
        "stack": stack,
    }


def live_gs(target: Target, include_dead: bool = False) -> list[G]:
    out = []
    for g in read_gs(target, allgs(target)):
        if g is None:
            target.warn("some goroutines' g structs are not in the target's memory")
            continue
        if g.dead and not include_dead:
            continue
        out.append(g)
    return out


def goroutines(target: Target, *, include_dead: bool = False, full: bool = False,
               gs: list[G] | None = None) -> list[tuple[GoroutineRecord, dict]]:
    """(record, contract JSON) for every goroutine in allgs order."""
    guard = stack_guard(target)
    u = unwinder(target)
    out = []
    for g in gs if gs is not None else live_gs(target, include_dead):
        try:
            rec = walk_goroutine(target, g, full)
        except (FaultError, GodbgError) as e:
            target.warn(f"goroutine {g.goid}: {e}")
            rec = GoroutineRecord(g, GoroutineStack(g, None, [], [], "fault", None), [], True)
        out.append((rec, goroutine_json(target, rec, guard, u)))
    return out


def find_goroutine(target: Target, goid: int) -> G | None:
    for g in read_gs(target, allgs(target)):
        if g is not None and g.goid == goid and not g.dead:
            return g
    for g in read_gs(target, allgs(target)):
        if g is not None and g.goid == goid:
            return g
    return None


def is_waiting(g: G) -> bool:
    return g.base_status == G_WAITING
