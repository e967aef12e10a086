"""`bt`'s answer: the frames of a goroutine (`bt GOID`) or of an M's system stacks
(`bt --m MID`), innermost first, as Go's crash traceback prints them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from godbg.results.base import JSON, Result
from godbg.results.frames import Frame
from godbg.results.waits import WaitingOn


@dataclass(frozen=True)
class Backtrace(Result):
    """A goroutine's backtrace, or (``goroutine`` None) an M's: the fields only one of the
    two has are None (labels: empty) in the other, and its JSON leaves them out."""

    goroutine: int | None  # None: an M's system stacks
    status: str | None  # a goroutine's
    wait_reason: str | None  # a goroutine's
    m: int | None  # the M the goroutine is on; the M walked
    thread: int | None  # an M's OS thread id
    curg: int | None  # the goroutine an M runs
    start: str | None  # a goroutine's: where its walk started ("sched", "signal", "syscall", …)
    frames: tuple[Frame, ...]  # the innermost and outermost ones of a deep stack
    elided: int  # frames left out between them
    stop: str  # why the walk ended ("top", "spwrite", "fault", …)
    created_by: str | None  # a goroutine's
    parent_goid: int | None  # a goroutine's
    labels: Mapping[str, str] = field(hash=False)  # a goroutine's pprof labels ({} for an M)
    waiting_on: WaitingOn | None  # what a goroutine waits on

    def to_json(self) -> JSON:
        frames = [f.to_json() for f in self.frames]
        if self.goroutine is None:
            return {"goroutine": None, "m": self.m, "thread": self.thread, "curg": self.curg, "frames": frames,
                    "elided": self.elided, "stop": self.stop}
        return {
            "goroutine": self.goroutine, "status": self.status, "wait_reason": self.wait_reason, "m": self.m,
            "start": self.start, "frames": frames, "elided": self.elided, "stop": self.stop,
            "created_by": self.created_by, "parent_goid": self.parent_goid,
            "labels": dict(self.labels),
            "waiting_on": self.waiting_on.to_json() if self.waiting_on is not None else None,
        }
