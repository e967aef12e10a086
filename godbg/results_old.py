"""What the Python API returns: frozen dataclasses with typed fields, one per command
answer. Each keeps the command's JSON document it was read from, so ``.to_json()`` is
exactly what ``godbg … COMMAND --json`` prints (fields added to a command's JSON later show
up there before they get a typed attribute here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

JSON = dict[str, Any]


def _hex(text: str | None) -> int | None:
    return int(text, 16) if text else None


@dataclass(frozen=True)
class Result:
    """Base of every result: the command's JSON document, kept out of repr and comparisons."""

    doc: JSON = field(repr=False, compare=False)

    def to_json(self) -> JSON:
        """The command's JSON document, as `--json` prints it (JSON types only: lists, not tuples)."""
        doc: JSON = json.loads(json.dumps(self.doc, ensure_ascii=False))
        return doc


@dataclass(frozen=True)
class StackFigures(Result):
    lo: int
    hi: int
    sp: Optional[int]
    size: int
    used: Optional[int]
    guard_headroom: Optional[int]

    @classmethod
    def from_json(cls, d: JSON) -> StackFigures:
        return cls(d, d["lo"], d["hi"], d.get("sp"), d["size"], d.get("used"), d.get("guard_headroom"))


@dataclass(frozen=True)
class Frame(Result):
    function: str
    file: str
    line: int
    pc: int
    sp: Optional[int]
    inlined: bool

    @classmethod
    def from_json(cls, d: JSON) -> Frame:
        return cls(d, d["function"], d.get("file") or "", d.get("line") or 0, _hex(d.get("pc")) or 0,
                   _hex(d.get("sp")), bool(d.get("inlined")))


@dataclass(frozen=True)
class Info(Result):
    go_version: str
    goarch: str
    map_impl: str
    goexperiments: tuple[str, ...]
    goroutines: int
    ms: int
    maxstacksize: int
    stack_guard: int
    signal: Optional[str]
    crash_thread: Optional[int]

    @classmethod
    def from_json(cls, d: JSON) -> Info:
        return cls(d, d["go_version"], d["goarch"], d["map_impl"], tuple(d["goexperiments"]), d["goroutines"],
                   d["ms"], d["maxstacksize"], d["stack_guard"], d.get("signal"), d.get("crash_thread"))


@dataclass(frozen=True)
class Backtrace(Result):
    goroutine: Optional[int]
    m: Optional[int]
    frames: tuple[Frame, ...]
    elided: int

    @classmethod
    def from_json(cls, d: JSON) -> Backtrace:
        return cls(d, d.get("goroutine"), d.get("m"), tuple(Frame.from_json(f) for f in d["frames"]),
                   d.get("elided") or 0)


@dataclass(frozen=True)
class Goroutine(Result):
    id: int
    status: str
    wait_reason: Optional[str]
    waiting_since_ns: Optional[int]
    function: Optional[str]
    user_function: Optional[str]
    location: Optional[str]
    created_by: Optional[str]
    start_function: Optional[str]
    m: Optional[int]
    thread: Optional[int]
    stack: StackFigures
    # How to get the frames: the Program's backtrace of this goroutine (not in the JSON).
    _backtrace: Any = field(repr=False, compare=False, default=None)

    @classmethod
    def from_json(cls, d: JSON, backtrace: Any = None) -> Goroutine:
        return cls(d, d["id"], d["status"], d.get("wait_reason"), d.get("waiting_since_ns"), d.get("function"),
                   d.get("user_function"), d.get("location"), d.get("created_by"), d.get("start_function"),
                   d.get("m"), d.get("thread"), StackFigures.from_json(d["stack"]), backtrace)

    @property
    def frames(self) -> tuple[Frame, ...]:
        """This goroutine's frames, as `bt ID` gives them (unwound on first use)."""
        if self._backtrace is None:
            return ()
        frames: tuple[Frame, ...] = self._backtrace(self.id).frames
        return frames


@dataclass(frozen=True)
class Goroutines(Result):
    goroutines: tuple[Goroutine, ...]
    total: int

    def __iter__(self) -> Iterator[Goroutine]:
        return iter(self.goroutines)

    def __len__(self) -> int:
        return len(self.goroutines)


@dataclass(frozen=True)
class M(Result):
    id: int
    thread: Optional[int]
    curg: Optional[int]
    g0: StackFigures
    gsignal: StackFigures

    @classmethod
    def from_json(cls, d: JSON) -> M:
        return cls(d, d["id"], d.get("thread"), d.get("curg"), StackFigures.from_json(d["g0"]),
                   StackFigures.from_json(d["gsignal"]))


@dataclass(frozen=True)
class Ms(Result):
    ms: tuple[M, ...]


@dataclass(frozen=True)
class GoroutineHeadroom(Result):
    id: int
    size: int
    used: Optional[int]
    guard_headroom: Optional[int]
    limit_headroom: Optional[int]
    doublings_left: Optional[int]
    deepest_function: Optional[str]

    @classmethod
    def from_json(cls, d: JSON) -> GoroutineHeadroom:
        return cls(d, d["id"], d["size"], d.get("used"), d.get("guard_headroom"), d.get("limit_headroom"),
                   d.get("doublings_left"), d.get("deepest_function"))


@dataclass(frozen=True)
class Headroom(Result):
    maxstacksize: int
    max_stack: int
    stack_guard: int
    goroutines: tuple[GoroutineHeadroom, ...]  # closest to the limit first

    @classmethod
    def from_json(cls, d: JSON) -> Headroom:
        return cls(d, d["maxstacksize"], d["max_stack"], d["stack_guard"],
                   tuple(GoroutineHeadroom.from_json(g) for g in d["goroutines"]))


@dataclass(frozen=True)
class MapContents(Result):
    expr: str
    type: str
    impl: str
    count: int
    entries: tuple[tuple[Any, Any], ...]
    truncated: bool
    stats: Optional[JSON]

    @classmethod
    def from_json(cls, d: JSON) -> MapContents:
        return cls(d, d["expr"], d["type"], d["impl"], d["count"], tuple((k, v) for k, v in d["entries"]),
                   d["truncated"], d.get("stats"))


@dataclass(frozen=True)
class Panic(Result):
    value: Any
    type: Optional[str]
    text: str
    recovered: bool
    repanicked: bool
    goexit: bool

    @classmethod
    def from_json(cls, d: JSON) -> Panic:
        return cls(d, d["value"], d.get("type"), d.get("text", ""), d["recovered"], d["repanicked"], d["goexit"])


@dataclass(frozen=True)
class Defer(Result):
    function: Optional[str]
    frame: Optional[str]
    state: str

    @classmethod
    def from_json(cls, d: JSON) -> Defer:
        return cls(d, d.get("function"), d.get("frame"), d["state"])


@dataclass(frozen=True)
class PanicPath(Result):
    goroutine: Optional[int]
    fatal_error: Optional[str]
    panics: tuple[Panic, ...]  # oldest first
    defers: tuple[Defer, ...]
    frames: tuple[Frame, ...]

    @classmethod
    def from_json(cls, d: JSON) -> PanicPath:
        return cls(d, d.get("goroutine"), d.get("fatal_error"), tuple(Panic.from_json(p) for p in d["panics"]),
                   tuple(Defer.from_json(x) for x in d["defers"]), tuple(Frame.from_json(f) for f in d["frames"]))
