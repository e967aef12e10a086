"""`panic replay`, the part every debugger shares: run on from where the program is
stopped and narrate its panic path as it happens — each panic (or re-panic after a
recover), each deferred call as it starts, each recover, and the end (a fatal panic or
throw, the exit or the fatal signal, or the recovered program running on).

A backend (gdb's replay.py, delve's replay.py) supplies a :class:`ReplayDebugger`:
breakpoints at addresses, continue, registers of the stopped thread, and where to
write. Breakpoints are the only thing set in the inferior and all are removed at the end;
no register or memory is ever written. Arguments are read from registers at function
entry (ABIInternal: amd64 RAX, RBX…; arm64 X0, X1…)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional, Protocol, Union

from godbg.errors import FaultError, GodbgError, TargetError
from godbg.program.target import Target
from godbg.runtime import panics
from godbg.runtime.layouts import layout
from godbg.runtime.runtime_errors import MAX_STRING

# The first two integer argument registers of Go's register ABI.
ARG_REGS = {"amd64": ("rax", "rbx"), "arm64": ("x0", "x1")}
LINK_REG = {"arm64": "x30"}
SP_REG = {"amd64": "rsp", "arm64": "sp"}
PTR_SIZE = 8
U32_MASK = 0xFFFFFFFF

# Roles of the breakpoints, by the runtime function they sit on.
FIXED = {
    "runtime.gopanic": "panic",
    "runtime.gorecover": "gorecover",
    "runtime.recovery": "recovery",
    "runtime.fatalpanic": "fatalpanic",
    "runtime.throw": "throw",
    "runtime.fatal": "throw",
    "runtime.exit": "exit",
}
# Roles of breakpoints that last one hit.
TEMPORARY_ROLES = ("recover-ret", "resume")
# Stops that are not ours and not worth ending on (Go's own signals pass through).
QUIET_SIGNALS = ("SIGURG", "SIGPIPE", "SIGCHLD", "SIGWINCH", "SIGPROF")
FATAL_SIGNALS = ("SIGABRT", "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGKILL", "SIGTRAP", "SIGQUIT")
# CONTRACT.md: the events of `panic replay`.
EVENTS = ("panic", "repanic", "defer", "recovered", "fatal", "exit")


@dataclass(frozen=True)
class Stop:
    """The program stopped: at ``pc`` on thread ``tid``, for ``signal`` (None: a breakpoint)."""

    pc: int
    tid: int
    signal: Optional[str]


@dataclass(frozen=True)
class Exited:
    """The program is gone: its exit status, or the signal that killed it."""

    code: Optional[int]
    signal: Optional[str]

    @property
    def value(self) -> Any:
        if self.code is not None:
            return self.code
        return f"signal {self.signal}" if self.signal is not None else None


@dataclass(frozen=True)
class ReplayEvent:
    """One step of the panic path, as `panic replay` reports it."""

    event: str
    function: Optional[str]
    value: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event, "function": self.function, "value": self.value, **self.extra}

    def text(self) -> str:
        value = self.value
        shown = "" if value is None else (value if isinstance(value, str) else json.dumps(value))
        goroutine = self.extra.get("goroutine")
        where = f" (goroutine {goroutine})" if goroutine is not None else ""
        frame = self.extra.get("frame")
        tail = f"  deferred by {frame}" if frame else ""
        line = f"{self.event:<9} {self.function or '-'}{tail}{where}" + (f"  {shown}" if shown != "" else "")
        if "decoded" in self.extra:
            line += "  " + json.dumps(self.extra["decoded"], ensure_ascii=False)
        return line


class ReplayDebugger(Protocol):
    """What the replay needs from a debugger. Errors are godbg errors (TargetError…)."""

    def set_breakpoint(self, address: int) -> None: ...

    def clear_breakpoint(self, address: int) -> None: ...

    def remove_all(self) -> None:
        """Remove every breakpoint set_breakpoint made (best effort, never raises)."""

    def cont(self) -> Union[Stop, Exited]: ...

    def current(self) -> Optional[Stop]:
        """Where the program stands before the replay continues it."""

    def register(self, name: str) -> int:
        """A register of the thread of the last stop, by the engine's name (rax, x0…)."""

    def write(self, line: str, stderr: bool = False) -> None: ...


class Replay:
    def __init__(self, target: Target, debugger: ReplayDebugger, json_lines: bool, max_events: int) -> None:
        self.target = target
        self.dbg = debugger
        self.json = json_lines
        self.max_events = max(1, max_events)
        self.events: list[ReplayEvent] = []
        self.breakpoints: dict[int, str] = {}  # address -> role
        self.defers: dict[int, panics.DeferRecord] = {}  # entry pc -> the deferred call
        # (g, position from the oldest) of the panics already reported recovered: the
        # records themselves move when the goroutine's stack is copied.
        self.recovered: set[tuple[int, int]] = set()
        # Breakpoints at a function's entry hit twice when its prologue grows the stack
        # (morestack restarts it): the state at the last event tells a repeat.
        self.last_state: Optional[tuple[Any, ...]] = None
        self.done = False
        # Where the program stood when the replay began: Go's async preemption can move
        # that goroutine to another thread before it leaves the instruction, and the
        # user's breakpoint there then fires again. That is not a new stop.
        self.start: Optional[tuple[int, Optional[int]]] = None

    # --- breakpoints -------------------------------------------------------------------

    def _break(self, address: int, role: str) -> None:
        if address in self.breakpoints:
            return
        self.dbg.set_breakpoint(address)
        self.breakpoints[address] = role

    def install(self) -> None:
        tab = self.target.binary.pclntab
        if tab.func_by_name(panics.GOPANIC) is None:
            raise TargetError("no runtime.gopanic in this binary: not a Go program?")
        for name, role in FIXED.items():
            f = tab.func_by_name(name)
            if f is not None:
                self._break(f.entry, role)
        self._watch_defers()

    def _watch_defers(self, g: Optional[int] = None) -> None:
        """Break on the entry of every deferred call still to run in the panicking (or
        given) goroutine: its start is the next step of the panic path."""
        goroutines = [g] if g else self._panicking()
        for gp in goroutines:
            for entry, d in panics.pending_defer_entries(self.target, gp).items():
                self.defers.setdefault(entry, d)
                self._break(entry, "defer")

    def _panicking(self) -> list[int]:
        g, _m, _fatal = panics.find_panicking(self.target)
        return [g] if g else []

    # --- events --------------------------------------------------------------------------

    def emit(self, event: str, function: Optional[str], value: Any = None, **extra: Any) -> None:
        record = ReplayEvent(event, function, value, extra)
        self.events.append(record)
        self.dbg.write(json.dumps(record.to_json(), ensure_ascii=False) if self.json else record.text())
        if len(self.events) >= self.max_events:
            self.note(f"stopping after {self.max_events} events (--max-events)")
            self.done = True

    def note(self, text: str) -> None:
        # With --json stdout carries events only: notes go to stderr.
        if self.json:
            self.dbg.write(f"godbg: {text}", stderr=True)
        else:
            self.dbg.write(f"-- {text}")

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> None:
        here = self.dbg.current()
        if here is not None:
            self.start = (here.pc, panics.goroutine_of_thread(self.target, here.tid))
        self.install()
        for _ in range(self.max_events * 4 + 16):
            if self.done:
                return
            stop = self.dbg.cont()
            self.target.invalidate()  # the program ran
            if isinstance(stop, Exited):
                self.emit("exit", None, stop.value)
                return
            self.handle(stop)

    def handle(self, stop: Stop) -> None:
        target = self.target
        role = self.breakpoints.get(stop.pc)
        if role is None:
            if stop.signal in QUIET_SIGNALS:
                return
            if self.start is not None and (stop.pc, panics.goroutine_of_thread(target, stop.tid)) == self.start:
                return
            if stop.signal in FATAL_SIGNALS and stop.signal != "SIGTRAP":
                self.emit("exit", None, stop.signal)
            else:
                self.note(f"stopped at {stop.pc:#x} ({stop.signal or 'not a godbg breakpoint'}): replay ends here")
            self.done = True
            return
        if role in TEMPORARY_ROLES:
            del self.breakpoints[stop.pc]
            self.dbg.clear_breakpoint(stop.pc)
        g = panics.goroutine_of_thread(target, stop.tid)
        getattr(self, "on_" + role.replace("-", "_"))(stop, g)

    def _repeat(self, stop: Stop, g: Optional[int]) -> bool:
        """True when this stop is the same function entry again with nothing changed."""
        target = self.target
        state: tuple[Any, ...] = (stop.pc, g)
        if g:
            lay = layout(target, "runtime.g")
            state += (target.memory.ptr(g + lay.off("_panic")), target.memory.ptr(g + lay.off("_defer")))
            chain = panics.panic_chain(target, g)
            state += (len(chain), tuple(p.recovered for p in chain))
        # A deferred call takes no arguments (the compiler wraps them in a closure), so
        # its registers say nothing: they differ when the goroutine, preempted in the
        # prologue, is resumed at the entry by gogo. Two real calls of the same function
        # differ in g._defer (a record is unlinked before its call) or in the panics.
        if self.breakpoints.get(stop.pc) == "panic":
            state += (self._args_words(),)
        repeat = state == self.last_state
        self.last_state = state
        return repeat

    def on_panic(self, stop: Stop, g: Optional[int]) -> None:
        if self._repeat(stop, g):
            return
        target = self.target
        decoded, text, tname = self._args_eface()
        event = "panic"
        if g:
            chain = panics.panic_chain(target, g)
            self._report_recovered(g, chain)
            if chain and chain[-1].recovered and not chain[-1].goexit:
                event = "repanic"
        extra: dict[str, Any] = {"type": tname, "goroutine": self._goid(g)}
        if isinstance(decoded, (dict, list)):
            extra["decoded"] = decoded
        self.emit(event, panics.user_function(target, g) if g else None, text, **extra)
        if g:
            self._watch_defers(g)

    def on_defer(self, stop: Stop, g: Optional[int]) -> None:
        target = self.target
        caller = self._caller_pc()
        name = panics._func_name(target, caller) if caller else None
        if name not in (panics.GOPANIC, panics.DEFERRETURN):
            return  # an ordinary call of the same function, or a defer run by a normal return
        if name == panics.DEFERRETURN and g and not panics._g_panic(target, g):
            return
        if self._repeat(stop, g):
            return
        d = self.defers.get(stop.pc)
        function = panics._func_name(target, stop.pc)
        self.emit("defer", function, None, frame=d.frame if d else None, goroutine=self._goid(g))
        if g:
            self._watch_defers(g)

    def on_gorecover(self, stop: Stop, g: Optional[int]) -> None:
        ret = self._caller_pc()
        if ret:
            self._break(ret, "recover-ret")

    def on_recover_ret(self, stop: Stop, g: Optional[int]) -> None:
        if g:
            self._report_recovered(g, panics.panic_chain(self.target, g))

    def on_recovery(self, stop: Stop, g: Optional[int]) -> None:
        if not g:
            return
        chain = panics.panic_chain(self.target, g)
        self._report_recovered(g, chain)
        if not chain:
            return
        top = chain[-1]
        # recovery() unlinks every panic that started below the recovering frame.
        remaining = [p for p in chain[:-1] if p.start_sp >= top.sp and not p.goexit]
        if remaining:
            return
        if top.retpc:
            self._break(top.retpc, "resume")

    def on_resume(self, stop: Stop, g: Optional[int]) -> None:
        tab = self.target.binary.pclntab
        f = tab.find_func(stop.pc)
        where = ""
        if f is not None:
            file, line = tab.pcline(f, stop.pc)
            where = f"{f.name} ({file}:{line})"
        self.note(f"recovered: the program runs on in {where or hex(stop.pc)}; stopped there")
        self.done = True

    def on_fatalpanic(self, stop: Stop, g: Optional[int]) -> None:
        target = self.target
        chain = panics.panic_chain(target, g) if g else []
        printed = [p for p in chain if p.printed]
        value = printed[-1].text if printed else None
        self.emit("fatal", panics.user_function(target, g) if g else None, value,
                  panics=[p.text for p in printed], goroutine=self._goid(g))

    def on_throw(self, stop: Stop, g: Optional[int]) -> None:
        target = self.target
        regs = ARG_REGS[target.goarch]
        try:
            data, length = self.dbg.register(regs[0]), self.dbg.register(regs[1])
            message: Optional[str] = target.memory.string_at(data, length, MAX_STRING)
        except GodbgError:
            message = None
        caller = self._caller_pc()
        self.emit("fatal", panics._func_name(target, caller) if caller else None, message,
                  goroutine=self._goid(g))

    def on_exit(self, stop: Stop, g: Optional[int]) -> None:
        target = self.target
        f = target.binary.pclntab.find_func(stop.pc)
        if f is not None and f.is_asm:
            # runtime.exit is assembly (ABI0): its int32 argument is on the stack, above
            # the return address (amd64) or the saved LR slot (arm64).
            code = target.memory.u32(self.dbg.register(SP_REG[target.goarch]) + PTR_SIZE)
        else:
            code = self.dbg.register(ARG_REGS[target.goarch][0]) & U32_MASK
        self.emit("exit", None, code)
        self.done = True

    # --- helpers ---------------------------------------------------------------------------

    def _report_recovered(self, g: int, chain: list[panics.PanicRecord]) -> None:
        self.recovered = {(gg, i) for gg, i in self.recovered if gg != g or i < len(chain)}
        for i, p in enumerate(chain):
            if p.recovered and (g, i) not in self.recovered:
                self.recovered.add((g, i))
                self.emit("recovered", panics.user_function(self.target, g), p.text, type=p.type,
                          goroutine=self._goid(g))

    def _args_words(self) -> Optional[tuple[int, int]]:
        regs = ARG_REGS[self.target.goarch]
        try:
            return self.dbg.register(regs[0]), self.dbg.register(regs[1])
        except GodbgError:
            return None

    def _args_eface(self) -> tuple[Any, str, Optional[str]]:
        words = self._args_words()
        if words is None:
            return None, "<unreadable>", None
        return panics.describe_eface(self.target, words[0], words[1])

    def _caller_pc(self) -> Optional[int]:
        """The return address at a function's entry: [SP] on amd64, the link register on arm64."""
        target = self.target
        try:
            if target.goarch in LINK_REG:
                return self.dbg.register(LINK_REG[target.goarch])
            return target.memory.ptr(self.dbg.register("rsp"))
        except (GodbgError, FaultError):
            return None

    def _goid(self, g: Optional[int]) -> Optional[int]:
        if not g:
            return None
        try:
            from godbg.runtime.g import read_g

            return read_g(self.target, g).goid
        except GodbgError:
            return None


def replay(target: Target, debugger: ReplayDebugger, json_lines: bool, max_events: int) -> list[dict[str, Any]]:
    """Run the replay to its end, breakpoints removed whatever happens; the events."""
    if target.kind != "live":
        raise TargetError("panic replay needs a live program")
    r = Replay(target, debugger, json_lines, max_events)
    try:
        r.run()
    finally:
        debugger.remove_all()
    return [e.to_json() for e in r.events]
