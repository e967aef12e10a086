"""The replay's delve adapter without delve: a stand-in server answering the JSON-RPC
calls the adapter makes (the shapes of delve v1.27.1's DebuggerState and Breakpoint).
Stops at delve's own breakpoints are passed over, exits become Exited (minus a signal
number: killed by it), a breakpoint already there is used and left, and every breakpoint
the replay made is cleared; plus the shared event model's two renderings."""

from __future__ import annotations

from typing import Any

import pytest

from godbg.backends.delve.client import DelveError
from godbg.backends.delve.replay import MAX_SKIPPED_STOPS, DelveReplayDebugger
from godbg.errors import TargetError
from godbg.runtime.panic_replay import Exited, ReplayEvent, Stop


class FakeServer:
    def __init__(self, states: list[dict[str, Any]], existing: tuple[int, ...] = ()) -> None:
        self.states = list(states)
        self.existing = set(existing)
        self.breakpoints: dict[int, int] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.calls.append((method, params))
        if method == "CreateBreakpoint":
            addr = params["Breakpoint"]["addr"]
            if addr in self.existing or addr in self.breakpoints.values():
                raise DelveError(f"Breakpoint exists at main.go:1 at {addr:x}")
            ident = len(self.calls)
            self.breakpoints[ident] = addr
            return {"Breakpoint": {"id": ident, "addr": addr}}
        if method == "ClearBreakpoint":
            del self.breakpoints[params["Id"]]
            return {}
        if method == "Command":
            return {"State": self.states.pop(0)}
        if method == "ListRegisters":
            return {"Regs": [{"Name": "Rax", "Value": "0x2a"}, {"Name": "Rsp", "Value": "0x1000"}]}
        raise AssertionError(method)

    def state(self, nonblocking: bool = False) -> dict[str, Any]:
        return self.states[0]


def at(pc: int, bp_id: int | None = None, tid: int = 7) -> dict[str, Any]:
    thread: dict[str, Any] = {"id": tid, "pc": pc}
    if bp_id is not None:
        thread["breakPoint"] = {"id": bp_id}
    return {"currentThread": thread}


def test_passes_over_delves_own_breakpoints():
    server = FakeServer([at(0x500, bp_id=-1), at(0x600, bp_id=-2), at(0x400, bp_id=1)])
    dbg = DelveReplayDebugger(server)  # type: ignore[arg-type]
    dbg.set_breakpoint(0x400)
    assert dbg.cont() == Stop(0x400, 7, None)
    assert dbg.register("rax") == 42 and dbg.register("rsp") == 0x1000


def test_a_users_breakpoint_stop_is_reported():
    server = FakeServer([at(0x700, bp_id=3)])
    dbg = DelveReplayDebugger(server)  # type: ignore[arg-type]
    assert dbg.cont() == Stop(0x700, 7, None)


def test_exits():
    server = FakeServer([{"exited": True, "exitStatus": 2}, {"exited": True, "exitStatus": -6}])
    dbg = DelveReplayDebugger(server)  # type: ignore[arg-type]
    assert dbg.cont() == Exited(2, None)
    killed = dbg.cont()
    assert killed == Exited(None, "6") and killed.value == "signal 6"  # as gdb's $_exitsignal


def test_endless_own_stops_end():
    server = FakeServer([at(0x500, bp_id=-1)] * (MAX_SKIPPED_STOPS + 1))
    with pytest.raises(TargetError, match="its own breakpoints"):
        DelveReplayDebugger(server).cont()  # type: ignore[arg-type]


def test_existing_breakpoints_are_used_and_left():
    server = FakeServer([at(0x800, bp_id=1)], existing=(0x800,))
    dbg = DelveReplayDebugger(server)  # type: ignore[arg-type]
    dbg.set_breakpoint(0x800)
    dbg.set_breakpoint(0x900)
    assert dbg.cont() == Stop(0x800, 7, None)
    dbg.remove_all()
    assert server.breakpoints == {}  # ours cleared; the one that was there was never ours
    assert [c for c in server.calls if c[0] == "ClearBreakpoint"] == [("ClearBreakpoint", {"Id": 2})]


def test_event_renderings():
    e = ReplayEvent("defer", "main.f.func1", None, {"frame": "main.f", "goroutine": 1})
    assert e.to_json() == {"event": "defer", "function": "main.f.func1", "value": None, "frame": "main.f",
                           "goroutine": 1}
    assert e.text() == "defer     main.f.func1  deferred by main.f (goroutine 1)"
    assert ReplayEvent("exit", None, 2).text() == "exit      -  2"
