"""Every goroutine, as the `goroutines` command and `report` show it: id, status, wait
reason, where it is (innermost frame and the innermost user frame), who created it,
its M and thread, its stack figures (the fields of ``godbg.results.goroutines.Goroutine``
but its labels and what it waits on, which runtime/waits.py reads a chunk at a time).
Decoded in bulk; stacks are unwound only as far as the answer needs (to the first user
frame) unless full frames are asked for."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Optional

from godbg.errors import FaultError, GodbgError
from godbg.program.pclntab import package_of, print_name
from godbg.program.target import Target, Thread
from godbg.results.stacks import StackFigures
from godbg.runtime.allgs import allgs
from godbg.runtime.g import G, read_gs, status_name, wait_reason
from godbg.runtime.m import M
from godbg.runtime.objnames import StackIndex
from godbg.runtime.stack import GoroutineStack, goroutine_stack, stack_guard
from godbg.runtime.unwind import (
    MAX_WINDOW,
    Frame,
    LogicalInfo,
    PcPredicate,
    PhysFrame,
    Start,
    Unwinder,
    read_uncached,
    unwinder,
)

if TYPE_CHECKING:
    # A Goroutine's fields up to its stack, in order: id, status, wait_reason,
    # waiting_since_ns, function, user_function, location, created_by, parent_goid,
    # start_function, m, thread, locked_to_thread, stack. ``Goroutine(*fields, labels,
    # waiting_on)`` completes the record once its chunk's waits are read.
    GoroutineFields = tuple[int, str, Optional[str], Optional[int], Optional[str], Optional[str], Optional[str],
                            Optional[str], Optional[int], Optional[str], Optional[int], Optional[int], bool,
                            StackFigures]

MAIN_GOID = 1
# gs read (in bulk) and decoded at a time by a streamed listing.
GS_CHUNK = 8192


_USER_CACHE: dict[str, bool] = {}


def is_user_function(function: str) -> bool:
    """A frame of the program itself: package main, or an import path whose first element
    holds a dot (a module path, not the standard library)."""
    found = _USER_CACHE.get(function)
    if found is None:
        pkg = package_of(function)
        found = _USER_CACHE[function] = pkg == "main" or "." in pkg.split("/", 1)[0]
    return found


class GoroutineRecord:
    """A goroutine and its walk: complete, or (``complete`` False) a summary walk that
    kept only the innermost frame and the first user frame. Logical frames on demand."""

    __slots__ = ("g", "stack", "complete", "_frames", "_u")

    def __init__(self, g: G, stack: GoroutineStack, complete: bool, u: Unwinder) -> None:
        self.g = g
        self.stack = stack
        self.complete = complete
        self._frames: list[Frame] | None = None
        self._u = u

    @property
    def frames(self) -> list[Frame]:
        """Logical frames walked (all of them when ``complete``), system frames first."""
        if self._frames is None:
            self._frames = self.stack.logical(self._u)
        return self._frames

    def innermost_and_user(self) -> tuple[LogicalInfo | None, LogicalInfo | None]:
        """(function, file, line, …) of the goroutine's innermost own frame and of its
        innermost user frame, without building every logical frame."""
        u = self._u
        frames = self.stack.frames
        if not frames:
            return None, None
        innermost = u.logical_info(frames[0])[0]
        if self.stack.stop == "until":  # the walk stopped at the first user frame
            user: LogicalInfo | None = next(info for info in u.logical_info(frames[-1]) if is_user_function(info[0]))
            return innermost, user
        user = None
        for pf in frames:
            if _holds_user(u, pf):
                user = next(info for info in u.logical_info(pf) if is_user_function(info[0]))
                break
        return innermost, user


def _user_pcs(u: Unwinder) -> PcPredicate:
    found = u.memo.get("user_pcs")
    if found is None:
        found = u.memo["user_pcs"] = PcPredicate(u, lambda infos: any(is_user_function(i[0]) for i in infos))
    return found


def _holds_user(u: Unwinder, pf: PhysFrame) -> bool:
    held: bool = _user_pcs(u)[(pf.pc, pf.trap)]
    return held


def func_name_at(target: Target, pc: int) -> str | None:
    """The function holding ``pc`` as Go prints it, or None."""
    if not pc:
        return None
    u = unwinder(target)
    key = ("name", pc)
    if key not in u.memo:
        f = u.find_func(pc)
        u.memo[key] = print_name(f.name) if f is not None else None
    name: str | None = u.memo[key]
    return name


def walk_goroutine(target: Target, g: G, full: bool, keep: bool = True) -> GoroutineRecord:
    u = unwinder(target)
    if full:
        stack = goroutine_stack(target, g, keep=keep)
    else:
        stack = goroutine_stack(target, g, summary=True, until_pc=_user_pcs(u))
    return GoroutineRecord(g, stack, full, u)


class _Names:
    """Per-listing memo of the names many goroutines share (status, wait reason,
    creator and start function): 100,000 goroutines have a handful of distinct ones."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._states: dict[tuple[int, int], tuple[str, str | None]] = {}
        self._funcs: dict[int, str | None] = {}

    def state(self, g: G) -> tuple[str, str | None]:
        key = (g.status, g.waitreason)
        found = self._states.get(key)
        if found is None:
            found = self._states[key] = (status_name(self.target, g.status), wait_reason(self.target, g))
        return found

    def func(self, pc: int) -> str | None:
        if pc not in self._funcs:
            self._funcs[pc] = func_name_at(self.target, pc)
        return self._funcs[pc]


def _fields(g: G, innermost: LogicalInfo | None, user: LogicalInfo | None, m: M | None, thread: Thread | None,
            sp: int | None, guard: int, names: _Names) -> GoroutineFields:
    """One goroutine's Goroutine fields up to its stack."""
    where = user or innermost
    inside = bool(sp) and g.lo <= sp <= g.hi  # type: ignore[operator]
    # The walk's SP stays even outside the bounds (unlike StackFigures.at): it says where the walk began.
    stack = StackFigures(g.lo, g.hi, sp, g.hi - g.lo if g.hi > g.lo else 0,
                         g.hi - sp if inside else None,  # type: ignore[operator]
                         sp - (g.lo + guard) if inside else None)  # type: ignore[operator]
    status, reason = names.state(g)
    return (
        g.goid,
        status,
        reason,
        g.waitsince or None,
        innermost[0] if innermost else None,
        user[0] if user else None,
        f"{where[1]}:{where[2]}" if where else None,
        names.func(g.gopc) if g.goid != MAIN_GOID else None,
        g.parent_goid or None,
        names.func(g.startpc),
        m.id if m is not None else None,
        (thread.tid if thread is not None else (m.procid or None)) if m is not None else None,
        bool(g.lockedm),
        stack,
    )


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


def iter_live_gs(target: Target, include_dead: bool = False) -> Iterator[G]:
    """live_gs one chunk at a time, none of them kept: what a streamed listing walks."""
    addrs = allgs(target)
    for first in range(0, len(addrs), GS_CHUNK):
        for g in read_gs(target, addrs[first:first + GS_CHUNK], keep=False):
            if g is None:
                target.warn("some goroutines' g structs are not in the target's memory")
                continue
            if g.dead and not include_dead:
                continue
            yield g


def all_stacks(target: Target, include_dead: bool = False) -> Callable[[], StackIndex]:
    """The stacks of every goroutine as a StackIndex, read on the first call (naming a wait
    object may need them; most listings never ask)."""
    found: list[StackIndex] = []

    def get() -> StackIndex:
        if not found:
            found.append(StackIndex(iter_live_gs(target, include_dead)))
        return found[0]

    return get


def _parked_start(g: G) -> Start | None:
    """Where a goroutine that no M runs and that is in no syscall resumes: its g.sched,
    the start goroutine_start would choose for it."""
    if g.m or g.syscallsp or not g.sched_pc or not g.lo <= g.sched_sp < g.hi:
        return None
    if g.hi - g.sched_sp > MAX_WINDOW:
        return None
    return Start(g.sched_pc, g.sched_sp, g.sched_lr, g.sched_bp, source="sched")


def iter_goroutines(target: Target, *, include_dead: bool = False, full: bool = False,
                    gs: Iterable[G] | None = None) -> Iterator[tuple[G, GoroutineRecord | None, GoroutineFields]]:
    """(g, record, its Goroutine fields up to the stack) for every goroutine in allgs
    order, one at a time. Without ``full`` the record is None for a parked goroutine whose
    stack repeats one already walked: 100,000 goroutines usually hold a few dozen distinct
    stacks, and each is walked once."""
    guard = stack_guard(target)
    u = unwinder(target)
    names = _Names(target)
    until = _user_pcs(u)
    # (resume pc, stack depth, template) -> (innermost, user) of that stack
    shapes: dict[tuple[int, int, int], tuple[LogicalInfo | None, LogicalInfo | None]] = {}
    for g in gs if gs is not None else iter_live_gs(target, include_dead):
        start = None if full else _parked_start(g)
        data = None
        if start is not None:
            try:
                data = read_uncached(target, start.sp, g.hi - start.sp)
            except FaultError:
                data = None
            index = u.matching_template(start, data, g.hi, until, True) if data is not None else None
            known = shapes.get((start.pc, g.hi - start.sp, index)) if index is not None else None
            if known is not None:
                yield g, None, _fields(g, known[0], known[1], None, None, start.sp, guard, names)
                continue
        try:
            rec = walk_goroutine(target, g, full, keep=False)
        except (FaultError, GodbgError) as e:
            target.warn(f"goroutine {g.goid}: {e}")
            rec = GoroutineRecord(g, GoroutineStack(g, None, [], [], "fault", None), True, u)
        innermost, user = rec.innermost_and_user()
        fields = _fields(g, innermost, user, rec.stack.m, rec.stack.thread, rec.stack.sp, guard, names)
        if data is not None and start is not None and rec.stack.start == start:
            index = u.matching_template(start, data, g.hi, until, True)
            if index is not None:
                shapes[(start.pc, g.hi - start.sp, index)] = (innermost, user)
        yield g, rec, fields


def find_goroutine(target: Target, goid: int) -> G | None:
    for g in read_gs(target, allgs(target)):
        if g is not None and g.goid == goid and not g.dead:
            return g
    for g in read_gs(target, allgs(target)):
        if g is not None and g.goid == goid:
            return g
    return None
