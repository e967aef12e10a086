"""`go panic replay` in gdb: the shared replay (godbg/runtime/panic_replay.py) over
gdb's own internal breakpoints, all removed afterwards, even on error or Ctrl-C; no
register or memory of the inferior is ever written."""

from __future__ import annotations

import argparse
import signal as _signal
from typing import Any, Optional, Union

import gdb

from godbg.commands import panic_cmd
from godbg.errors import TargetError
from godbg.program.target import Target
from godbg.runtime import panic_replay
from godbg.runtime.panic_replay import Exited, Stop


class GdbReplayDebugger:
    """panic_replay.ReplayDebugger over gdb's Python API."""

    def __init__(self) -> None:
        self.breakpoints: dict[int, Any] = {}  # address -> gdb.Breakpoint

    def set_breakpoint(self, address: int) -> None:
        bp = gdb.Breakpoint(f"*{address:#x}", gdb.BP_BREAKPOINT, internal=True)
        bp.silent = True
        self.breakpoints[address] = bp

    def clear_breakpoint(self, address: int) -> None:
        bp = self.breakpoints.pop(address, None)
        try:
            if bp is not None and bp.is_valid():
                bp.delete()
        except (gdb.error, RuntimeError):
            pass

    def remove_all(self) -> None:
        for address in list(self.breakpoints):
            self.clear_breakpoint(address)

    def current(self) -> Optional[Stop]:
        th = gdb.selected_thread()
        if th is None:
            return None
        return Stop(gdb.newest_frame().pc(), th.ptid[1] or th.ptid[0], None)

    def cont(self) -> Union[Stop, Exited]:
        try:
            gdb.execute("continue", to_string=True)
        except gdb.error as e:
            raise TargetError(f"cannot continue the program: {e}") from None
        inf = gdb.selected_inferior()
        if inf.pid == 0 or not inf.threads():
            sig = _convenience("_exitsignal")
            return Exited(_convenience("_exitcode"), str(sig) if sig is not None else None)
        th = gdb.selected_thread()
        return Stop(gdb.newest_frame().pc(), th.ptid[1] or th.ptid[0], _stop_signal())

    def register(self, name: str) -> int:
        try:
            return int(gdb.newest_frame().read_register(name)) & 0xFFFFFFFFFFFFFFFF
        except (gdb.error, ValueError) as e:
            raise TargetError(f"cannot read register {name}: {e}") from None

    def write(self, line: str, stderr: bool = False) -> None:
        if stderr:
            gdb.write(line + "\n", gdb.STDERR)
        else:
            gdb.write(line + "\n")
            gdb.flush()


def _convenience(name: str) -> Optional[int]:
    try:
        v = gdb.convenience_variable(name)
    except (gdb.error, AttributeError):
        return None
    return int(v) if v is not None else None


def _stop_signal() -> Optional[str]:
    try:
        info = gdb.parse_and_eval("$_siginfo")
        signo = int(info["si_signo"])
    except gdb.error:
        return None
    if not signo:
        return None
    try:
        return _signal.Signals(signo).name
    except ValueError:
        return f"signal {signo}"


def run_replay(target: Target, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The replay hook `panic replay` calls in gdb."""
    return panic_replay.replay(target, GdbReplayDebugger(), bool(getattr(args, "json", False)),
                               int(getattr(args, "max_events", panic_cmd.DEFAULT_MAX_EVENTS)))


def register() -> None:
    """Offer the replay to `panic replay` (called by the gdb backend's setup)."""
    panic_cmd.set_replay_hook(run_replay)
