"""Where each goroutine's and each M's stack walk starts, and the walk itself.

Where a goroutine's stack walk starts follows runtime/traceback.go (traceback1 and
unwinder.initAt, Go 1.22-1.27):
- status syscall: g.syscallpc / g.syscallsp (Go overrides whatever else it has);
- m.vdsoSP set: the M is inside a vDSO call, start at m.vdsoPC / m.vdsoSP;
- running on a thread the target has registers for: the registers. When they sit on the
  M's gsignal stack (a GOTRACEBACK=crash core dies in the signal handler) the walk goes
  through the handler to ``runtime.sigtramp`` and takes the interrupted registers from
  the kernel's ``ucontext`` beside it; on g0 (systemstack) the system frames come first,
  then the goroutine's own stack from g.sched as systemstack saved it;
- otherwise g.sched (pc, sp, lr) as gopark/mcall/gosave saved it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

from godbg.errors import FaultError
from godbg.program.target import Target, Thread
from godbg.runtime.cfi_unwind import NativeFrame, dwarf_regs, walk_native
from godbg.runtime.g import G_RUNNING, G_SYSCALL, G, read_g, read_gs, stack_bounds
from godbg.runtime.m import (
    MAX_SIGNAL_DEPTH,
    SIGTRAMP_FUNCS,
    M,
    Regs,
    m_by_addr,
    signal_context,
    signal_registers,
    thread_of,
    thread_regs,
)
from godbg.runtime.unwind import Frame, PhysFrame, StackWindow, Start, Unwinder, Walk, unwinder

# How far a thread's stack is read when its bounds are unknown.
UNKNOWN_STACK_SPAN = 1 << 16
# How far C frames may reach on a stack of unknown bounds.
NATIVE_STACK_SPAN = 8 << 20
# How far above g0.stack.hi mstart's frame may lie (see m_system_frames).
G0_TOP_SLACK = 4096


@dataclass
class Segment:
    """A stretch of frames on one stack: "gsignal", "g0" or "g" (a goroutine's own)."""

    stack: str
    walk: Walk


@dataclass
class ThreadView:
    """What a thread is doing: system-stack segments from its registers outwards (through
    signal handlers), and the registers it ends with on the first non-signal stack."""

    segments: list[Segment] = field(default_factory=list)
    regs: Regs | None = None  # the innermost registers outside any signal handler
    stack: str = ""  # where ``regs`` point: "g0", "g" (curg's stack), or "" (unknown)
    in_signal: bool = False
    # the sigtramp frame of each signal handler the thread is in, innermost first
    signal_frames: list[PhysFrame] = field(default_factory=list)
    # ``regs`` in full, by DWARF register number (for C code's CFI)
    all_regs: dict[int, int] | None = None


def _classify(sp: int, bounds: dict[str, tuple[int, int]]) -> str:
    for name, (lo, hi) in bounds.items():
        if lo <= sp < hi:
            return name
    return ""


def thread_view(target: Target, m: M, thread: Thread) -> ThreadView:
    """Follow a thread's registers out of signal handlers; cached per stop."""
    key = f"stacks:thread_view:{m.addr:#x}"
    found: ThreadView | None = target.cache.get(key)
    if found is not None:
        return found
    u = unwinder(target)
    bounds = {"gsignal": stack_bounds(target, m.gsignal), "g0": stack_bounds(target, m.g0),
              "g": stack_bounds(target, m.curg)}
    view = ThreadView()
    regs: Regs | None = thread_regs(thread)
    view.all_regs = dwarf_regs(target.goarch, thread.regs)
    for _depth in range(MAX_SIGNAL_DEPTH):
        assert regs is not None
        where = _classify(regs.sp, bounds)
        if where != "gsignal":
            break
        lo, hi = bounds["gsignal"]
        walk = u.walk(Start(regs.pc, regs.sp, regs.lr, regs.fp, trap=True, source="thread"),
                      StackWindow(target, regs.sp, hi), lo=lo, hi=hi)
        view.segments.append(Segment("gsignal", walk))
        view.in_signal = True
        last = walk.frames[-1] if walk.frames else None
        if last is None or last.func.name not in SIGTRAMP_FUNCS:
            regs = None
            view.all_regs = None
            break
        view.signal_frames.append(last)
        regs = signal_context(target, last)
        view.all_regs = signal_registers(target, last)
        if regs is None:
            break
    view.regs = regs
    view.stack = _classify(regs.sp, bounds) if regs is not None else ""
    target.cache[key] = view
    return view


# --- goroutine stacks ------------------------------------------------------------------


@dataclass
class GoroutineStack:
    """A goroutine's frames: ``system`` frames it runs on g0/gsignal (innermost first),
    then its own. ``sp`` is where its own stack's live part starts."""

    g: G
    start: Start | None
    frames: list[PhysFrame]
    system: list[tuple[str, PhysFrame]]
    stop: str
    sp: int | None
    m: M | None = None
    thread: Thread | None = None
    notes: list[str] = field(default_factory=list)

    def logical(self, u: Unwinder) -> list[Frame]:
        out: list[Frame] = []
        for stack, pf in self.system:
            out.extend(u.logical(pf, stack))
        for pf in self.frames:
            out.extend(u.logical(pf))
        return out


def goroutine_start(target: Target, g: G) -> tuple[Start | None, list[tuple[str, PhysFrame]], M | None,
                                                      Thread | None, list[str]]:
    """Where Go's traceback would start for ``g``, plus the system frames above it when
    the goroutine's thread is in a signal handler or on g0."""
    notes: list[str] = []
    m = m_by_addr(target, g.m) if g.m else None
    thread = thread_of(target, m) if m is not None and m.curg == g.addr else None
    if g.base_status == G_SYSCALL and g.syscallsp:
        return Start(g.syscallpc, g.syscallsp, 0, 0, syscall=True, source="syscall"), [], m, thread, notes
    if m is not None and m.curg == g.addr and m.vdso_sp:
        return Start(m.vdso_pc, m.vdso_sp, 0, 0, source="vdso"), [], m, thread, notes
    system: list[tuple[str, PhysFrame]] = []
    if thread is not None and m is not None and g.base_status == G_RUNNING:
        view = thread_view(target, m, thread)
        for seg in view.segments:
            system.extend((seg.stack, pf) for pf in seg.walk.frames)
        if view.regs is not None and view.stack == "g":
            r = view.regs
            source = "signal" if view.in_signal else "thread"
            return Start(r.pc, r.sp, r.lr, r.fp, trap=True, source=source), system, m, thread, notes
        if view.regs is not None and view.stack == "g0":
            g0_lo, g0_hi = stack_bounds(target, m.g0)
            u = unwinder(target)
            switch_ids = {u.ids.get("systemstack"), u.ids.get("morestack")}
            r = view.regs
            walk = u.walk(Start(r.pc, r.sp, r.lr, r.fp, trap=True, source="thread"),
                          StackWindow(target, r.sp, g0_hi), lo=g0_lo, hi=g0_hi,
                          until=lambda f: f.func.func_id in switch_ids)
            system.extend(("g0", pf) for pf in walk.frames)
    elif g.base_status == G_RUNNING and g.addr and m is not None and thread is None:
        notes.append("running on a thread the target has no registers for: its saved state may be stale")
    if g.syscallsp:
        return Start(g.syscallpc, g.syscallsp, 0, 0, syscall=True, source="syscall"), system, m, thread, notes
    return Start(g.sched_pc, g.sched_sp, g.sched_lr, g.sched_bp, source="sched"), system, m, thread, notes


def goroutine_stack(target: Target, g: G, *, until: Callable[[PhysFrame], bool] | None = None,
                    until_pc: Mapping[tuple[int, bool], bool] | None = None, summary: bool = False,
                    max_frames: int | None = None, keep: bool = True) -> GoroutineStack:
    """Unwind ``g``. With ``until``/``until_pc`` (see Unwinder.walk) the walk may end
    early, with ``summary`` it keeps only its first and last frames; only complete walks
    are cached, and only with ``keep`` (a listing of every goroutine walks each once)."""
    key = ("stacks:gstack", g.addr)
    found: GoroutineStack | None = target.cache.get(key)
    if found is not None:
        return found
    if g.dead:
        return GoroutineStack(g, None, [], [], "dead", None)
    start, system, m, thread, notes = goroutine_start(target, g)
    if start is None or not start.sp:
        return GoroutineStack(g, start, [], system, "no-state", None, m, thread, notes)
    u = unwinder(target)
    lo, hi = (g.lo, g.hi) if g.lo < g.hi else (0, 1 << 64)
    window = StackWindow(target, start.sp, hi if hi < 1 << 64 else start.sp + UNKNOWN_STACK_SPAN)
    if until is None and max_frames is None:
        walk = u.walk_window(start, window, lo=lo, hi=hi, until_pc=until_pc, summary=summary)
    else:
        kwargs: dict[str, Any] = {"lo": lo, "hi": hi, "until": until, "until_pc": until_pc, "summary": summary}
        if max_frames is not None:
            kwargs["max_frames"] = max_frames
        walk = u.walk(start, window, **kwargs)
    result = GoroutineStack(g, start, walk.frames, system, walk.stop, start.sp, m, thread, notes)
    if until is None and until_pc is None and not summary and keep:
        target.cache[key] = result
    return result


SystemFrame = tuple[str, "PhysFrame | NativeFrame"]


def system_logical(u: Unwinder, items: list[SystemFrame]) -> list[Frame]:
    """Logical frames of an M's system stacks (Go frames expand their inlined calls)."""
    out: list[Frame] = []
    for stack, f in items:
        if isinstance(f, NativeFrame):
            out.append(f.logical(stack))
        else:
            out.extend(u.logical(f, stack))
    return out


def m_system_frames(target: Target, m: M) -> tuple[list[SystemFrame], int | None, str]:
    """An M's own stacks for `bt --m`: the gsignal frames when its thread is in a signal
    handler, then its g0 frames (from the registers when the thread is on g0, else from
    g0.sched, which mstart left at the top of the g0 stack). A thread in C code (a cgo
    call, or a signal that arrived there) gets its C frames, unwound by their CFI, down
    to the Go code that called them. Returns (frames, g0 sp, stop)."""
    u = unwinder(target)
    out: list[SystemFrame] = []
    thread = thread_of(target, m)
    regs: Regs | None = None
    view: ThreadView | None = None
    if thread is not None:
        view = thread_view(target, m, thread)
        for seg in view.segments:
            out.extend((seg.stack, pf) for pf in seg.walk.frames)
        if view.stack == "g0" or (view.stack == "" and view.regs is not None
                                  and u.find_func(view.regs.pc) is None):
            regs = view.regs
    g0_lo, g0_hi = stack_bounds(target, m.g0)
    trap = regs is not None
    if regs is not None and view is not None and view.all_regs and u.find_func(regs.pc) is None:
        lo, hi = (g0_lo, g0_hi) if view.stack == "g0" else (regs.sp, regs.sp + NATIVE_STACK_SPAN)
        native = walk_native(target, view.all_regs, True, lo, hi)
        out.extend(("g0", nf) for nf in native.frames)
        if native.stop != "go":
            return out, regs.sp, "native: " + native.stop
        regs, trap = Regs(native.go_pc, native.go_sp, native.go_fp, native.go_lr), False
    if regs is None:
        try:
            g0 = read_g(target, m.g0)
        except FaultError:
            return out, None, "fault"
        regs = Regs(g0.sched_pc, g0.sched_sp, 0, g0.sched_lr)
    if not regs.sp:
        return out, None, "no-state"
    switch_ids = {u.ids.get("systemstack"), u.ids.get("morestack")}
    # mstart's own frame lies above g0.stack.hi when the OS made the stack (mstart0
    # sets hi to the address of one of its locals): let the walk reach it.
    top = g0_hi + G0_TOP_SLACK if g0_hi else 1 << 64
    walk = u.walk(Start(regs.pc, regs.sp, regs.lr, regs.fp, trap=trap, source="thread" if trap else "sched"),
                  StackWindow(target, regs.sp, top if g0_hi else regs.sp + UNKNOWN_STACK_SPAN),
                  lo=g0_lo or 0, hi=top, until=lambda f: f.func.func_id in switch_ids)
    out.extend(("g0", pf) for pf in walk.frames)
    return out, regs.sp, walk.stop


# --- the stack guard -------------------------------------------------------------------

# runtime/stack.go: stackGuard = stackNosplit + stackSystem + abi.StackSmall with
# stackNosplit = 800 * stackGuardMultiplier; 928 on linux without -race.
STACK_NOSPLIT_BASE = 800
STACK_SMALL = 128
# stackguard0 sentinels (runtime/stack.go): not a real guard, skip when measuring.
STACK_PREEMPT = 0xFFFFFFFFFFFFFADE
STACK_FORK = 0xFFFFFFFFFFFFFB2E
STACK_FORCE_MOVE = 0xFFFFFFFFFFFFFEED
GUARD_SENTINELS = (STACK_PREEMPT, STACK_FORK, STACK_FORCE_MOVE)
# How many goroutines are sampled to measure the guard.
GUARD_SAMPLE = 512


def stack_guard(target: Target) -> int:
    """The guard of this build, measured: stackguard0 - stack.lo of goroutines whose
    guard is not a preemption/fork sentinel (the most common value). The build's constant
    (doubled with -race) when no goroutine tells; a runtime that cannot be read is an
    error, not a guessed guard."""
    from collections import Counter

    from godbg.runtime.allgs import allgs

    def compute() -> int:
        seen: Counter[int] = Counter()
        for g in read_gs(target, allgs(target)[:GUARD_SAMPLE]):
            if g is None or g.dead or g.stackguard0 in GUARD_SENTINELS or not g.lo or g.stackguard0 <= g.lo:
                continue
            seen[g.stackguard0 - g.lo] += 1
        if seen:
            return seen.most_common(1)[0][0]
        race = target.has_symbol("runtime.racecall") or target.has_symbol("__tsan_init")
        return STACK_NOSPLIT_BASE * (2 if race else 1) + STACK_SMALL

    return target.memo("stack_guard", compute)
