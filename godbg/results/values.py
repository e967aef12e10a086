"""`print`'s answer (a Go value with its type, address and where it lives) and `chan`'s
(a channel with its buffer and waiters). The values themselves are decoded Go values,
JSON by nature (the contract's value rules), held as they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from godbg.results.base import JSON, Result, hex_or_none

# Where a value lives (Location.kind).
GLOBAL = "global"
STACK = "stack"
HEAP = "heap"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Location(Result):
    """Where a value lives: a global (the binary's data), a goroutine's stack, the heap, or unknown."""

    kind: str  # GLOBAL, STACK, HEAP, UNKNOWN
    symbol: str | None = None  # a global's
    goroutine: int | None = None  # a stack's
    frame: str | None = None  # a stack's: the function whose frame holds it
    object: int | None = None  # the heap: the start of the object that holds it
    elemsize: int | None = None  # the heap: its span's object size

    def to_json(self) -> JSON:
        out: JSON = {"kind": self.kind}
        if self.symbol is not None:
            out["symbol"] = self.symbol
        if self.goroutine is not None:
            out["goroutine"] = self.goroutine
        if self.frame is not None:
            out["frame"] = self.frame
        if self.object is not None:
            out["object"] = f"{self.object:#x}"
        if self.elemsize is not None:
            out["elemsize"] = self.elemsize
        return out


@dataclass(frozen=True)
class Value(Result):
    """A Go value as `print` gives it."""

    expr: str
    type: str
    address: int | None  # None for what has no address: a map element, len(x)
    location: Location
    value: Any  # the decoded value (JSON)

    def to_json(self) -> JSON:
        return {"expr": self.expr, "type": self.type, "address": hex_or_none(self.address),
                "location": self.location.to_json(), "value": self.value}


@dataclass(frozen=True)
class ChanSender(Result):
    """A goroutine blocked sending on a channel, and the value it sends."""

    goroutine: int | None  # None when its g is unreadable
    value: Any  # the decoded value (JSON)

    def to_json(self) -> JSON:
        return {"goroutine": self.goroutine, "value": self.value}


@dataclass(frozen=True)
class Chan(Result):
    """A channel decoded; a nil channel has no address, nothing buffered and no waiters."""

    expr: str
    type: str | None  # "chan string"; None when neither DWARF nor the runtime names it
    address: int | None  # the hchan; None for a nil channel
    len: int
    cap: int
    closed: bool
    elem_type: str | None
    buffer: tuple[Any, ...]  # the buffered values (JSON), oldest first
    recv_waiters: tuple[int | None, ...]  # goroutine ids in queue order (None: unreadable g)
    send_waiters: tuple[ChanSender, ...]

    def to_json(self) -> JSON:
        return {"expr": self.expr, "type": self.type, "address": hex_or_none(self.address), "len": self.len,
                "cap": self.cap, "closed": self.closed, "elem_type": self.elem_type, "buffer": list(self.buffer),
                "recv_waiters": list(self.recv_waiters), "send_waiters": [s.to_json() for s in self.send_waiters]}
