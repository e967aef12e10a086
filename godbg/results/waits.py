"""What a goroutine waits on (`goroutines`, `bt`, `leaks`), and `waits`' answer: every
object goroutines block on, with its waiters."""

from __future__ import annotations

from dataclasses import dataclass

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
