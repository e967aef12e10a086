"""`goroutines`' answer: every goroutine with its status, where it is, who created it, its M
and stack figures, labels and what it waits on; with `--group`, the goroutines bucketed
by identical stacks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from godbg.results.base import JSON, Result
from godbg.results.frames import Frame, SourceFrame
from godbg.results.stacks import StackFigures
from godbg.results.waits import WaitingOn

# `--group-by` keys: what keeps groups of the same stack apart besides their frames.
GROUP_BY_OBJECT, GROUP_BY_LABELS = "object", "labels"


@dataclass(frozen=True, init=False)
class Goroutine(Result):
    id: int
    status: str  # the runtime's status name ("waiting"), "+scan" when the scan bit is set
    wait_reason: str | None  # waiting goroutines only
    waiting_since_ns: int | None
    function: str | None  # the innermost frame's
    user_function: str | None  # the innermost frame of the program itself
    location: str | None  # the user frame's file:line (the innermost frame's when there is none)
    created_by: str | None
    parent_goid: int | None
    start_function: str | None
    m: int | None
    thread: int | None
    locked_to_thread: bool
    # Built as read: "sp" is where the goroutine's walk starts, kept even outside the bounds
    # (then used and guard_headroom are None).
    stack: StackFigures
    labels: Mapping[str, str] = field(hash=False)  # pprof labels
    waiting_on: WaitingOn | None
    # How to get the frames: a backtrace function of a goroutine id (not in the JSON).
    _backtrace: Any = field(repr=False, compare=False, default=None)

    def __init__(self, id: int, status: str, wait_reason: str | None, waiting_since_ns: int | None,
                 function: str | None, user_function: str | None, location: str | None, created_by: str | None,
                 parent_goid: int | None, start_function: str | None, m: int | None, thread: int | None,
                 locked_to_thread: bool, stack: StackFigures, labels: Mapping[str, str], waiting_on: WaitingOn | None,
                 _backtrace: Any = None) -> None:
        # A listing makes one a goroutine, 100,000 of them: set at once, not field by field
        # through object.__setattr__ as the frozen dataclass's own __init__ would (three times
        # the cost).
        object.__setattr__(self, "__dict__", {
            "id": id, "status": status, "wait_reason": wait_reason, "waiting_since_ns": waiting_since_ns,
            "function": function, "user_function": user_function, "location": location, "created_by": created_by,
            "parent_goid": parent_goid, "start_function": start_function, "m": m, "thread": thread,
            "locked_to_thread": locked_to_thread, "stack": stack, "labels": labels, "waiting_on": waiting_on,
            "_backtrace": _backtrace,
        })

    def to_json(self) -> JSON:
        return {
            "id": self.id, "status": self.status, "wait_reason": self.wait_reason,
            "waiting_since_ns": self.waiting_since_ns, "function": self.function,
            "user_function": self.user_function, "location": self.location, "created_by": self.created_by,
            "parent_goid": self.parent_goid, "start_function": self.start_function, "m": self.m,
            "thread": self.thread, "locked_to_thread": self.locked_to_thread, "stack": self.stack.to_json(),
            "labels": dict(self.labels),
            "waiting_on": self.waiting_on.to_json() if self.waiting_on is not None else None,
        }

    @property
    def frames(self) -> tuple[Frame, ...]:
        """This goroutine's frames, as `bt ID` gives them (unwound on each use)."""
        if self._backtrace is None:
            return ()
        frames: tuple[Frame, ...] = self._backtrace(self.id).frames
        return frames


@dataclass(frozen=True)
class Goroutines(Result):
    goroutines: tuple[Goroutine, ...]  # in allgs order, at most --limit of them
    total: int  # how many matched before the limit

    def to_json(self) -> JSON:
        return {"goroutines": [g.to_json() for g in self.goroutines], "total": self.total}

    def __iter__(self) -> Iterator[Goroutine]:
        return iter(self.goroutines)

    def __len__(self) -> int:
        return len(self.goroutines)


@dataclass(frozen=True)
class GoroutineGroup(Result):
    """Goroutines whose frames (function, file, line) are the same, and with `--group-by`
    the same wait object or labels."""

    ids: tuple[int, ...]  # ascending
    status: str
    wait_reason: str | None
    created_by: str | None  # the first goroutine's (by allgs order)
    user_function: str | None
    frames: tuple[SourceFrame, ...]
    waiting_on: WaitingOn | None  # grouped by object: what they all wait on; else None
    labels: Mapping[str, str] | None = field(hash=False)  # grouped by labels: theirs; else None
    group_by: tuple[str, ...]  # the `--group-by` keys: their fields are in the JSON (even when null)

    def to_json(self) -> JSON:
        out: JSON = {"ids": list(self.ids), "status": self.status, "wait_reason": self.wait_reason,
                     "created_by": self.created_by, "user_function": self.user_function,
                     "frames": [f.to_json() for f in self.frames]}
        if GROUP_BY_OBJECT in self.group_by:
            out["waiting_on"] = self.waiting_on.to_json() if self.waiting_on is not None else None
        if GROUP_BY_LABELS in self.group_by:
            out["labels"] = dict(self.labels) if self.labels is not None else None
        return out


@dataclass(frozen=True)
class GoroutineGroups(Result):
    groups: tuple[GoroutineGroup, ...]  # largest first (ties: smallest id first), at most --limit
    total_groups: int  # before the limit
    total: int  # goroutines

    def to_json(self) -> JSON:
        return {"groups": [g.to_json() for g in self.groups], "total_groups": self.total_groups,
                "total": self.total}

    def __iter__(self) -> Iterator[GoroutineGroup]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)
