"""`ms`'s answer: every M with its thread, the goroutine it runs, and its g0 and gsignal
stacks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from godbg.results.base import JSON, Result
from godbg.results.stacks import StackFigures


@dataclass(frozen=True)
class M(Result):
    id: int
    thread: int | None  # the OS thread id
    curg: int | None  # the goroutine it runs
    in_signal_handler: bool
    crashing: bool  # the thread the fatal signal was delivered to
    g0: StackFigures
    gsignal: StackFigures

    def to_json(self) -> JSON:
        return {"id": self.id, "thread": self.thread, "curg": self.curg, "in_signal_handler": self.in_signal_handler,
                "crashing": self.crashing, "g0": self.g0.to_json(), "gsignal": self.gsignal.to_json()}


@dataclass(frozen=True)
class Ms(Result):
    ms: tuple[M, ...]  # by id

    def to_json(self) -> JSON:
        return {"ms": [m.to_json() for m in self.ms]}

    def __iter__(self) -> Iterator[M]:
        return iter(self.ms)

    def __len__(self) -> int:
        return len(self.ms)
