"""`go goroutine N`: make gdb's own `bt`, `frame N`, `up`/`down` and `info locals` work on
any goroutine — on core files too — without writing a register.

gdb builds frame #0 from the selected thread's registers, which godbg must not change.
So while a goroutine is selected, a Python frame unwinder claims frame #0 of the
selected thread and reports the goroutine's innermost frame as its caller: frame #1 and
up are the goroutine's, unwound by godbg's engine (pclntab, signal frames, system stack),
and gdb reads their locals through its DWARF as usual. `go goroutine none` (or the
program running on) restores gdb's normal view.
"""

from __future__ import annotations

from typing import Any

import gdb
from gdb.unwinder import Unwinder, register_unwinder

from godbg.backends.gdb.commands import run_guarded
from godbg.backends.gdb.gdbtarget import SESSION
from godbg.errors import BadInputError, FaultError
from godbg.runtime import goroutines as rg
from godbg.runtime import stack as rstack
from godbg.runtime.unwind import PhysFrame

PC, SP, BP = "rip", "rsp", "rbp"
PTR = 8


class FrameId:
    """gdb 12/13 accept only gdb.Value attributes in a frame id."""

    def __init__(self, sp: int, pc: int) -> None:
        self.sp = gdb.Value(sp)
        self.pc = gdb.Value(pc)


class Selection:
    """The goroutine gdb's frames currently show, and its frames (innermost first)."""

    def __init__(self) -> None:
        self.goid: int | None = None
        self.thread_num: int | None = None
        self.frames: list[PhysFrame] = []
        self.first_bp = 0
        self._by_key: dict[tuple[int, int], int] = {}

    def set(self, goid: int, thread_num: int, frames: list[PhysFrame], first_bp: int) -> None:
        self.goid, self.thread_num, self.frames, self.first_bp = goid, thread_num, frames, first_bp
        self._by_key = {(f.pc, f.sp): i for i, f in enumerate(frames)}

    def clear(self, *_args: object) -> None:
        if self.goid is not None:
            self.goid = None
            self.frames = []
            self._by_key = {}
            gdb.invalidate_cached_frames()

    def index_of(self, pc: int, sp: int) -> int | None:
        return self._by_key.get((pc, sp))


SELECTION = Selection()


def _value(pending: Any, reg: str, number: int) -> gdb.Value:
    return gdb.Value(number).cast(pending.read_register(reg).type)


class GoroutineUnwinder(Unwinder):
    def __init__(self) -> None:
        super().__init__("godbg-goroutine")

    def __call__(self, pending: Any) -> Any:
        sel = SELECTION
        if sel.goid is None or not sel.frames:
            return None
        try:
            if gdb.selected_thread() is None or gdb.selected_thread().num != sel.thread_num:
                return None
            pc = int(pending.read_register(PC))
            sp = int(pending.read_register(SP))
        except (gdb.error, ValueError):
            return None
        if pending.level() == 0:
            nxt = 0
            # gdb stops at a caller whose stack address is inner to (below) its callee's;
            # the thread's own stack may lie above the goroutine's (a live main thread),
            # so frame #0's id takes the lower of the two.
            info = pending.create_unwind_info(FrameId(min(sp, sel.frames[0].sp), pc))
            bp = sel.first_bp
        else:
            i = sel.index_of(pc, sp)
            if i is None:
                return None
            nxt = i + 1
            cur = sel.frames[i]
            info = pending.create_unwind_info(FrameId(cur.fp, cur.func.entry))
            bp = _saved_bp(cur)
        if nxt >= len(sel.frames):
            # The outermost goroutine frame: report no caller (pc 0 ends gdb's walk).
            info.add_saved_register(PC, _value(pending, PC, 0))
            info.add_saved_register(SP, _value(pending, SP, sel.frames[-1].fp if sel.frames else sp))
            return info
        caller = sel.frames[nxt]
        info.add_saved_register(PC, _value(pending, PC, caller.pc))
        info.add_saved_register(SP, _value(pending, SP, caller.sp))
        if bp:
            info.add_saved_register(BP, _value(pending, BP, bp))
        return info


def _saved_bp(frame: PhysFrame) -> int:
    """amd64 Go frames save the caller's BP just below the return address."""
    if frame.fp - frame.sp <= PTR:
        return 0
    try:
        return int.from_bytes(gdb.selected_inferior().read_memory(frame.fp - 2 * PTR, PTR).tobytes(), "little")
    except (gdb.MemoryError, gdb.error):
        return 0


def select_goroutine(goid: int) -> str:
    target = SESSION.target()
    if target.goarch != "amd64":
        raise BadInputError("go goroutine: frame switching is implemented for amd64 only")
    g = rg.find_goroutine(target, goid)
    if g is None:
        raise BadInputError(f"no goroutine {goid} (see `go goroutines`)")
    stack = rstack.goroutine_stack(target, g)
    if not stack.frames:
        raise BadInputError(f"goroutine {goid} has no frames to show ({stack.stop})")
    thread = gdb.selected_thread()
    if thread is None:
        raise BadInputError("no thread selected")
    first_bp = g.sched_bp if stack.start is not None and stack.start.source == "sched" else 0
    SELECTION.set(goid, thread.num, stack.frames, first_bp)
    gdb.invalidate_cached_frames()
    try:
        # Select frame #1 without printing it: the goroutine's innermost frame.
        first = gdb.newest_frame().older()
        if first is None:
            raise gdb.error("no frame above #0")
        first.select()
    except gdb.error as e:
        SELECTION.clear()
        raise FaultError(stack.frames[0].sp, 0, f"gdb could not build the goroutine's frames: {e}") from None
    top = stack.frames[0]
    return (f"goroutine {goid} selected: its frames are #1 and up (#0 stays the thread's own); "
            f"`bt`, `frame N`, `info locals` work on it; `go goroutine none` to go back.\n"
            f"#1 {top.func.name} pc={top.pc:#x} sp={top.sp:#x}\n")


class GoGoroutine(gdb.Command):
    """Select a goroutine for gdb's own frame commands: go goroutine GOID | none

After `go goroutine 18`, gdb's `bt`, `frame N`, `up`, `down` and `info locals` show
goroutine 18 (frames #1 and up), on live programs and core files alike, without
writing any register. `go goroutine none` returns to the thread's own frames; running
the program also does."""

    def __init__(self) -> None:
        super().__init__("go goroutine", gdb.COMMAND_STACK)

    def invoke(self, arg: str, from_tty: bool) -> None:
        self.dont_repeat()
        argv = gdb.string_to_argv(arg)
        if not argv:
            gdb.write(f"selected goroutine: {SELECTION.goid}\n" if SELECTION.goid is not None
                      else "no goroutine selected\n")
            return
        if argv[0] == "none":
            SELECTION.clear()
            return
        try:
            goid = int(argv[0], 0)
        except ValueError:
            raise gdb.GdbError(f"godbg: go goroutine: not a goroutine id: {argv[0]!r}") from None
        gdb.write(run_guarded(lambda: select_goroutine(goid)))


def register() -> None:
    from godbg.backends.gdb import framefilter

    register_unwinder(None, GoroutineUnwinder(), replace=True)
    framefilter.register(SELECTION)
    GoGoroutine()
    for name in ("stop", "cont", "exited", "new_objfile"):
        registry = getattr(gdb.events, name, None)
        if registry is not None:
            registry.connect(SELECTION.clear)
