"""gdb script: run a Go program until the signal that kills it, then `gcore` it.

    GODBG_GCORE_DIR=DIR GODBG_GCORE_ARGS='["arg", …]' gdb -nx -q -batch -x gdb_gcore.py BINARY

The program runs with its stdout and stderr in DIR/stdout.txt and DIR/stderr.txt.
Every signal stops it; a signal the program handles (SigCgt in /proc/PID/status:
Go catches SIGSEGV, SIGQUIT, even its first SIGABRT) or ignores is passed on and
the program continues. The first signal that would kill it with the default action
(Go's last SIGABRT, after it reset the handler to SIG_DFL, in GOTRACEBACK=crash
mode) is where the kernel would have dumped the core, so gdb dumps it instead:
DIR/core. Then gdb kills the program, and DIR/gcore.json records the signal and
every stop on the way.

Set GODBG_GCORE_STOP_AT=FUNCTION to dump at a breakpoint instead (the program
must have symbols).

This runs inside gdb's Python (the system's python3), with no access to godbg.
"""

from __future__ import annotations

import json
import os
import shlex
import signal

import gdb  # type: ignore[import-not-found]

# Signals whose default action ends the process with a core dump (signal(7)).
_CORE_SIGNALS = {"SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGSEGV", "SIGSYS",
                 "SIGXCPU", "SIGXFSZ"}
_MAX_STOPS = 1000

_state: dict[str, object] = {}


def _on_stop(event: gdb.StopEvent) -> None:
    if isinstance(event, gdb.SignalEvent):
        _state["signal"] = event.stop_signal
    elif isinstance(event, gdb.BreakpointEvent):
        _state["breakpoint"] = True


def _on_exit(event: gdb.ExitedEvent) -> None:
    _state["exited"] = getattr(event, "exit_code", None)


def _disposition(pid: int, name: str) -> str:
    """"caught", "ignored" or "default" for the signal in the stopped process."""
    signo = getattr(signal, name, None)
    if signo is None:  # a real-time signal gdb names SIG34…: Go catches those
        return "caught"
    masks = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("SigCgt", "SigIgn"):
                masks[key] = int(value.strip(), 16)
    bit = 1 << (int(signo) - 1)
    if masks.get("SigCgt", 0) & bit:
        return "caught"
    if masks.get("SigIgn", 0) & bit:
        return "ignored"
    return "default"


def main() -> None:
    out = os.environ["GODBG_GCORE_DIR"]
    stop_at = os.environ.get("GODBG_GCORE_STOP_AT", "")
    for command in ("set pagination off", "set confirm off", "set width 0", "set auto-load off",
                    "set startup-with-shell on", "set disable-randomization off",
                    # Go preempts goroutines with SIGURG all the time: not worth a stop.
                    "handle SIGURG nostop noprint pass",
                    # the program sees the environment a kernel-core run gives it
                    "unset environment LINES", "unset environment COLUMNS",
                    "unset environment GODBG_GCORE_DIR", "unset environment GODBG_GCORE_ARGS",
                    "unset environment GODBG_GCORE_STOP_AT"):
        gdb.execute(command)
    gdb.events.stop.connect(_on_stop)
    gdb.events.exited.connect(_on_exit)
    if stop_at:
        gdb.execute(f"break {stop_at}")
    args = " ".join(shlex.quote(a) for a in json.loads(os.environ.get("GODBG_GCORE_ARGS") or "[]"))
    stdout, stderr = shlex.quote(os.path.join(out, "stdout.txt")), shlex.quote(os.path.join(out, "stderr.txt"))
    gdb.execute(f"run {args} > {stdout} 2> {stderr}")
    stops: list[dict[str, object]] = []
    for _ in range(_MAX_STOPS):
        if "exited" in _state:
            raise gdb.GdbError(f"the program exited (status {_state['exited']}) without a fatal signal")
        if _state.pop("breakpoint", False):
            stops.append({"breakpoint": stop_at})
            _dump(out, None, stops)
            return
        name = _state.pop("signal", None)
        if name is None:
            raise gdb.GdbError("the program stopped, but not for a signal or the breakpoint")
        pid = gdb.selected_inferior().pid
        disposition = _disposition(pid, str(name))
        stops.append({"signal": name, "disposition": disposition})
        if disposition == "default" and name in _CORE_SIGNALS:
            _dump(out, str(name), stops)
            return
        if disposition == "default":
            raise gdb.GdbError(f"{name} would end the program without a core")
        gdb.execute("continue")  # gdb passes the signal on, the program handles or ignores it
    raise gdb.GdbError(f"no fatal signal after {_MAX_STOPS} stops")


def _dump(out: str, name: str | None, stops: list[dict[str, object]]) -> None:
    thread = gdb.selected_thread()
    gdb.execute(f"gcore {os.path.join(out, 'core')}")
    result = {"signal": name, "stops": stops, "thread": thread.ptid[1] if thread else None}
    gdb.execute("kill")
    with open(os.path.join(out, "gcore.json"), "w") as f:
        json.dump(result, f, indent=2)


main()
