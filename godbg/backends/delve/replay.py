"""`panic replay` through delve (`godbg dlv exec|attach`): the shared replay
(godbg/runtime/panic_replay.py) over delve's JSON-RPC API — breakpoints made with
``CreateBreakpoint`` at the runtime's panic and defer functions and cleared with
``ClearBreakpoint`` at the end, ``Command continue``, ``ListRegisters`` of the stopped
thread. No register or memory of the program is ever written.

Facts from delve v1.27.1 (service/api/types.go, service/debugger/debugger.go,
pkg/proc/native/proc_linux.go):
- ``Command{Name: continue}`` answers a ``DebuggerState``: ``currentThread`` {``id``,
  ``pc``, ``breakPoint`` {``id``}}; a process that ended has ``exited`` and
  ``exitStatus`` (minus the signal number when a signal killed it).
- delve has breakpoints of its own with negative ids (``unrecovered-panic`` inside
  ``runtime.fatalpanic``, ``runtime-fatal-throw``): the replay goes on past them.
- delve passes signals on to the program without stopping."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Optional, Union

from godbg.backends.delve.client import DelveError, DelveServer, RpcConnection
from godbg.backends.delve.dlvtarget import parse_registers
from godbg.commands import panic_cmd
from godbg.errors import TargetError
from godbg.program.target import Target
from godbg.runtime import panic_replay
from godbg.runtime.panic_replay import Exited, Stop

# Stops at delve's own breakpoints skipped in a row before the replay gives up.
MAX_SKIPPED_STOPS = 64
HALT_TIMEOUT = 10.0


class DelveReplayDebugger:
    """panic_replay.ReplayDebugger over a headless delve."""

    def __init__(self, server: DelveServer) -> None:
        self.server = server
        self.breakpoints: dict[int, int] = {}  # address -> delve breakpoint id
        self.shared: set[int] = set()  # addresses where a breakpoint was there already
        self._tid: Optional[int] = None
        self._regs: Optional[dict[str, int]] = None

    def set_breakpoint(self, address: int) -> None:
        try:
            bp = self.server.call("CreateBreakpoint", Breakpoint={"addr": address}).get("Breakpoint") or {}
        except DelveError as e:
            if "exists" in str(e):  # the user's (or delve's) own: stops there are ours too, kept at the end
                self.shared.add(address)
                return
            raise TargetError(f"delve cannot set a breakpoint at {address:#x}: {e}") from None
        self.breakpoints[address] = int(bp.get("id", 0))

    def clear_breakpoint(self, address: int) -> None:
        self.shared.discard(address)
        ident = self.breakpoints.pop(address, None)
        if ident is None:
            return
        try:
            self.server.call("ClearBreakpoint", Id=ident)
        except TargetError:
            pass  # the program is gone, and its breakpoints with it

    def remove_all(self) -> None:
        for address in list(self.breakpoints):
            self.clear_breakpoint(address)
        self.shared.clear()

    def current(self) -> Optional[Stop]:
        try:
            state = self.server.state()
        except DelveError:
            return None
        return self._stop_of(state)

    def cont(self) -> Union[Stop, Exited]:
        for _ in range(MAX_SKIPPED_STOPS):
            self._regs = None
            try:
                state = self.server.call("Command", name="continue").get("State") or {}
            except DelveError as e:
                raise TargetError(f"cannot continue the program: {e}") from None
            except KeyboardInterrupt:
                self._halt()  # so that the breakpoints can be cleared
                raise
            if state.get("exited"):
                status = int(state.get("exitStatus", 0))
                if status < 0:  # as gdb's $_exitsignal: the number
                    return Exited(None, str(-status))
                return Exited(status, None)
            stop = self._stop_of(state)
            if stop is None:
                raise TargetError("delve stopped the program on no thread")
            bp = (state.get("currentThread") or {}).get("breakPoint") or {}
            ours = stop.pc in self.breakpoints or stop.pc in self.shared
            if not ours and bp and int(bp.get("id", 0)) < 0:
                continue  # delve's own unrecovered-panic / fatal-throw breakpoint
            return stop
        raise TargetError(f"delve stopped {MAX_SKIPPED_STOPS} times at its own breakpoints")

    def _halt(self) -> None:
        """Stop the running program (Ctrl-C during continue). Through a connection of its
        own: the replay's connection still owes continue's reply, which comes only once the
        program stops, and is read (and dropped) before its next call."""
        if self.server.address is None:
            return
        try:
            halter = RpcConnection(*self.server.address, timeout=HALT_TIMEOUT)
        except TargetError:
            return
        try:
            halter.call("Command", name="halt")
        except TargetError:
            pass
        finally:
            halter.close()

    def _stop_of(self, state: dict[str, Any]) -> Optional[Stop]:
        th = state.get("currentThread") or {}
        if not th:
            return None
        self._tid = int(th["id"])
        # A breakpoint stop (or a halt); delve reports no signal for either.
        return Stop(int(th.get("pc", 0)), self._tid, None)

    def register(self, name: str) -> int:
        if self._regs is None:
            if self._tid is None:
                raise TargetError("no stopped thread")
            regs = self.server.call("ListRegisters", ThreadID=self._tid).get("Regs") or []
            self._regs = parse_registers(regs)
        value = self._regs.get(name)
        if value is None:
            raise TargetError(f"delve reports no register {name}")
        return value

    def write(self, line: str, stderr: bool = False) -> None:
        out = sys.stderr if stderr else sys.stdout
        out.write(line + "\n")
        out.flush()


def replay_hook(server: DelveServer) -> panic_cmd.ReplayHook:
    """The `panic replay` of targets on this server."""

    def run(target: Target, args: argparse.Namespace) -> list[dict[str, Any]]:
        return panic_replay.replay(target, DelveReplayDebugger(server), bool(getattr(args, "json", False)),
                                   int(getattr(args, "max_events", panic_cmd.DEFAULT_MAX_EVENTS)))

    return run
