"""`panic`'s answer: the panicking goroutine's panic chain as Go prints it, its deferred
calls, its frames, and the fatal error or signal that ended the program; and how a
`panic replay` ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from godbg.results.base import JSON, Result
from godbg.results.frames import Frame
from godbg.results.info import FatalSignal


@dataclass(frozen=True)
class Panic(Result):
    value: Any  # JSON: errors and Stringers as the text preprintpanics made of them
    type: str | None  # the dynamic type the panic was raised with
    recovered: bool
    repanicked: bool  # Go 1.25+
    goexit: bool
    text: str  # as printpanicval prints it

    def to_json(self) -> JSON:
        return {"value": self.value, "type": self.type, "recovered": self.recovered,
                "repanicked": self.repanicked, "goexit": self.goexit, "text": self.text}


@dataclass(frozen=True)
class Defer(Result):
    function: str | None  # the deferred function
    frame: str | None  # the function whose `defer` statement deferred it
    state: str  # "pending", "running" or "ran"
    kind: str  # "heap", "stack", "open-coded" or "rangefunc"

    def to_json(self) -> JSON:
        return {"function": self.function, "frame": self.frame, "state": self.state, "kind": self.kind}


@dataclass(frozen=True)
class PanicPath(Result):
    goroutine: int | None  # None: no goroutine is panicking
    fatal_error: str | None  # the message of a throw
    fatal_function: str | None  # who threw it
    panics: tuple[Panic, ...]  # oldest first, the ones Go prints
    defers: tuple[Defer, ...]  # in the order they run
    frames: tuple[Frame, ...]  # innermost first
    elided: int  # frames left out of the middle of a very deep stack
    fatal_signal: FatalSignal | None  # the signal that started it, as Go printed it
    m: int | None  # the M that panicked or threw (the crashing thread's when no goroutine is panicking)

    def to_json(self) -> JSON:
        return {
            "goroutine": self.goroutine, "fatal_error": self.fatal_error, "fatal_function": self.fatal_function,
            "panics": [p.to_json() for p in self.panics], "defers": [d.to_json() for d in self.defers],
            "frames": [f.to_json() for f in self.frames], "elided": self.elided,
            "fatal_signal": self.fatal_signal.to_json() if self.fatal_signal is not None else None, "m": self.m,
        }


@dataclass(frozen=True)
class ReplayEnd(Result):
    """How `panic replay` ended; its events were written as they happened."""

    reason: str | None  # the last event's name ("fatal", "exit", "recovered" …); None: no event
    events: int

    def to_json(self) -> JSON:
        return {"event": "end", "reason": self.reason, "events": self.events, "replay": True}
