"""The engine's own stack unwinder: Go's traceback logic over the pclntab, reading
memory only (never writing a register), so it works on core files and behind any
debugger.

Follows runtime/traceback.go (unwinder.initAt, resolveInternal, next, symPC) and
runtime/symtabinl.go (the inline unwinder), Go 1.22-1.27:

- a frame's caller SP (``fp``) is ``sp + pcsp(pc)`` (+ the pushed return address on
  amd64); the return address sits just below it (amd64) or at ``sp`` (arm64, LR);
- TOPFRAME functions (goexit, mstart, rt0_go, sigtramp) end a stack, SPWRITE ones
  end it as Go's printing traceback does (it cannot know SP past them);
- after an injected call (sigpanic, asyncPreempt, debugCallV2) the caller's pc is a
  trapping pc, not a return address, so it is symbolized as is rather than pc-1;
- each physical frame expands into its inlined calls, innermost first.

Where the walk starts (goroutine states, signal frames, thread registers) lives in
``godbg.runtime.stack``; this module is pure mechanics over (pc, sp, lr).
A gdb frame unwinder calls :meth:`Unwinder.resolve` for one frame at a time.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from godbg.errors import FaultError
from godbg.program.pclntab import FUNC_FLAG_SPWRITE, FUNC_FLAG_TOP_FRAME, Func, Pclntab, print_name
from godbg.program.target import Target
from godbg.results import frames as results

PTR_SIZE = 8
# sys.MinFrameSize: 0 on amd64 (the CALL pushes the return address), 8 on arm64 (LR).
MIN_FRAME_SIZE = {"amd64": 0, "arm64": 8}
STACK_ALIGN = 16
# Bounds on a walk, so corrupt stacks end instead of looping or exhausting memory.
MAX_PHYSICAL_FRAMES = 200_000
# Like Go's traceback: keep the innermost and outermost logical frames, elide the middle.
INNER_FRAMES = 500
OUTER_FRAMES = 500
# The most of a stack read in one piece.
MAX_WINDOW = 8 << 20
# Distinct shared walks remembered per (start pc, stack depth).
_TEMPLATES_PER_KEY = 4

_U64 = struct.Struct("<Q")

WordReader = Callable[[int], int]


class PhysFrame(NamedTuple):
    """One physical frame. ``pc`` is what Go prints as pc= (a return address for callers,
    the trapping pc for the innermost frame or after an injected call); ``fp`` is the
    caller's SP; ``lr`` the return address into the caller (0 at the end of the stack)."""

    pc: int
    sp: int
    fp: int
    lr: int
    func: Func
    trap: bool

    @property
    def sym_pc(self) -> int:
        """The pc to symbolize: inside the CALL for a return address (symPC)."""
        if not self.trap and self.pc > self.func.entry:
            return self.pc - 1
        return self.pc


class Frame(NamedTuple):
    """One logical frame, as Go's crash traceback prints it."""

    function: str
    file: str
    line: int
    pc: int
    sp: int
    fp: int
    inlined: bool
    entry: int
    func_id: int
    stack: str = ""  # for `bt --m`: "g0" / "gsignal"; empty on a goroutine's own stack
    object: str = ""  # native (C) code: the ELF file holding it; empty for Go code

    def result(self) -> results.Frame:
        """The frame as godbg answers it (``godbg.results.Frame``)."""
        return results.Frame(self.function, self.file, self.line, self.pc, self.sp, self.inlined, self.stack,
                             self.object)


# What resolve() knows about a pc, computed once: the function, its SP delta there, and
# whether the stack ends at it (0 no, or one of the reasons below).
_GOES_ON, _ENDS_TOP, _ENDS_SPWRITE = 0, 1, 2
_END_REASONS = {_ENDS_TOP: "top", _ENDS_SPWRITE: "spwrite"}
LogicalInfo = tuple[str, str, int, bool, int]  # function, file, line, inlined, func_id


@dataclass(frozen=True)
class Start:
    """Where a walk begins. ``trap``: ``pc`` is the interrupted instruction (thread
    registers, a signal context), not a saved return address. ``syscall``: pc/sp came
    from g.syscallpc/syscallsp (SPWRITE is ignored for that first frame, as in Go)."""

    pc: int
    sp: int
    lr: int = 0
    fp: int = 0
    trap: bool = False
    syscall: bool = False
    source: str = "sched"


@dataclass
class Walk:
    """The result of a walk: physical frames, and why it stopped."""

    frames: list[PhysFrame]
    stop: str  # "top", "spwrite", "unknown-pc", "bad-return-pc", "bounds", "fault", "limit", "no-frame"


class StackWindow:
    """One bulk read of a stack's live part, [sp, hi): word reads come from it, and
    anything outside falls back to the target's memory."""

    def __init__(self, target: Target, lo: int, hi: int) -> None:
        self.target = target
        self.lo = lo
        self.hi = hi
        self.data = b""
        if 0 < lo < hi:
            # Only the live top of a huge (or corrupt) stack in one read; deeper words come
            # through the page cache.
            size = min(hi - lo, MAX_WINDOW)
            try:
                self.data = read_uncached(target, lo, size)
            except FaultError:
                self.data = b""

    def word(self, address: int) -> int:
        off = address - self.lo
        if self.data and 0 <= off <= len(self.data) - PTR_SIZE:
            value: int = _U64.unpack_from(self.data, off)[0]
            return value
        return self.target.memory.u64(address)


def read_uncached(target: Target, address: int, size: int) -> bytes:
    """Stacks are read once per walk: keep them out of the page cache, which would
    otherwise hold every goroutine's stack of a 100,000-goroutine core."""
    raw = getattr(target.memory, "raw", None)
    if raw is None:
        return target.memory.read(address, size)
    data: bytes = raw.read(address, size)
    return data


class Unwinder:
    """Go's unwinder over a target's pclntab; caches per pc what never changes."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.tab: Pclntab = target.binary.pclntab
        self.uses_lr = MIN_FRAME_SIZE.get(target.goarch, 0) > 0
        self.min_frame = MIN_FRAME_SIZE.get(target.goarch, 0)
        ids = self.tab.special_ids()
        self.ids = ids
        self.injected_ids = {ids[k] for k in ("sigpanic", "asyncPreempt", "debugCallV2") if k in ids}
        self.cgocallback_id = ids.get("cgocallback", -1)
        self._logical: dict[tuple[int, bool], list[LogicalInfo]] = {}
        self._funcs: dict[int, Func | None] = {}
        self._pcinfo: dict[tuple[int, bool], tuple[Func, int, int] | str] = {}
        self._templates: dict[tuple[Any, ...], list[Any]] = {}
        # Per-pc facts clients derive from logical frames (e.g. "holds a user frame").
        self.memo: dict[Any, Any] = {}

    def find_func(self, pc: int) -> Func | None:
        f = self._funcs.get(pc, False)
        if f is False:
            f = self.tab.find_func(pc)
            self._funcs[pc] = f
        return f  # type: ignore[return-value]

    # --- one frame ----------------------------------------------------------------------

    def _pc_info(self, pc: int, clear_spwrite: bool) -> tuple[Func, int, int] | str:
        key = (pc, clear_spwrite)
        found = self._pcinfo.get(key)
        if found is not None:
            return found
        f = self.find_func(pc)
        if f is None:
            found = "unknown-pc"
        elif f.pcsp == 0:
            # No frame information (external code): Go ends the traceback before it.
            found = "no-frame"
        else:
            flag = f.flag
            if clear_spwrite or f.func_id == self.cgocallback_id:
                flag &= ~FUNC_FLAG_SPWRITE
            delta = self.tab.pcsp(f, pc)
            if delta < 0:
                found = "no-frame"
            elif flag & FUNC_FLAG_TOP_FRAME:
                found = (f, delta, _ENDS_TOP)
            elif flag & FUNC_FLAG_SPWRITE:
                # Go's printing traceback stops here too (unwindPrintErrors): SP past a
                # function that writes it arbitrarily cannot be trusted.
                found = (f, delta, _ENDS_SPWRITE)
            else:
                found = (f, delta, _GOES_ON)
        self._pcinfo[key] = found
        return found

    def resolve(self, pc: int, sp: int, lr: int, read: WordReader, *, innermost: bool = False,
                trap: bool = False, syscall: bool = False) -> tuple[PhysFrame | None, str]:
        """Go's resolveInternal for one frame: its fp and its return address. Returns
        (frame, "") or (None or a frame with lr 0, the reason the stack ends here)."""
        info = self._pc_info(pc, innermost and syscall)
        if isinstance(info, str):
            return None, info
        f, delta, ends = info
        fp = sp + delta + (0 if self.uses_lr else PTR_SIZE)
        if ends:
            return PhysFrame(pc, sp, fp, 0, f, trap), _END_REASONS[ends]
        if self.uses_lr:
            if (innermost and sp < fp) or lr == 0:
                lr = read(sp)
        else:
            lr = read(fp - PTR_SIZE)
        return PhysFrame(pc, sp, fp, lr, f, trap), ""

    # --- a whole stack --------------------------------------------------------------------

    def walk(self, start: Start, read: WordReader | StackWindow, *, lo: int = 0, hi: int = 1 << 64,
             max_frames: int = MAX_PHYSICAL_FRAMES, until: Callable[[PhysFrame], bool] | None = None,
             until_pc: Mapping[tuple[int, bool], bool] | None = None, summary: bool = False,
             trace: list[Any] | None = None) -> Walk:
        """Physical frames from ``start`` outwards (Go's unwinder.next loop), staying within
        [lo, hi]. ``until`` ends the walk early once it returns True for a frame (that frame
        included); ``until_pc`` does the same by looking (pc, trap) up in a mapping (a
        PcPredicate), without building the frame. ``summary`` keeps only the innermost
        frame and the one the walk ends at. ``trace`` collects (offset in the window,
        word) of every return address read from a StackWindow, or None for any other read.
        ``read`` reads a stack word; a StackWindow is read inline, for speed."""
        frames: list[PhysFrame] = []
        word: Callable[[int], int]
        if isinstance(read, StackWindow):
            word = read.word
            data, wlo = read.data, read.lo
        else:
            word, data, wlo = read, b"", 0
        wlast = len(data) - PTR_SIZE
        unpack = _U64.unpack_from
        pcinfo = self._pcinfo
        uses_lr = self.uses_lr
        ret_adj = 0 if uses_lr else PTR_SIZE
        injected_ids = self.injected_ids
        pc, sp, lr, trap = start.pc, start.sp, start.lr, start.trap
        syscall = start.syscall
        f: Func
        delta: int
        ends: int
        count = 0
        try:
            if pc == 0:
                # A nil function call: start in the caller (initAt).
                if uses_lr:
                    pc, lr = word(sp), 0
                else:
                    pc = word(sp)
                    sp += PTR_SIZE
            innermost = True
            while True:
                if count >= max_frames:
                    return Walk(frames, "limit")
                if not lo <= sp <= hi:
                    return Walk(frames, "bounds")
                # resolveInternal
                info = pcinfo.get((pc, innermost and syscall)) or self._pc_info(pc, innermost and syscall)
                if info.__class__ is str:
                    return Walk(frames, info)
                f, delta, ends = info  # type: ignore[str-unpack,assignment]
                fp = sp + delta + ret_adj
                count += 1
                if ends:
                    frames.append(PhysFrame(pc, sp, fp, 0, f, trap))
                    return Walk(frames, _END_REASONS[ends])
                if uses_lr:
                    if (innermost and sp < fp) or lr == 0:
                        lr = word(sp)
                else:
                    off = fp - PTR_SIZE - wlo
                    if 0 <= off <= wlast:
                        lr = unpack(data, off)[0]
                        if trace is not None:
                            trace.append((off, lr))
                    else:
                        lr = word(fp - PTR_SIZE)
                        if trace is not None:
                            trace.append(None)
                if until_pc is not None and until_pc[(pc, trap)]:
                    frames.append(PhysFrame(pc, sp, fp, lr, f, trap))
                    return Walk(frames, "until")
                if not summary or innermost:
                    frame = PhysFrame(pc, sp, fp, lr, f, trap)
                    frames.append(frame)
                    if until is not None and until(frame):
                        return Walk(frames, "until")
                # next()
                if lr == 0:
                    return Walk(frames, "top")
                caller = self.find_func(lr)
                if caller is None:
                    return Walk(frames, "bad-return-pc")
                if pc == lr and sp == fp:
                    return Walk(frames, "stuck")
                if fp < sp or (fp == sp and not uses_lr):
                    return Walk(frames, "bounds")
                injected = f.func_id in injected_ids
                pc, sp, lr, trap = lr, fp, 0, injected
                if uses_lr and injected:
                    # sighandler saved LR on the stack before faking the call.
                    x = word(sp)
                    sp += -(-self.min_frame // STACK_ALIGN) * STACK_ALIGN
                    if self.tab.pcsp(caller, pc) == 0:
                        lr = x
                innermost = False
        except FaultError:
            return Walk(frames, "fault")

    def walk_window(self, start: Start, window: StackWindow, *, lo: int, hi: int,
                    until_pc: Mapping[tuple[int, bool], bool] | None = None, summary: bool = False) -> Walk:
        """``walk`` over a goroutine's stack window, sharing work between goroutines: a
        walk is a function of the start pc and the return addresses it reads, so when
        another goroutine started at the same pc with the same stack depth and holds the
        same return addresses in the same slots, its frames are this one's, shifted."""
        sp0 = start.sp
        data = window.data
        if self.uses_lr or start.pc == 0 or window.lo != sp0 or len(data) != hi - sp0 or sp0 < lo:
            return self.walk(start, window, lo=lo, hi=hi, until_pc=until_pc, summary=summary)
        key = (start.pc, start.trap, start.syscall, hi - sp0, id(until_pc), summary)
        known = self._templates.get(key)
        if known is not None:
            unpack = _U64.unpack_from
            for slots, rel, stop in known:
                for off, value in slots:
                    if unpack(data, off)[0] != value:
                        break
                else:
                    return Walk([PhysFrame(pc, sp0 + so, sp0 + fo, lr, f, trap) for pc, so, fo, lr, f, trap in rel],
                                stop)
        trace: list[Any] = []
        walk = self.walk(start, window, lo=lo, hi=hi, until_pc=until_pc, summary=summary, trace=trace)
        if None not in trace and walk.stop != "fault" and (known is None or len(known) < _TEMPLATES_PER_KEY):
            rel = [(f.pc, f.sp - sp0, f.fp - sp0, f.lr, f.func, f.trap) for f in walk.frames]
            self._templates.setdefault(key, []).append((tuple(trace), rel, walk.stop))
        return walk

    def matching_template(self, start: Start, data: bytes, hi: int,
                          until_pc: Mapping[tuple[int, bool], bool] | None, summary: bool) -> int | None:
        """Which stored walk (see walk_window) a stack whose live part [start.sp, hi) is
        ``data`` repeats, as an index stable for this unwinder's life; None when none
        does yet. Lets a caller reuse what it derived from that walk without walking."""
        if self.uses_lr or len(data) != hi - start.sp:
            return None
        known = self._templates.get((start.pc, start.trap, start.syscall, hi - start.sp, id(until_pc), summary))
        if not known:
            return None
        unpack = _U64.unpack_from
        for index, (slots, _rel, _stop) in enumerate(known):
            for off, value in slots:
                if unpack(data, off)[0] != value:
                    break
            else:
                return index
        return None

    # --- logical frames -------------------------------------------------------------------

    def logical_info(self, frame: PhysFrame) -> list[LogicalInfo]:
        """(function, file, line, inlined, func_id) of the frame's logical frames,
        innermost first; computed once per pc."""
        found = self._logical.get((frame.pc, frame.trap))
        if found is None:
            found = self.logical_info_at(frame.pc, frame.trap, frame.func)
        return found

    def logical_info_at(self, pc: int, trap: bool, func: Func) -> list[LogicalInfo]:
        key = (pc, trap)
        found = self._logical.get(key)
        if found is None:
            sym_pc = pc - 1 if not trap and pc > func.entry else pc
            found = [
                (print_name(x.name), x.file, x.line, x.inlined, x.func_id)
                for x in self.tab.inline_frames(func, sym_pc)
            ]
            self._logical[key] = found
        return found

    def logical(self, frame: PhysFrame, stack: str = "") -> list[Frame]:
        """The frame's inlined calls and itself, innermost first."""
        pc, sp, fp, _lr, func, _trap = frame
        entry = func.entry
        return [
            Frame(name, file, line, pc, sp, fp, inlined, entry, func_id, stack)
            for name, file, line, inlined, func_id in self.logical_info(frame)
        ]


class PcPredicate(dict[tuple[int, bool], bool]):
    """A per-pc fact about logical frames, computed on first lookup and kept: the
    mapping a walk's ``until_pc`` looks (pc, trap) up in, at dict speed."""

    def __init__(self, u: Unwinder, test: Callable[[list[LogicalInfo]], bool]) -> None:
        super().__init__()
        self.u = u
        self.test = test

    def __missing__(self, key: tuple[int, bool]) -> bool:
        pc, trap = key
        f = self.u.find_func(pc)
        value = f is not None and self.test(self.u.logical_info_at(pc, trap, f))
        self[key] = value
        return value


def unwinder(target: Target) -> Unwinder:
    """The target's unwinder (its caches are per binary, kept for the target's life)."""
    found = target.cache.get("unwinder")
    if found is None or found.target is not target:
        found = Unwinder(target)
        target.cache["unwinder"] = found
    return found


def elide(frames: list[Frame], inner: int = INNER_FRAMES, outer: int = OUTER_FRAMES) -> tuple[list[Frame], int]:
    """Keep the innermost ``inner`` and outermost ``outer`` frames, as Go's traceback
    does with its 50 and 50; returns (kept, number elided)."""
    if len(frames) <= inner + outer:
        return frames, 0
    return frames[:inner] + frames[-outer:], len(frames) - inner - outer
