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
from typing import Any

from godbg.errors import FaultError, GodbgError
from godbg.program.target import Target
from godbg.runtime.g import G_LEAKED, G_RUNNING, G_WAITING, G, wait_reason
from godbg.runtime.goroutines import live_gs
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
    GoroutineWait,
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


@dataclass(frozen=True)
class Leak:
    goroutine: int
    waiting_on: dict[str, Any] | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"goroutine": self.goroutine, "waiting_on": self.waiting_on, "reason": self.reason}


@dataclass(frozen=True)
class LeakReport:
    leaked: tuple[Leak, ...]
    deadlock: bool
    method: str
    stats: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"leaked": [lk.to_json() for lk in self.leaked], "deadlock": self.deadlock, "method": self.method,
                "stats": self.stats}


class Marker:
    """Marks heap objects reachable from the words it is given."""

    def __init__(self, target: Target, h: Heap, hidden: dict[int, tuple[int, ...]]) -> None:
        self.target = target
        self.heap = h
        self.hidden = hidden  # object base -> offsets of words not to follow (sudog elem/c)
        self.marked: set[int] = set()
        self.todo: list[tuple[int, int]] = []  # (base, size) to scan
        self.spans: dict[int, bytes | None] = {}
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
            try:
                self.spans[s.start] = read_uncached(self.target, s.start, s.limit - s.start)
            except FaultError:
                self.target.warn(f"the heap span at {s.start:#x} is unreadable: not scanned")
                self.spans[s.start] = None
        return self.spans[s.start], s.start

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


def _hidden_sudog_words(target: Target, gs: list[G]) -> dict[int, tuple[int, ...]]:
    lay = sudog_layout(target)
    sudogs: set[int] = set()
    for extra in g_extras(target, gs).values():
        if extra.waiting:
            try:
                sudogs.update(s.addr for s in g_waiting_sudogs(target, extra.waiting))
            except FaultError:
                continue
    sudogs.update(w.sudog for w in sema_waiters(target).values())
    return {s: lay.hidden for s in sudogs}


def _candidate(g: G, reason: str | None) -> bool:
    return g.base_status in (G_WAITING, G_LEAKED) and reason in LEAK_CANDIDATE_REASONS


def find_leaks(target: Target) -> LeakReport:
    gs = live_gs(target)
    waits = goroutine_waits(target, gs)
    h = heap(target)
    marker = Marker(target, h, _hidden_sudog_words(target, gs))
    for _base, words in data_roots(target):
        marker.words(words)
    reasons = {g.goid: wait_reason(target, g) for g in gs}
    blocked: list[G] = []
    for g in gs:
        if _candidate(g, reasons[g.goid]):
            blocked.append(g)
        else:
            _scan_stack(marker, target, g)
    marker.drain()
    while True:
        still: list[G] = []
        for g in blocked:
            if _maybe_runnable(marker, waits[g.goid], reasons[g.goid]):
                _scan_stack(marker, target, g)
            else:
                still.append(g)
        if len(still) == len(blocked):
            break
        blocked = still
        marker.drain()
    leaked = tuple(Leak(g.goid, _json(waits[g.goid]), _why(waits[g.goid], reasons[g.goid]))
                   for g in sorted(blocked, key=lambda g: g.goid))
    stats = {"goroutines": len(gs), "blocked_candidates": sum(1 for g in gs if _candidate(g, reasons[g.goid])),
             "heap_spans": len(h.spans), "marked_objects": len(marker.marked), "scanned_words": marker.scanned_words}
    return LeakReport(leaked, _deadlock(target, gs, reasons), METHOD, stats)


def _json(w: GoroutineWait) -> dict[str, Any] | None:
    return w.waiting_on.to_json() if w.waiting_on is not None else None


def _maybe_runnable(marker: Marker, w: GoroutineWait, reason: str | None) -> bool:
    if reason in NEVER_RUNNABLE_REASONS:
        return False
    on = w.waiting_on
    if on is None or not on.targets:
        return True  # what it waits on is unknown: never call it leaked
    return any(marker.reached(t) for t in on.targets)


def _why(w: GoroutineWait, reason: str | None) -> str:
    if reason in NEVER_RUNNABLE_REASONS:
        return f"{reason}: can never proceed"
    on = w.waiting_on
    what = "its channels are" if on is not None and on.channels else "the object it waits on is"
    return f"{reason}: {what} reachable only from blocked goroutines"


def _deadlock(target: Target, gs: list[G], reasons: dict[int, str | None]) -> bool:
    """No goroutine can ever run again: every goroutine of the program is blocked on a
    channel or sync object (no running, runnable or syscall goroutine, no sleep, timer
    or network wait that could end by itself). The runtime's own goroutines do not count."""
    from godbg.runtime.goroutines import func_name_at

    for g in gs:
        if _candidate(g, reasons[g.goid]):
            continue
        start = func_name_at(target, g.startpc) or ""
        system = start.startswith("runtime.") and start != "runtime.main"
        if system and g.base_status in (G_WAITING, G_LEAKED):
            continue
        return False
    return True


def leaks(target: Target) -> LeakReport:
    return target.memo("leaks:report", lambda: find_leaks(target))
