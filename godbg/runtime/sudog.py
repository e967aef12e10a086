"""sudogs: a goroutine's place in a wait queue (runtime/runtime2.go). ``elem`` and ``c``
are plain pointers up to Go 1.25 and ``maybeTraceablePtr`` structs from 1.26 on, whose
``vu`` word is the source of truth (``vp`` is nil while the leak detector hides it)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from godbg.errors import FaultError
from godbg.program.target import Target
from godbg.runtime.layouts import StructLayout, layout
from godbg.runtime.unwind import read_uncached

SUDOG = "runtime.sudog"
# A corrupt list must not loop forever: no real wait list is this long.
MAX_WAIT_LIST = 1_000_000
_WORD = struct.Struct("<Q")
# Bulk reads: neighbours closer than this share one read of at most _BULK_READ bytes.
_BULK_GAP = 4096
_BULK_READ = 1 << 20


@dataclass(frozen=True)
class Sudog:
    addr: int
    g: int
    next: int
    prev: int
    elem: int
    parent: int
    waitlink: int
    ticket: int
    is_select: bool
    c: int


@dataclass(frozen=True)
class SudogLayout:
    size: int
    g: int
    next: int
    prev: int
    elem: int
    parent: int
    waitlink: int
    ticket: int
    is_select: int
    c: int
    # Where the GC-visible pointers of elem and c sit (the leak pass hides them).
    hidden: tuple[int, ...]


def _path(lay: StructLayout, traceable: str, plain: str) -> int:
    return lay.off(traceable) if lay.has(traceable) else lay.off(plain)


def sudog_layout(target: Target) -> SudogLayout:
    def compute() -> SudogLayout:
        lay = layout(target, SUDOG)
        elem = _path(lay, "elem.vu", "elem")
        c = _path(lay, "c.maybeTraceablePtr.vu", "c")
        hidden = tuple(sorted({lay.off("elem"), elem, lay.off("c"), c}))
        return SudogLayout(lay.size, lay.off("g"), lay.off("next"), lay.off("prev"), elem, lay.off("parent"),
                           lay.off("waitlink"), lay.off("ticket"), lay.off("isSelect"), c, hidden)

    return target.memo("sudog:layout", compute)


def _decode(lay: SudogLayout, addr: int, raw: bytes, base: int = 0) -> Sudog:
    def word(off: int) -> int:
        return int(_WORD.unpack_from(raw, base + off)[0])

    t = base + lay.ticket
    return Sudog(addr, word(lay.g), word(lay.next), word(lay.prev), word(lay.elem), word(lay.parent),
                 word(lay.waitlink), int.from_bytes(raw[t:t + 4], "little"), bool(raw[base + lay.is_select]),
                 word(lay.c))


def read_sudog(target: Target, addr: int) -> Sudog:
    """One sudog, memoized per stop."""
    key = ("sudog", addr)
    found = target.cache.get(key)
    if found is None:
        lay = sudog_layout(target)
        found = _decode(lay, addr, target.memory.read(addr, lay.size))
        target.cache[key] = found
    return found


def prefetch_sudogs(target: Target, addrs: list[int]) -> None:
    """Read many sudogs in bulk into the per-stop memo: sudogs are heap objects of one
    size class, so neighbours come in one read."""
    lay = sudog_layout(target)
    cache = target.cache
    todo = sorted({a for a in addrs if a and ("sudog", a) not in cache})
    i = 0
    while i < len(todo):
        j = i + 1
        while j < len(todo) and todo[j] - todo[j - 1] <= _BULK_GAP and todo[j] - todo[i] <= _BULK_READ:
            j += 1
        try:
            blob = read_uncached(target, todo[i], todo[j - 1] + lay.size - todo[i])
        except FaultError:
            i = j
            continue
        for a in todo[i:j]:
            cache[("sudog", a)] = _decode(lay, a, blob, a - todo[i])
        i = j


def follow_sudogs(target: Target, first: int, link: str) -> list[Sudog]:
    """The sudogs from ``first`` along ``link`` ("next" for a channel's wait queue,
    "waitlink" for g.waiting and a semaphore's same-address list); stops at a cycle."""
    out: list[Sudog] = []
    seen: set[int] = set()
    addr = first
    while addr and addr not in seen and len(out) < MAX_WAIT_LIST:
        seen.add(addr)
        s = read_sudog(target, addr)
        out.append(s)
        addr = getattr(s, link)
    if addr and addr in seen:
        target.warn(f"the sudog list at {first:#x} loops")
    return out


def g_waiting_sudogs(target: Target, first: int) -> list[Sudog]:
    """The sudogs a goroutine's ``g.waiting`` names: one per channel of a select (linked
    through waitlink), else just the one. A semaphore waiter's waitlink chains the other
    waiters on the same address, which are not this goroutine's."""
    if not first:
        return []
    head = read_sudog(target, first)
    if not head.is_select:
        return [head]
    return [s for s in follow_sudogs(target, first, "waitlink") if s.is_select]
