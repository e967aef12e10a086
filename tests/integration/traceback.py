"""Go's own crash output, parsed: where integration tests get expected values.

A program run with ``GOTRACEBACK=crash`` prints, on its way down, everything the
runtime knows: the ``panic:`` chain or the ``fatal error:``, then every goroutine
with its status, frames (function, arguments, file, line, ``+0x`` offset and, in
crash mode, ``fp= sp= pc=``) and who created it. A signal-driven crash adds a
section per M (``SIGQUIT: quit`` / ``PC= m= sigcode=``, that M's ``goroutine 0``
g0 stack and a register dump), a ``throw`` adds the ``runtime stack:`` of the g0 it
ran on. User goroutines (id > 0) land in :attr:`Traceback.goroutines`; g0 stacks
(``goroutine 0`` and ``runtime stack:``) land in :attr:`Traceback.system_stacks`.

The formats were read off ``src/runtime/{panic,traceback,signal_unix}.go`` of Go
1.22 through 1.27 and checked against real crashes (tests/integration/data/):

- ``printpanics``: the chain oldest first, later panics indented by a tab;
  `` [recovered]`` after a recovered one. Go 1.25 added
  `` [recovered, repanicked]`` for a panic re-raised with the same value, which is
  then printed once; Go 1.22-1.24 print such a value twice (the first one
  `` [recovered]``). A multi-line value continues on lines indented by a tab from
  Go 1.23 on (``printindented``), unindented before.
- ``goroutineheader``: ``goroutine N`` then, in crash mode (or for the crashing
  goroutine), `` gp=0x… m=N mp=0x…`` or `` gp=0x… m=nil``; then
  ``[status(, N minutes)(, locked to thread)(, synctest bubble N)]``, the status
  possibly followed by `` (scan)``, `` (leaked)`` (1.26) or `` (durable)`` (1.25);
  Go 1.27 may append pprof labels `` {key: value, …}``.
- ``traceback2``: ``func(args)`` over ``<tab>file:line +0xoff fp=0x… sp=0x… pc=0x…``;
  inlined calls print ``(...)`` and no offset; ``runtime.gopanic`` prints as
  ``panic``; ``...N frames elided...`` in the middle of a deep stack
  (``...additional frames elided...`` in ancestor tracebacks);
  ``created by F in goroutine N`` over its ``file:line +0xoff``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional

# How runtime.gopanic shows up in a traceback (printFuncName).
PANIC_FRAME_NAME = "panic"
PANIC_FUNCTION = "runtime.gopanic"

_HEX = r"0x[0-9a-f]+"

_GOROUTINE_RE = re.compile(
    rf"^goroutine (?P<id>\d+)"
    rf"(?: gp=(?P<gp>{_HEX}))?"
    rf"(?: m=(?P<m>nil|\d+))?"
    rf"(?: mp=(?P<mp>{_HEX}))?"
    r" \[(?P<state>.*)\]"
    r"(?: \{(?P<labels>.*)\})?:$"
)
_LOCATION_RE = re.compile(
    rf"^\t(?P<file>.*):(?P<line>\d+)"
    rf"(?: \+(?P<offset>{_HEX}))?"
    rf"(?: fp=(?P<fp>{_HEX}) sp=(?P<sp>{_HEX}) pc=(?P<pc>{_HEX}))?$"
)
_CREATED_BY_RE = re.compile(r"^created by (?P<function>.+?)(?: in goroutine (?P<goroutine>\d+))?$")
_ELIDED_RE = re.compile(r"^\.\.\.(?:(?P<count>\d+)|additional) frames elided\.\.\.$")
_PANIC_RE = re.compile(r"^\t?panic: ")
_PANIC_MARKS = ((" [recovered, repanicked]", True, True), (" [recovered]", True, False))
_SIGNAL_LINE_RE = re.compile(
    rf"^\[signal (?P<name>SIG[A-Z0-9]+|[^:]+): (?P<description>.*?)"
    rf"(?: code=(?P<code>\S+))?(?: addr=(?P<addr>{_HEX}))?(?: pc=(?P<pc>{_HEX}))?\]$"
)
_SIGNAL_DUMP_RE = re.compile(r"^(?P<name>SIG[A-Z0-9]+): (?P<description>.+)$")
_PC_LINE_RE = re.compile(
    rf"^PC=(?P<pc>{_HEX}) m=(?P<m>\d+) sigcode=(?P<sigcode>-?\d+)(?: addr=(?P<addr>{_HEX}))?$"
)
_REGISTER_RE = re.compile(rf"^(?P<name>[a-z][a-z0-9]*) +(?P<value>{_HEX})$")
_NON_GO_RE = re.compile(rf"^non-Go function at pc=(?P<pc>{_HEX})$")
_ANCESTOR_RE = re.compile(r"^\[originating from goroutine (?P<id>\d+)\]:$")
_MINUTES_RE = re.compile(r"^(?P<n>\d+) minutes$")
_BUBBLE_RE = re.compile(r"^synctest (?:bubble|group) (?P<n>\d+)$")
_LABEL_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[^,:\s]+')

SECTION_SEPARATOR = "-----"
STACK_UNAVAILABLE = "goroutine running on other thread; stack unavailable"
RUNTIME_STACK = "runtime stack:"


class TracebackError(ValueError):
    """The text is not a Go crash traceback the parser understands."""


def _int(text: Optional[str]) -> Optional[int]:
    return None if text is None else int(text, 0)


@dataclass
class Frame:
    """One line pair of a traceback: ``function(args)`` over ``file:line …``."""

    function: str
    args: str
    file: str
    line: int
    offset: Optional[int] = None
    fp: Optional[int] = None
    sp: Optional[int] = None
    pc: Optional[int] = None

    @property
    def inlined(self) -> bool:
        """Inlined calls print ``(...)`` for their arguments and no offset."""
        return self.args == "..." and self.offset is None

    @property
    def symbol(self) -> str:
        """The function's name in the symbol table (``panic`` is ``runtime.gopanic``)."""
        return PANIC_FUNCTION if self.function == PANIC_FRAME_NAME else self.function


@dataclass
class CreatedBy:
    function: str
    goroutine: Optional[int]
    file: str
    line: int
    offset: Optional[int]


@dataclass
class Stack:
    """Frames, plus where ``...N frames elided...`` cut them (-1: count not printed)."""

    frames: list[Frame] = field(default_factory=list)
    elided: int = 0
    elided_at: Optional[int] = None
    created_by: Optional[CreatedBy] = None

    @property
    def functions(self) -> list[str]:
        return [f.function for f in self.frames]


@dataclass
class Ancestor(Stack):
    """``[originating from goroutine N]:`` (GODEBUG=tracebackancestors)."""

    id: int = 0


@dataclass
class Goroutine(Stack):
    id: int = 0
    status: str = ""
    gp: Optional[int] = None
    m: Optional[int] = None
    mp: Optional[int] = None
    wait_minutes: int = 0
    locked_to_thread: bool = False
    scan: bool = False
    leaked: bool = False
    durable: bool = False
    synctest_bubble: Optional[int] = None
    labels: dict[str, str] = field(default_factory=dict)
    stack_unavailable: bool = False
    ancestors: list[Ancestor] = field(default_factory=list)
    header: str = ""


@dataclass
class SignalDump:
    """One M's section of a signal crash: ``SIGQUIT: quit``, ``PC=… m=N sigcode=N``."""

    name: str
    description: str
    pc: Optional[int] = None
    m: Optional[int] = None
    sigcode: Optional[int] = None
    addr: Optional[int] = None
    in_cgo: bool = False
    registers: dict[str, int] = field(default_factory=dict)
    # The M's own stack at the signal, printed first in its section: its g0
    # (a SystemStack, "goroutine 0") or the goroutine it was running. A goroutine
    # printed here and again among all goroutines is listed in
    # Traceback.goroutines once.
    stack: Optional[Stack] = None


@dataclass
class SystemStack(Stack):
    """A g0 (system) stack: ``goroutine 0 …`` of a signal dump or a throw's ``runtime stack:``."""

    kind: str = "goroutine 0"  # or "runtime stack"
    gp: Optional[int] = None
    m: Optional[int] = None
    mp: Optional[int] = None
    status: str = ""
    signal: Optional[SignalDump] = None
    header: str = ""


@dataclass
class Panic:
    value: str
    recovered: bool = False
    repanicked: bool = False


@dataclass
class SignalInfo:
    """``[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x…]``."""

    name: str
    description: str
    code: Optional[str] = None
    addr: Optional[int] = None
    pc: Optional[int] = None


@dataclass
class Traceback:
    panics: list[Panic] = field(default_factory=list)
    fatal_error: Optional[str] = None
    signal: Optional[SignalInfo] = None
    runtime_messages: list[str] = field(default_factory=list)
    goroutines: list[Goroutine] = field(default_factory=list)
    system_stacks: list[SystemStack] = field(default_factory=list)
    signal_dumps: list[SignalDump] = field(default_factory=list)
    preamble: list[str] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)

    def goroutine(self, goid: int) -> Goroutine:
        for g in self.goroutines:
            if g.id == goid:
                return g
        raise KeyError(f"goroutine {goid} is not in the traceback (have {self.ids})")

    @property
    def ids(self) -> list[int]:
        return [g.id for g in self.goroutines]

    @property
    def panic_values(self) -> list[str]:
        return [p.value for p in self.panics]

    def by_status(self, status: str) -> list[Goroutine]:
        return [g for g in self.goroutines if g.status == status]


def parse(text: str) -> Traceback:
    """Parse Go's crash output (a program's stderr).

    Lines before the first line that belongs to a crash go to ``preamble``; lines
    after it that the parser does not recognise go to ``unparsed`` (tests may
    assert that it stays empty, so format changes do not slip by)."""
    return _Parser(text).run()


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.i = 0
        self.tb = Traceback()
        self.started = False
        self.stack: Optional[Stack] = None
        self.dump: Optional[SignalDump] = None

    def _peek(self) -> Optional[str]:
        return self.lines[self.i] if self.i < len(self.lines) else None

    def _next(self) -> str:
        line = self.lines[self.i]
        self.i += 1
        return line

    def run(self) -> Traceback:
        while self.i < len(self.lines):
            line = self._next()
            if not self._line(line):
                (self.tb.unparsed if self.started else self.tb.preamble).append(line)
        if not self.started:
            raise TracebackError("no Go crash output found (no panic:, fatal error:, signal or goroutine)")
        return self.tb

    def _start(self) -> None:
        self.started = True

    def _line(self, line: str) -> bool:
        if line == "":  # blank lines separate sections: a stack never goes on after one
            self.stack = None
            return self.started
        if _PANIC_RE.match(line) and not line.startswith("\t"):
            self._start()
            self._panics(line)
            return True
        if line.startswith("fatal error: ") or line.startswith("fatal: "):
            self._start()
            if self.tb.fatal_error is None:
                self.tb.fatal_error = line.split(": ", 1)[1]
            else:
                self.tb.runtime_messages.append(line)
            return True
        if line.startswith("runtime: "):
            self.tb.runtime_messages.append(line)
            return True
        m = _SIGNAL_LINE_RE.match(line)
        if m:
            self._start()
            self.tb.signal = SignalInfo(m["name"], m["description"], m["code"], _int(m["addr"]), _int(m["pc"]))
            return True
        m = _SIGNAL_DUMP_RE.match(line)
        if m and (self._peek() or "").startswith("PC="):
            self._start()
            self.dump = SignalDump(m["name"], m["description"])
            self.tb.signal_dumps.append(self.dump)
            pc = _PC_LINE_RE.match(self._next())
            if pc:
                self.dump.pc, self.dump.m = _int(pc["pc"]), _int(pc["m"])
                self.dump.sigcode, self.dump.addr = _int(pc["sigcode"]), _int(pc["addr"])
            self.stack = None
            return True
        if line == "signal arrived during cgo execution" and self.dump is not None:
            self.dump.in_cgo = True
            return True
        if line == SECTION_SEPARATOR:
            self.dump, self.stack = None, None
            return True
        if line == RUNTIME_STACK:
            self._start()
            self.stack = SystemStack(kind="runtime stack", header=line)
            self.tb.system_stacks.append(self.stack)
            return True
        m = _GOROUTINE_RE.match(line)
        if m:
            self._start()
            self._goroutine(m, line)
            return True
        if not self.started:
            return False
        m = _REGISTER_RE.match(line)
        if m and self.dump is not None:
            self.dump.registers[m["name"]] = int(m["value"], 16)
            return True
        if self.stack is None:
            return False
        return self._stack_line(line)

    def _panics(self, first: str) -> None:
        block = [first]
        while True:
            nxt = self._peek()
            if nxt is None or nxt == "" or self._ends_panic_block(nxt):
                break
            block.append(self._next())
        values: list[list[str]] = []
        for line in block:
            if _PANIC_RE.match(line):
                values.append([line.split("panic: ", 1)[1]])
            else:  # a multi-line value: indented by a tab from Go 1.23 on
                values[-1].append(line[1:] if line.startswith("\t") else line)
        for lines in values:
            value, recovered, repanicked = "\n".join(lines), False, False
            for mark, rec, rep in _PANIC_MARKS:
                if value.endswith(mark):
                    value, recovered, repanicked = value[: -len(mark)], rec, rep
                    break
            self.tb.panics.append(Panic(value, recovered, repanicked))

    @staticmethod
    def _ends_panic_block(line: str) -> bool:
        return bool(
            line.startswith(("[signal ", "fatal error: ", "goroutine ", RUNTIME_STACK))
            or _SIGNAL_DUMP_RE.match(line)
        )

    def _goroutine(self, m: re.Match[str], line: str) -> None:
        goid = int(m["id"])
        mid = None if m["m"] in (None, "nil") else int(m["m"])
        parts = m["state"].split(", ")
        status = parts[0]
        first_in_dump = self.dump is not None and self.dump.stack is None
        if goid == 0:
            stack = SystemStack(kind="goroutine 0", gp=_int(m["gp"]), m=mid, mp=_int(m["mp"]),
                                status=status, signal=self.dump, header=line)
            self.tb.system_stacks.append(stack)
            self.stack = stack
            if first_in_dump:
                self.dump.stack = stack
            return
        g = Goroutine(id=goid, gp=_int(m["gp"]), m=mid, mp=_int(m["mp"]), header=line)
        for flag in (" (scan)", " (leaked)"):
            if status.endswith(flag):
                status = status[: -len(flag)]
                setattr(g, flag.strip(" ()"), True)
        g.durable = status.endswith(" (durable)")
        g.status = status
        for part in parts[1:]:
            if part == "locked to thread":
                g.locked_to_thread = True
            elif _MINUTES_RE.match(part):
                g.wait_minutes = int(part.split()[0])
            elif _BUBBLE_RE.match(part):
                g.synctest_bubble = int(part.split()[-1])
            else:
                self.tb.unparsed.append(f"{line} (header part {part!r})")
        if m["labels"]:
            g.labels = _labels(m["labels"])
        if first_in_dump:
            self.dump.stack = g
        if goid not in self.tb.ids:
            self.tb.goroutines.append(g)
        self.stack = g

    def _stack_line(self, line: str) -> bool:
        stack = self.stack
        assert stack is not None
        if line == "\t" + STACK_UNAVAILABLE and isinstance(stack, Goroutine):
            stack.stack_unavailable = True
            return True
        m = _ELIDED_RE.match(line)
        if m:
            stack.elided = int(m["count"]) if m["count"] else -1
            stack.elided_at = len(stack.frames)
            return True
        m = _CREATED_BY_RE.match(line)
        if m:
            loc = _LOCATION_RE.match(self._peek() or "")
            if loc:
                self._next()
            stack.created_by = CreatedBy(
                m["function"], _int(m["goroutine"]),
                loc["file"] if loc else "", int(loc["line"]) if loc else 0,
                _int(loc["offset"]) if loc else None,
            )
            return True
        m = _ANCESTOR_RE.match(line)
        if m:
            ancestor = Ancestor(id=int(m["id"]))
            if isinstance(stack, Goroutine):
                stack.ancestors.append(ancestor)
            elif isinstance(stack, Ancestor) and self.tb.goroutines:
                self.tb.goroutines[-1].ancestors.append(ancestor)
            self.stack = ancestor
            return True
        m = _NON_GO_RE.match(line)
        if m:
            stack.frames.append(Frame("non-Go function", "", "", 0, pc=_int(m["pc"])))
            return True
        call = _split_call(line)
        if call is not None:
            loc = _LOCATION_RE.match(self._peek() or "")
            if loc is None:
                return False
            self._next()
            stack.frames.append(Frame(
                function=call[0], args=call[1], file=loc["file"], line=int(loc["line"]),
                offset=_int(loc["offset"]), fp=_int(loc["fp"]), sp=_int(loc["sp"]), pc=_int(loc["pc"]),
            ))
            return True
        return False


def _split_call(line: str) -> Optional[tuple[str, str]]:
    """``pkg.(*T).m(0x1, {0x2?, 0x3?})`` -> (``pkg.(*T).m``, ``0x1, {0x2?, 0x3?}``)."""
    if line.startswith(("\t", " ")) or not line.endswith(")"):
        return None
    depth = 0
    for j in range(len(line) - 1, -1, -1):
        c = line[j]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                return (line[:j], line[j + 1 : -1]) if j > 0 else None
    return None


def _labels(text: str) -> dict[str, str]:
    """``{key: value, "a key": "a\\"value"}`` as Go 1.27 prints pprof labels."""
    tokens = _LABEL_TOKEN_RE.findall(text)
    out: dict[str, str] = {}
    for key, value in zip(tokens[0::2], tokens[1::2]):
        out[_unquote(key)] = _unquote(value)
    return out


def _unquote(token: str) -> str:
    if token.startswith('"'):
        try:
            return json.loads(token)
        except ValueError:
            return token[1:-1]
    return token


def iter_frames(tb: Traceback) -> Iterator[tuple[int, Frame]]:
    """Every (goroutine id, frame) of the user goroutines, in printed order."""
    for g in tb.goroutines:
        for f in g.frames:
            yield g.id, f
