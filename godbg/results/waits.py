"""What a goroutine waits on (`goroutines`, `bt`, `leaks`); `waits`' answer: every object
goroutines block on, with its waiters and its state; and `leaks`' answer: the goroutines
that can never run again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Union

from godbg.results.base import JSON, Result


@dataclass(frozen=True)
class ChanRef(Result):
    """One channel of a select."""

    dir: str | None  # "recv", "send"
    address: int
    object: str | None

    def to_json(self) -> JSON:
        return {"dir": self.dir, "address": f"{self.address:#x}", "object": self.object}


@dataclass(frozen=True)
class WaitingOn(Result):
    kind: str  # "chan receive", "select", "mutex", …, "other"
    address: int | None  # 0 or None: unknown
    object: str | None  # the global or field path holding it, a goroutine's frame, a heap type
    since_ns: int | None = None
    channels: tuple[ChanRef, ...] | None = None  # a select's
    fd: int | None = None  # a network wait's
    deadline_ns: int | None = None  # a sleep's (the runtime's nanotime)
    # The address the runtime's leak detector checks (hchans, the sema word, the
    # notifyList); None when godbg could not find it. Not in the JSON.
    targets: tuple[int, ...] = ()

    def to_json(self) -> JSON:
        out: JSON = {"kind": self.kind, "address": f"{self.address:#x}" if self.address else None,
                     "object": self.object, "since_ns": self.since_ns}
        if self.channels is not None:
            out["channels"] = [c.to_json() for c in self.channels]
        if self.fd is not None:
            out["fd"] = self.fd
        if self.deadline_ns is not None:
            out["deadline_ns"] = self.deadline_ns
        return out


# A wait object's state, by kind: what its words say about who may wake its waiters.


@dataclass(frozen=True)
class MutexState(Result):
    """The bits of a sync.Mutex's state word (internal/sync/mutex.go)."""

    locked: bool
    woken: bool
    starving: bool
    waiters: int  # the waiter count in the state word

    def to_json(self) -> JSON:
        return {"locked": self.locked, "woken": self.woken, "starving": self.starving, "waiters": self.waiters}


@dataclass(frozen=True)
class RWMutexState(Result):
    writer: MutexState  # the inner mutex writers take
    reader_count: int | None  # None (with reader_wait) when the release's RWMutex has no such fields
    reader_wait: int | None

    def to_json(self) -> JSON:
        out: JSON = {"writer": self.writer.to_json()}
        if self.reader_count is not None:
            out["reader_count"] = self.reader_count
        if self.reader_wait is not None:
            out["reader_wait"] = self.reader_wait
        return out


@dataclass(frozen=True)
class WaitGroupState(Result):
    counter: int
    waiters: int

    def to_json(self) -> JSON:
        return {"counter": self.counter, "waiters": self.waiters}


@dataclass(frozen=True)
class ChanState(Result):
    len: int  # items in the buffer
    cap: int
    closed: bool

    def to_json(self) -> JSON:
        return {"len": self.len, "cap": self.cap, "closed": self.closed}


@dataclass(frozen=True)
class CondState(Result):
    waiters: int  # the goroutines found waiting on it

    def to_json(self) -> JSON:
        return {"waiters": self.waiters}


@dataclass(frozen=True)
class SemaphoreState(Result):
    value: int  # the sema word

    def to_json(self) -> JSON:
        return {"value": self.value}


@dataclass(frozen=True)
class UnreadableState(Result):
    """The object's memory could not be read: why."""

    unreadable: str

    def to_json(self) -> JSON:
        return {"unreadable": self.unreadable}


# A runtime alias: Union, not |, for Python 3.9.
WaitState = Union[MutexState, RWMutexState, WaitGroupState, ChanState, CondState, SemaphoreState, UnreadableState]


@dataclass(frozen=True)
class WaitObject(Result):
    """One object goroutines block on."""

    kind: str  # "chan", "mutex", "rwmutex", "waitgroup", "cond", "semaphore"
    address: int
    object: str | None  # the global or field path holding it, a goroutine's frame, a heap type
    waiters: tuple[int, ...]  # goroutine ids, ascending
    state: WaitState

    def to_json(self) -> JSON:
        return {"kind": self.kind, "address": f"{self.address:#x}", "object": self.object,
                "waiters": list(self.waiters), "state": self.state.to_json()}


@dataclass(frozen=True)
class Waits(Result):
    objects: tuple[WaitObject, ...]  # most waiters first (ties: address)

    def to_json(self) -> JSON:
        return {"objects": [o.to_json() for o in self.objects]}

    def __iter__(self) -> Iterator[WaitObject]:
        return iter(self.objects)

    def __len__(self) -> int:
        return len(self.objects)


@dataclass(frozen=True)
class Leak(Result):
    """A goroutine that can never run again."""

    goroutine: int
    waiting_on: WaitingOn | None
    reason: str  # the wait reason and why nothing can wake it

    def to_json(self) -> JSON:
        return {"goroutine": self.goroutine,
                "waiting_on": self.waiting_on.to_json() if self.waiting_on is not None else None,
                "reason": self.reason}


@dataclass(frozen=True)
class LeakStats(Result):
    """How much the reachability pass looked at."""

    goroutines: int
    blocked_candidates: int  # goroutines blocked on a channel or sync object
    heap_spans: int
    marked_objects: int
    scanned_words: int

    def to_json(self) -> JSON:
        return {"goroutines": self.goroutines, "blocked_candidates": self.blocked_candidates,
                "heap_spans": self.heap_spans, "marked_objects": self.marked_objects,
                "scanned_words": self.scanned_words}


@dataclass(frozen=True)
class Leaks(Result):
    """`leaks`' answer."""

    leaked: tuple[Leak, ...]  # by goroutine id
    deadlock: bool  # no goroutine of the program can ever run again
    method: str  # how the leaks were found, in words
    stats: LeakStats

    def to_json(self) -> JSON:
        return {"leaked": [lk.to_json() for lk in self.leaked], "deadlock": self.deadlock, "method": self.method,
                "stats": self.stats.to_json()}

    def __iter__(self) -> Iterator[Leak]:
        return iter(self.leaked)

    def __len__(self) -> int:
        return len(self.leaked)
