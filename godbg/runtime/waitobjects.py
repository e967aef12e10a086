"""Wait objects: the channels, mutexes, WaitGroups, Conds … that goroutines block on,
each with its waiters and its state (a mutex's bits, a WaitGroup's counter, a
channel's length) — "who waits for whom", most waiters first."""

from __future__ import annotations

import struct
from collections.abc import Iterable

from godbg.errors import FaultError, GodbgError
from godbg.program.target import Target
from godbg.results.waits import (
    ChanState,
    CondState,
    MutexState,
    RWMutexState,
    SemaphoreState,
    UnreadableState,
    WaitGroupState,
    WaitObject,
    WaitState,
)
from godbg.runtime.chans import read_hchan
from godbg.runtime.layouts import has_layout, layout
from godbg.runtime.waits import (
    CHAN_RECV,
    CHAN_SEND,
    COND,
    MUTEX,
    RW_READ,
    RW_WRITE,
    SELECT,
    SEMAPHORE,
    WAITGROUP,
    GoroutineWait,
)

CHAN = "chan"
RWMUTEX = "rwmutex"
# internal/sync/mutex.go state bits.
MUTEX_LOCKED, MUTEX_WOKEN, MUTEX_STARVING, MUTEX_WAITER_SHIFT = 1, 2, 4, 3
# sync.WaitGroup.state: the counter in the high 32 bits, the waiter count in the low
# ones (bit 31 marks a synctest bubble from Go 1.25).
WG_WAITERS_MASK = 0x7FFF_FFFF
# Object kinds as `waits` lists them, by the waiting goroutine's kind.
OBJECT_KIND = {CHAN_RECV: CHAN, CHAN_SEND: CHAN, MUTEX: MUTEX, RW_READ: RWMUTEX, RW_WRITE: RWMUTEX,
               WAITGROUP: WAITGROUP, COND: COND, SEMAPHORE: SEMAPHORE}


def wait_objects(target: Target, waits: Iterable[GoroutineWait]) -> list[WaitObject]:
    """Every object at least one goroutine waits on, most waiters first (ties: address);
    each object's waiters in goroutine id order. Only the objects are kept, not the
    goroutines: ``waits`` may stream 100,000 of them."""
    # (kind, address) -> its name and the ids of its waiters
    found: dict[tuple[str, int], tuple[str | None, list[int]]] = {}

    def add(kind: str, addr: int | None, name: str | None, goid: int) -> None:
        if addr:
            found.setdefault((kind, addr), (name, []))[1].append(goid)

    for w in waits:
        goid = w.g.goid
        on = w.waiting_on
        if on is None:
            continue
        if on.kind == SELECT:
            for c in on.channels or ():
                add(CHAN, c.address, c.object, goid)
        elif on.kind in OBJECT_KIND:
            add(OBJECT_KIND[on.kind], on.address, on.object, goid)
    out = []
    for (kind, addr), (name, goids) in found.items():
        # Sorted, and a select on one channel twice counts its goroutine once.
        waiters = tuple(sorted(set(goids)))
        try:
            state = object_state(target, kind, addr, len(waiters))
        except (FaultError, GodbgError) as e:
            state = UnreadableState(str(e))
        out.append(WaitObject(kind, addr, name, waiters, state))
    out.sort(key=lambda o: (-len(o.waiters), o.address))
    return out


def _mutex_bits(state: int) -> MutexState:
    return MutexState(bool(state & MUTEX_LOCKED), bool(state & MUTEX_WOKEN), bool(state & MUTEX_STARVING),
                      state >> MUTEX_WAITER_SHIFT)


def _off(target: Target, type_name: str, *paths: str) -> int | None:
    if not has_layout(target, type_name):
        return None
    lay = layout(target, type_name)
    for p in paths:
        if lay.has(p):
            return lay.off(p)
    return None


def object_state(target: Target, kind: str, addr: int, waiters: int) -> WaitState:
    """The state of the ``kind`` object at ``addr`` that ``waiters`` goroutines wait on."""
    mem = target.memory

    def i32(at: int) -> int:
        value: int = struct.unpack("<i", mem.read(at, 4))[0]
        return value

    if kind == CHAN:
        ch = read_hchan(target, addr)
        return ChanState(ch.qcount, ch.dataqsiz, ch.closed)
    if kind == MUTEX:
        return _mutex_bits(i32(addr + (_off(target, "sync.Mutex", "mu.state", "state") or 0)))
    if kind == RWMUTEX:
        writer = _mutex_bits(i32(addr + (_off(target, "sync.RWMutex", "w.mu.state", "w.state") or 0)))
        rc = _off(target, "sync.RWMutex", "readerCount.v", "readerCount")
        rw = _off(target, "sync.RWMutex", "readerWait.v", "readerWait")
        if rc is None or rw is None:
            return RWMutexState(writer, None, None)
        return RWMutexState(writer, i32(addr + rc), i32(addr + rw))
    if kind == WAITGROUP:
        v = mem.u64(addr + (_off(target, "sync.WaitGroup", "state.v", "state") or 0))
        return WaitGroupState(v >> 32, v & WG_WAITERS_MASK)
    if kind == COND:
        return CondState(waiters)
    if kind == SEMAPHORE:
        return SemaphoreState(mem.u32(addr))
    raise AssertionError(f"not a wait object kind: {kind}")
