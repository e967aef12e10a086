"""`go panic replay`: run on from where the program is stopped and narrate its panic
path as it happens: each panic (or re-panic after a recover), each deferred call as it
starts, each recover, and the end (a fatal panic or throw, the exit or the fatal signal,
or the recovered program running on).

Only gdb's own internal breakpoints are used, all removed afterwards, even on error or
Ctrl-C; no register or memory of the inferior is ever written. Arguments are read from
registers at function entry (ABIInternal: amd64 RAX, RBX…; arm64 X0, X1…)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

import gdb

from godbg.backends.gdb.gdbtarget import SESSION
from godbg.commands import panic_cmd
from godbg.errors import FaultError, GodbgError, TargetError
from godbg.runtime import panics
from godbg.runtime.layouts import layout
from godbg.runtime.runtime_errors import MAX_STRING
from godbg.target.target import Target

# The first two integer argument registers of Go's register ABI.
ARG_REGS = {"amd64": ("rax", "rbx"), "arm64": ("x0", "x1")}
LINK_REG = {"arm64": "x30"}
SP_REG = {"amd64": "rsp", "arm64": "sp"}
PTR_SIZE = 8

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
# Stops that are not ours and not worth ending on (Go's own signals pass through).
QUIET_SIGNALS = ("SIGURG", "SIGPIPE", "SIGCHLD", "SIGWINCH", "SIGPROF")
FATAL_SIGNALS = ("SIGABRT", "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGKILL", "SIGTRAP", "SIGQUIT")


@dataclass
class Stop:
    pc: int
    tid: int
    signal: str | None


class Replay:
    def __init__(self, args: argparse.Namespace) -> None:
        self.json = bool(getattr(args, "json", False))
        self.max_events = max(1, int(getattr(args, "max_events", panic_cmd.DEFAULT_MAX_EVENTS)))
        self.events: list[dict[str, Any]] = []
        self.breakpoints: dict[int, tuple[Any, str]] = {}  # address -> (gdb.Breakpoint, role)
        self.defers: dict[int, panics.Defer] = {}  # entry pc -> the deferred call
        # (g, position from the oldest) of the panics already reported recovered: the
        # records themselves move when the goroutine's stack is copied.
        self.recovered: set[tuple[int, int]] = set()
        # Breakpoints at a function's entry hit twice when its prologue grows the stack
        # (morestack restarts it): the state at the last event tells a repeat.
        self.last_state: tuple[Any, ...] | None = None
        self.done = False
        # Where the program stood when the replay began: Go's async preemption can move
        # that goroutine to another thread before it leaves the instruction, and the
        # user's breakpoint there then fires again. That is not a new stop.
        self.start: tuple[int, int | None] | None = None

    # --- breakpoints -------------------------------------------------------------------

    def _break(self, address: int, role: str, temporary: bool = False) -> None:
        if address in self.breakpoints:
            return
        bp = gdb.Breakpoint(f"*{address:#x}", gdb.BP_BREAKPOINT, internal=True, temporary=temporary)
        bp.silent = True
        self.breakpoints[address] = (bp, role)

    def install(self, target: Target) -> None:
        tab = target.binary.pclntab
        if tab.func_by_name(panics.GOPANIC) is None:
            raise TargetError("no runtime.gopanic in this binary: not a Go program?")
        for name, role in FIXED.items():
            f = tab.func_by_name(name)
            if f is not None:
                self._break(f.entry, role)
        self._watch_defers(target)

    def remove(self) -> None:
        for bp, _role in self.breakpoints.values():
            try:
                if bp.is_valid():
                    bp.delete()
            except (gdb.error, RuntimeError):
                pass
        self.breakpoints.clear()

    def _watch_defers(self, target: Target, g: int | None = None) -> None:
        """Break on the entry of every deferred call still to run in the panicking (or
        given) goroutine: its start is the next step of the panic path."""
        goroutines = [g] if g else self._panicking(target)
        for gp in goroutines:
            for entry, d in panics.pending_defer_entries(target, gp).items():
                self.defers.setdefault(entry, d)
                self._break(entry, "defer")

    @staticmethod
    def _panicking(target: Target) -> list[int]:
        g, _m, _fatal = panics.find_panicking(target)
        return [g] if g else []

    # --- events --------------------------------------------------------------------------

    def emit(self, event: str, function: str | None, value: Any = None, **extra: Any) -> None:
        record = {"event": event, "function": function, "value": value, **extra}
        self.events.append(record)
        if self.json:
            line = json.dumps(record, ensure_ascii=False)
        else:
            shown = "" if value is None else (value if isinstance(value, str) else json.dumps(value))
            where = f" (goroutine {extra['goroutine']})" if extra.get("goroutine") is not None else ""
            tail = f"  deferred by {extra['frame']}" if extra.get("frame") else ""
            line = f"{event:<9} {function or '-'}{tail}{where}" + (f"  {shown}" if shown != "" else "")
            if "decoded" in extra:
                line += "  " + json.dumps(extra["decoded"], ensure_ascii=False)
        gdb.write(line + "\n")
        gdb.flush()
        if len(self.events) >= self.max_events:
            self.note(f"stopping after {self.max_events} events (--max-events)")
            self.done = True

    def note(self, text: str) -> None:
        # With --json stdout carries events only: notes go to stderr.
        if self.json:
            gdb.write(f"godbg: {text}\n", gdb.STDERR)
        else:
            gdb.write(f"-- {text}\n")

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> None:
        target = SESSION.target()
        th = gdb.selected_thread()
        if th is not None:
            tid = th.ptid[1] or th.ptid[0]
            self.start = (gdb.newest_frame().pc(), panics.goroutine_of_thread(target, tid))
        self.install(target)
        for _ in range(self.max_events * 4 + 16):
            if self.done:
                return
            stop = self._continue()
            if stop is None:
                return
            self.handle(stop)

    def _continue(self) -> Stop | None:
        try:
            gdb.execute("continue", to_string=True)
        except gdb.error as e:
            raise TargetError(f"cannot continue the program: {e}") from None
        inf = gdb.selected_inferior()
        if inf.pid == 0 or not inf.threads():
            code = _convenience("_exitcode")
            sig = _convenience("_exitsignal")
            value: Any = code if code is not None else (f"signal {sig}" if sig is not None else None)
            self.emit("exit", None, value)
            return None
        frame = gdb.newest_frame()
        th = gdb.selected_thread()
        return Stop(frame.pc(), th.ptid[1] or th.ptid[0], _stop_signal())

    def handle(self, stop: Stop) -> None:
        target = SESSION.target()
        entry = self.breakpoints.get(stop.pc)
        if entry is None:
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
        role = entry[1]
        g = panics.goroutine_of_thread(target, stop.tid)
        getattr(self, "on_" + role.replace("-", "_"))(target, stop, g)

    def _repeat(self, target: Target, stop: Stop, g: int | None) -> bool:
        """True when this stop is the same function entry again with nothing changed."""
        state: tuple[Any, ...] = (stop.pc, g)
        if g:
            lay = layout(target, "runtime.g")
            state += (target.memory.ptr(g + lay.off("_panic")), target.memory.ptr(g + lay.off("_defer")))
            chain = panics.panic_chain(target, g)
            state += (len(chain), tuple(p.recovered for p in chain))
        if stop.pc in self.defers or self.breakpoints.get(stop.pc, (None, ""))[1] == "panic":
            state += (self._args_words(target),)
        repeat = state == self.last_state
        self.last_state = state
        return repeat

    def on_panic(self, target: Target, stop: Stop, g: int | None) -> None:
        if self._repeat(target, stop, g):
            return
        decoded, text, tname = self._args_eface(target)
        event = "panic"
        if g:
            chain = panics.panic_chain(target, g)
            self._report_recovered(target, g, chain)
            if chain and chain[-1].recovered and not chain[-1].goexit:
                event = "repanic"
        goid = _goid(target, g)
        extra: dict[str, Any] = {"type": tname, "goroutine": goid}
        if isinstance(decoded, (dict, list)):
            extra["decoded"] = decoded
        self.emit(event, panics.user_function(target, g) if g else None, text, **extra)
        if g:
            self._watch_defers(target, g)

    def on_defer(self, target: Target, stop: Stop, g: int | None) -> None:
        caller = self._caller_pc(target)
        name = panics._func_name(target, caller) if caller else None
        if name not in (panics.GOPANIC, panics.DEFERRETURN):
            return  # an ordinary call of the same function, or a defer run by a normal return
        if name == panics.DEFERRETURN and g and not panics._g_panic(target, g):
            return
        if self._repeat(target, stop, g):
            return
        d = self.defers.get(stop.pc)
        function = panics._func_name(target, stop.pc)
        self.emit("defer", function, None, frame=d.frame if d else None, goroutine=_goid(target, g))
        if g:
            self._watch_defers(target, g)

    def on_gorecover(self, target: Target, stop: Stop, g: int | None) -> None:
        ret = self._caller_pc(target)
        if ret:
            self._break(ret, "recover-ret", temporary=True)

    def on_recover_ret(self, target: Target, stop: Stop, g: int | None) -> None:
        self.breakpoints.pop(stop.pc, None)  # gdb deleted the temporary breakpoint
        if g:
            self._report_recovered(target, g, panics.panic_chain(target, g))

    def on_recovery(self, target: Target, stop: Stop, g: int | None) -> None:
        if not g:
            return
        chain = panics.panic_chain(target, g)
        self._report_recovered(target, g, chain)
        if not chain:
            return
        top = chain[-1]
        # recovery() unlinks every panic that started below the recovering frame.
        remaining = [p for p in chain[:-1] if p.start_sp >= top.sp and not p.goexit]
        if remaining:
            return
        if top.retpc:
            self._break(top.retpc, "resume", temporary=True)

    def on_resume(self, target: Target, stop: Stop, g: int | None) -> None:
        self.breakpoints.pop(stop.pc, None)
        f = target.binary.pclntab.find_func(stop.pc)
        where = ""
        if f is not None:
            file, line = target.binary.pclntab.pcline(f, stop.pc)
            where = f"{f.name} ({file}:{line})"
        self.note(f"recovered: the program runs on in {where or hex(stop.pc)}; stopped there")
        self.done = True

    def on_fatalpanic(self, target: Target, stop: Stop, g: int | None) -> None:
        chain = panics.panic_chain(target, g) if g else []
        printed = [p for p in chain if p.printed]
        value = printed[-1].text if printed else None
        self.emit("fatal", panics.user_function(target, g) if g else None, value,
                  panics=[p.text for p in printed], goroutine=_goid(target, g))

    def on_throw(self, target: Target, stop: Stop, g: int | None) -> None:
        regs = ARG_REGS[target.goarch]
        try:
            data, length = _register(regs[0]), _register(regs[1])
            message = target.memory.string_at(data, length, MAX_STRING)
        except (FaultError, gdb.error):
            message = None
        caller = self._caller_pc(target)
        self.emit("fatal", panics._func_name(target, caller) if caller else None, message,
                  goroutine=_goid(target, g))

    def on_exit(self, target: Target, stop: Stop, g: int | None) -> None:
        f = target.binary.pclntab.find_func(stop.pc)
        if f is not None and f.is_asm:
            # runtime.exit is assembly (ABI0): its int32 argument is on the stack, above
            # the return address (amd64) or the saved LR slot (arm64).
            code = target.memory.u32(_register(SP_REG[target.goarch]) + PTR_SIZE)
        else:
            code = _register(ARG_REGS[target.goarch][0]) & 0xFFFFFFFF
        self.emit("exit", None, code)
        self.done = True

    # --- helpers ---------------------------------------------------------------------------

    def _report_recovered(self, target: Target, g: int, chain: list[panics.Panic]) -> None:
        self.recovered = {(gg, i) for gg, i in self.recovered if gg != g or i < len(chain)}
        for i, p in enumerate(chain):
            if p.recovered and (g, i) not in self.recovered:
                self.recovered.add((g, i))
                self.emit("recovered", panics.user_function(target, g), p.text, type=p.type,
                          goroutine=_goid(target, g))

    def _args_words(self, target: Target) -> tuple[int, int] | None:
        regs = ARG_REGS[target.goarch]
        try:
            return _register(regs[0]), _register(regs[1])
        except gdb.error:
            return None

    def _args_eface(self, target: Target) -> tuple[Any, str, str | None]:
        words = self._args_words(target)
        if words is None:
            return None, "<unreadable>", None
        return panics.describe_eface(target, words[0], words[1])

    def _caller_pc(self, target: Target) -> int | None:
        """The return address at a function's entry: [SP] on amd64, the link register on arm64."""
        try:
            if target.goarch in LINK_REG:
                return _register(LINK_REG[target.goarch])
            return target.memory.ptr(_register("rsp"))
        except (gdb.error, FaultError):
            return None


def _register(name: str) -> int:
    return int(gdb.newest_frame().read_register(name)) & 0xFFFFFFFFFFFFFFFF


def _convenience(name: str) -> int | None:
    try:
        v = gdb.convenience_variable(name)
    except (gdb.error, AttributeError):
        return None
    return int(v) if v is not None else None


def _stop_signal() -> str | None:
    try:
        info = gdb.parse_and_eval("$_siginfo")
        signo = int(info["si_signo"])
    except gdb.error:
        return None
    if not signo:
        return None
    import signal as _signal

    try:
        return _signal.Signals(signo).name
    except ValueError:
        return f"signal {signo}"


def _goid(target: Target, g: int | None) -> int | None:
    if not g:
        return None
    try:
        from godbg.runtime.stacks import read_g

        return read_g(target, g).goid
    except GodbgError:
        return None


def run_replay(target: Target, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The replay hook `panic replay` calls in gdb."""
    if target.kind != "live":
        raise TargetError("panic replay needs a live program")
    r = Replay(args)
    try:
        r.run()
    finally:
        r.remove()
    return r.events


def register() -> None:
    """Offer the replay to `panic replay` (called by the gdb backend's setup)."""
    panic_cmd.set_replay_hook(run_replay)
