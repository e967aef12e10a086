"""Leaked goroutines and deadlock, from a core: the rule of Go 1.26's goroutine leak
detector (runtime/mgc.go isMaybeRunnable, mgcmark.go) applied by a reachability pass.

A goroutine blocked on a channel (or a select), a sync.Mutex, RWMutex, WaitGroup or
Cond is leaked when no goroutine that can run, no global and nothing reachable from
those can reach the object it waits on: nothing could ever wake it. The pass marks
heap objects from the roots — the data and bss words the GC's pointer bitmaps name,
and the live pointer slots (the frames' stack maps) of every goroutine that is not such
a blocked one —
and then from each marked object's words (objects bounded by their span's object
size; pointer-free spans are not scanned). A blocked goroutine whose object is marked
or lives outside the heap (a global) may still run: its stack becomes a root too, and
marking goes on until nothing changes. The sudogs' pointers to the objects waited on
are not followed, as the runtime's leak detector hides them.

Inside heap objects every word counts as a possible pointer (the GC reads type
bitmaps; godbg is conservative there), so godbg may find fewer leaks than Go, never
more, for the objects it can read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from godbg.errors import FaultError, GodbgError
from godbg.program.target import Target
from godbg.results.waits import Leak, Leaks, LeakStats
from godbg.runtime.g import G_LEAKED, G_RUNNING, G_WAITING, G, read_g, read_gs, wait_reason
from godbg.runtime.goroutines import all_stacks, iter_live_gs
from godbg.runtime.heap import Heap, heap
from godbg.runtime.roots import data_roots
from godbg.runtime.semtable import sema_waiters
from godbg.runtime.stack import goroutine_stack
from godbg.runtime.stackmaps import live_stack_words
from godbg.runtime.sudog import g_waiting_sudogs, sudog_layout
from godbg.runtime.unwind import read_uncached
from godbg.runtime.waits import (
    LEAK_CANDIDATE_REASONS,
    NEVER_RUNNABLE_REASONS,
    WAITS_CHUNK,
    GoroutineWait,
    Namer,
    chunked,
    dropping_sudogs,
    g_extras,
    goroutine_waits,
)

PAGE_SHIFT = 13
# A goroutine stack walk that reached the goroutine's first frame (goexit).
TOP = "top"
METHOD = ("reachability over the core (Go 1.26 goroutine leak rule): roots are the data and bss words "
          "the GC's pointer bitmaps name and the live stacks of goroutines that are not blocked on a "
          "channel or sync object; heap objects are bounded by their spans and scanned conservatively; "
          "a blocked goroutine whose object is reachable or not in the heap may run and its stack "
          "becomes a root, until nothing changes")
# A stack larger than this is not a goroutine's (the runtime's limit is 1 GB).
MAX_STACK_SCAN = 1 << 30


# Bytes of heap spans the marker keeps read (64 MiB): a million goroutines' heap is
# gigabytes, scanned object by object.
SPAN_CACHE_BYTES = 64 << 20


class Marker:
    """Marks heap objects reachable from the words it is given."""

    def __init__(self, target: Target, h: Heap, hidden: dict[int, tuple[int, ...]]) -> None:
        self.target = target
        self.heap = h
        self.hidden = hidden  # object base -> offsets of words not to follow (sudog elem/c)
        self.marked: set[int] = set()
        self.todo: list[tuple[int, int]] = []  # (base, size) to scan
        self.spans: dict[int, bytes | None] = {}  # span start -> its bytes (SPAN_CACHE_BYTES at most)
        self.span_bytes = 0
        self.lo = h.spans[0].start if h.spans else 0
        self.hi = max((s.limit for s in h.spans), default=0)
        self.scanned_words = 0

    def words(self, words: tuple[int, ...] | list[int]) -> None:
        lo, hi = self.lo, self.hi
        pages = self.heap.pages
        marked = self.marked
        for w in [w for w in words if lo <= w < hi]:
            s = pages.get(w >> PAGE_SHIFT)
            if s is None or w >= s.limit:
                continue
            base = s.start + (w - s.start) // s.elemsize * s.elemsize
            if base in marked:
                continue
            marked.add(base)
            if not s.noscan:
                self.todo.append((base, s.elemsize))

    def region(self, lo: int, hi: int) -> None:
        if not 0 < hi - lo <= MAX_STACK_SCAN:
            return
        try:
            raw = read_uncached(self.target, lo, hi - lo)
        except FaultError:
            self.target.warn(f"memory {lo:#x}..{hi:#x} is unreadable: not scanned")
            return
        n = len(raw) // 8
        self.scanned_words += n
        self.words(struct.unpack(f"<{n}Q", raw[: n * 8]))

    def _span_bytes(self, base: int) -> tuple[bytes | None, int]:
        s = self.heap.pages.get(base >> PAGE_SHIFT)
        if s is None:
            return None, 0
        if s.start not in self.spans:
            if self.span_bytes > SPAN_CACHE_BYTES:
                self._drop_oldest_spans()
            try:
                data: bytes | None = read_uncached(self.target, s.start, s.limit - s.start)
            except FaultError:
                self.target.warn(f"the heap span at {s.start:#x} is unreadable: not scanned")
                data = None
            self.spans[s.start] = data
            self.span_bytes += len(data) if data is not None else 0
        return self.spans[s.start], s.start

    def _drop_oldest_spans(self) -> None:
        """The heap is read once, not held: drop the spans read first until half the budget
        is free (a dropped span is read again if an object in it is reached later)."""
        for start in list(self.spans):
            if self.span_bytes <= SPAN_CACHE_BYTES // 2:
                break
            data = self.spans.pop(start)
            self.span_bytes -= len(data) if data is not None else 0

    def drain(self) -> None:
        while self.todo:
            base, size = self.todo.pop()
            data, start = self._span_bytes(base)
            if data is None:
                continue
            off = base - start
            # An object is scanned inside the bytes its span holds: a span whose limit
            # cuts an object short (or a corrupt size) must not read past them.
            n = max(0, min(size, len(data) - off)) // 8
            words = list(struct.unpack_from(f"<{n}Q", data, off))
            for h in self.hidden.get(base, ()):
                if h // 8 < n:
                    words[h // 8] = 0
            self.scanned_words += n
            self.words(words)

    def reached(self, addr: int) -> bool:
        """Marked, or not a heap object at all (a global, a stack slot)."""
        obj = self.heap.object_at(addr)
        return obj is None or obj.base in self.marked


def _stack_range(target: Target, g: G) -> tuple[int, int]:
    """The live part of a goroutine's stack: from where it stopped to its top."""
    if g.syscallsp and g.lo <= g.syscallsp < g.hi:
        return g.syscallsp, g.hi
    if not g.m and g.lo <= g.sched_sp < g.hi:
        return g.sched_sp, g.hi
    try:
        sp = goroutine_stack(target, g, keep=False).sp
    except (FaultError, GodbgError):
        sp = None
    if sp is not None and g.lo <= sp < g.hi:
        return sp, g.hi
    return g.lo, g.hi


def _scan_stack(marker: Marker, target: Target, g: G) -> None:
    """Mark from a goroutine's live stack slots: precisely where the frames have stack
    maps, the whole live part where the walk fails."""
    try:
        stack = goroutine_stack(target, g, keep=False)  # each stack is scanned once: not memoized
        frames, stop = stack.frames, stack.stop
    except (FaultError, GodbgError):
        frames, stop = [], "fault"
    if not frames or not g.lo <= frames[0].sp < g.hi:
        marker.region(*_stack_range(target, g))
        return
    try:
        values = live_stack_words(target, frames, g.hi, g.base_status == G_RUNNING)
    except (FaultError, GodbgError):
        marker.region(*_stack_range(target, g))
        return
    marker.scanned_words += len(values)
    marker.words(values)
    if stop != TOP and frames[-1].fp < g.hi:
        marker.region(frames[-1].fp, g.hi)  # past where the walk ended


def _hidden_sudog_words(target: Target) -> dict[int, tuple[int, ...]]:
    """The sudogs of every blocked goroutine and semaphore waiter, with the offsets of
    their words the marker must not follow. Read a chunk of goroutines at a time."""
    lay = sudog_layout(target)
    sudogs: set[int] = set()
    for chunk in chunked(iter_live_gs(target)):
        with dropping_sudogs(target):
            for extra in g_extras(target, chunk, keep=False).values():
                if extra.waiting:
                    try:
                        sudogs.update(s.addr for s in g_waiting_sudogs(target, extra.waiting))
                    except FaultError:
                        continue
    sudogs.update(w.sudog for w in sema_waiters(target).values())
    return dict.fromkeys(sudogs, lay.hidden)


def _candidate(g: G, reason: str | None) -> bool:
    return g.base_status in (G_WAITING, G_LEAKED) and reason in LEAK_CANDIDATE_REASONS


@dataclass(frozen=True)
class _Blocked:
    """A goroutine blocked on a channel or sync object, kept small: a million of them
    may wait at once. Its g is read again when its stack must be scanned."""

    goid: int
    g_addr: int
    reason: str | None
    targets: tuple[int, ...] | None  # None: what it waits on is unknown


def find_leaks(target: Target) -> Leaks:
    """The goroutines that can never run again, by id, and whether the program is deadlocked."""
    h = heap(target)
    marker = Marker(target, h, _hidden_sudog_words(target))
    for _base, words in data_roots(target):
        marker.words(words)
    namer = Namer(target, all_stacks(target))
    blocked: list[_Blocked] = []
    total = 0
    deadlock = True
    for chunk in chunked(iter_live_gs(target)):
        total += len(chunk)
        candidates = []
        for g in chunk:
            reason = wait_reason(target, g)
            if _candidate(g, reason):
                candidates.append((g, reason))
                continue
            deadlock = deadlock and _system_waiting(target, g)
            _scan_stack(marker, target, g)
        waits = goroutine_waits(target, [g for g, _r in candidates], namer, keep=False)
        for g, reason in candidates:
            on = waits[g.goid].waiting_on
            blocked.append(_Blocked(g.goid, g.addr, reason, on.targets if on is not None and on.targets else None))
    candidates_total = len(blocked)
    marker.drain()
    while True:  # until nothing more may run: the same fixpoint whatever the order
        still: list[_Blocked] = []
        runnable: list[int] = []
        for b in blocked:
            if _maybe_runnable(marker, b):
                runnable.append(b.g_addr)
            else:
                still.append(b)
        if not runnable:
            break
        for first in range(0, len(runnable), WAITS_CHUNK):
            for may_run in read_gs(target, runnable[first:first + WAITS_CHUNK], keep=False):
                if may_run is not None:
                    _scan_stack(marker, target, may_run)
        blocked = still
        marker.drain()
    blocked.sort(key=lambda b: b.goid)
    leaked_gs = [read_g(target, b.g_addr) for b in blocked]
    waits = goroutine_waits(target, leaked_gs, namer) if leaked_gs else {}
    leaked = tuple(Leak(b.goid, waits[b.goid].waiting_on, _why(waits[b.goid], b.reason)) for b in blocked)
    stats = LeakStats(total, candidates_total, len(h.spans), len(marker.marked), marker.scanned_words)
    return Leaks(leaked, deadlock, METHOD, stats)


def _maybe_runnable(marker: Marker, b: _Blocked) -> bool:
    if b.reason in NEVER_RUNNABLE_REASONS:
        return False
    if b.targets is None:
        return True  # what it waits on is unknown: never call it leaked
    return any(marker.reached(t) for t in b.targets)


def _why(w: GoroutineWait, reason: str | None) -> str:
    if reason in NEVER_RUNNABLE_REASONS:
        return f"{reason}: can never proceed"
    on = w.waiting_on
    what = "its channels are" if on is not None and on.channels else "the object it waits on is"
    return f"{reason}: {what} reachable only from blocked goroutines"


def _system_waiting(target: Target, g: G) -> bool:
    """A runtime goroutine (not runtime.main) that is waiting: it does not stop a program
    from being deadlocked. The program is deadlocked when no goroutine can ever run again:
    every goroutine is blocked on a channel or sync object (no running, runnable or
    syscall goroutine, no sleep, timer or network wait that could end by itself)."""
    from godbg.runtime.goroutines import func_name_at

    start = func_name_at(target, g.startpc) or ""
    system = start.startswith("runtime.") and start != "runtime.main"
    return system and g.base_status in (G_WAITING, G_LEAKED)
