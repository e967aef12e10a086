"""Wait objects: the channels, mutexes, WaitGroups, Conds … that goroutines block on,
each with its waiters and its state (a mutex's bits, a WaitGroup's counter, a
channel's length) — "who waits for whom", most waiters first."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from godbg.errors import FaultError, GodbgError
from godbg.program.target import Target
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


@dataclass
class WaitObject:
    kind: str
    address: int
    object: str | None
    waiters: list[int] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "address": f"{self.address:#x}", "object": self.object,
                "waiters": self.waiters, "state": self.state}


def wait_objects(target: Target, waits: Iterable[GoroutineWait]) -> list[WaitObject]:
    """Every object at least one goroutine waits on, most waiters first (ties: address);
    each object's waiters in goroutine id order."""
    objs: dict[tuple[str, int], WaitObject] = {}

    def add(kind: str, addr: int | None, name: str | None, goid: int) -> None:
        if not addr:
            return
        o = objs.get((kind, addr))
        if o is None:
            o = objs[(kind, addr)] = WaitObject(kind, addr, name)
        o.waiters.append(goid)

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
    out = list(objs.values())
    for o in out:
        # Sorted, and a select on one channel twice counts its goroutine once.
        o.waiters = sorted(set(o.waiters))
        try:
            o.state = object_state(target, o)
        except (FaultError, GodbgError) as e:
            o.state = {"unreadable": str(e)}
    out.sort(key=lambda o: (-len(o.waiters), o.address))
    return out


def _mutex_bits(state: int) -> dict[str, Any]:
    return {"locked": bool(state & MUTEX_LOCKED), "woken": bool(state & MUTEX_WOKEN),
            "starving": bool(state & MUTEX_STARVING), "waiters": state >> MUTEX_WAITER_SHIFT}


def _off(target: Target, type_name: str, *paths: str) -> int | None:
    if not has_layout(target, type_name):
        return None
    lay = layout(target, type_name)
    for p in paths:
        if lay.has(p):
            return lay.off(p)
    return None


def object_state(target: Target, o: WaitObject) -> dict[str, Any]:
    mem = target.memory
    if o.kind == CHAN:
        ch = read_hchan(target, o.address)
        return {"len": ch.qcount, "cap": ch.dataqsiz, "closed": ch.closed}
    if o.kind == MUTEX:
        off = _off(target, "sync.Mutex", "mu.state", "state") or 0
        return _mutex_bits(struct.unpack("<i", mem.read(o.address + off, 4))[0])
    if o.kind == RWMUTEX:
        w = _off(target, "sync.RWMutex", "w.mu.state", "w.state") or 0
        rc = _off(target, "sync.RWMutex", "readerCount.v", "readerCount")
        rw = _off(target, "sync.RWMutex", "readerWait.v", "readerWait")
        out: dict[str, Any] = {"writer": _mutex_bits(struct.unpack("<i", mem.read(o.address + w, 4))[0])}
        if rc is not None and rw is not None:
            out["reader_count"] = struct.unpack("<i", mem.read(o.address + rc, 4))[0]
            out["reader_wait"] = struct.unpack("<i", mem.read(o.address + rw, 4))[0]
        return out
    if o.kind == WAITGROUP:
        off = _off(target, "sync.WaitGroup", "state.v", "state") or 0
        v = mem.u64(o.address + off)
        return {"counter": v >> 32, "waiters": v & WG_WAITERS_MASK}
    if o.kind == COND:
        return {"waiters": len(o.waiters)}
    if o.kind == SEMAPHORE:
        return {"value": mem.u32(o.address)}
    return {}
