"""A Target backed by headless delve: memory through ``ExamineMemory`` (chunked, under
the engine's page cache), threads and registers through ``ListThreads`` and
``ListRegisters``, symbols and types from the binary itself (the engine reads DWARF and
pclntab on its own). For a core, the signal and the crashing thread come from the core
file's notes: delve's API does not report them."""

from __future__ import annotations

import os
from typing import Any

from godbg.backends.core.corefile import CoreFile, check_core_matches, relocate_for_core
from godbg.backends.delve.client import DelveError, DelveServer
from godbg.errors import FaultError, TargetError
from godbg.program.binary import GoBinary
from godbg.program.loadbias import apply_bias, process_at_entry
from godbg.program.memory import CachedMemory
from godbg.program.target import SignalInfo, Target, Thread
from godbg.runtime.globals_stripped import lookup_for

# delve's register names, lower-cased, that differ from the ones the engine uses
# (gdb's and the core reader's).
_REG_ALIASES = {"rflags": "eflags"}
# Only what a load needs: the address and type of a variable, not its value.
_ADDRESS_ONLY = {"FollowPointers": False, "MaxVariableRecurse": 0, "MaxStringLen": 0,
                 "MaxArrayValues": 0, "MaxStructFields": 0}
_CURRENT_GOROUTINE = -1


class DelveMemory:
    """Raw memory through ExamineMemory (which the server splits at delve's per-call cap).
    One unreadable byte fails the read; CachedMemory then retries page by page to keep
    what is readable."""

    def __init__(self, server: DelveServer) -> None:
        self.server = server

    def read(self, address: int, size: int) -> bytes:
        try:
            return self.server.examine_memory(address, size)
        except DelveError as e:
            if "exited" in str(e):
                raise TargetError(f"delve: {e}") from None
            raise FaultError(address, size) from None


def parse_registers(regs: list[dict[str, Any]]) -> dict[str, int]:
    """delve's ``Regs`` to {name: value} with the engine's lower-case names. Values
    are text; a flags register has its flag list after the number."""
    out: dict[str, int] = {}
    for reg in regs:
        name = str(reg.get("Name", "")).lower()
        text = str(reg.get("Value", "")).split()
        if not name or not text:
            continue
        try:
            value = int(text[0], 16) if text[0].lower().startswith("0x") else int(text[0])
        except ValueError:
            continue  # vector and x87 registers: not needed by the engine
        out[_REG_ALIASES.get(name, name)] = value
    return out


class DelveThreads:
    """Thread list with registers. For a core, in the core's note order (the thread
    that dumped first), as the core backend lists them; live, by thread id."""

    def __init__(self, server: DelveServer, goarch: str, order: list[int] | None = None) -> None:
        self.server = server
        self.goarch = goarch
        self.order = order

    def __call__(self) -> list[Thread]:
        listed = self.server.call("ListThreads").get("Threads") or []
        out: list[Thread] = []
        for th in listed:
            tid = int(th["id"])
            try:
                regs = self.server.call("ListRegisters", ThreadID=tid).get("Regs") or []
            except DelveError:
                continue  # a thread that exited or is running: no registers to read
            out.append(Thread(tid, parse_registers(regs), self.goarch))
        if self.order is not None:
            rank = {tid: i for i, tid in enumerate(self.order)}
            out.sort(key=lambda t: (rank.get(t.tid, len(rank)), t.tid))
        else:
            out.sort(key=lambda t: t.tid)
        return out


class LocalResolver:
    """A variable visible in the selected goroutine's frame ``frame`` (which the
    pass-through terminal reports after each command): its address and Go type."""

    def __init__(self, server: DelveServer) -> None:
        self.server = server
        self.frame = 0

    def __call__(self, name: str) -> tuple[int, str] | None:
        scope = {"GoroutineID": _CURRENT_GOROUTINE, "Frame": self.frame, "DeferredCall": 0}
        try:
            var = self.server.call("Eval", Scope=scope, Expr=name, Cfg=_ADDRESS_ONLY).get("Variable") or {}
        except DelveError:
            return None
        addr = int(var.get("addr") or 0)
        if not addr or var.get("unreadable"):
            return None
        return addr, str(var.get("type") or var.get("realType") or "")


def open_core_facts(binary: GoBinary, core_path: str) -> CoreFile:
    """The core's own notes, for the signal and the crashing thread. Checked against the
    binary first, the way core mode refuses a core some other program dumped."""
    core = CoreFile(core_path)
    try:
        relocate_for_core(core, binary)
        check_core_matches(core, binary)
    except BaseException:
        core.close()
        raise
    return core


def delve_target(server: DelveServer, binary: GoBinary, core: CoreFile | None = None) -> Target:
    signal: SignalInfo | None = None
    crash_tid: int | None = None
    order: list[int] | None = None
    if core is not None:
        crash = core.crash_thread
        signal = core.siginfo
        if signal is None and crash is not None and crash.signal:
            signal = SignalInfo(crash.signal)
        crash_tid = crash.tid if crash else None
        order = [t.tid for t in core.threads]
    description = f"delve {server.kind} (pid {server.pid})" if server.pid else f"delve {server.kind}"
    return Target(
        binary=binary,
        memory=CachedMemory(DelveMemory(server)),
        kind="core" if core is not None else "live",
        threads_fn=DelveThreads(server, binary.goarch, order),
        signal=signal,
        crash_thread=crash_tid,
        description=description,
        local_resolver=LocalResolver(server),
        stripped_symbols=lookup_for(binary),
        backend=server,
    )


def relocate_live(server: DelveServer, binary: GoBinary) -> None:
    """Apply a PIE's load offset for the process delve runs now (a `restart` makes a new
    one): AT_ENTRY from /proc/PID/auxv, else where delve says runtime.firstmoduledata is."""
    if not binary.is_pie:
        return
    try:
        pid = int(server.call("ProcessPid").get("Pid") or 0)
    except DelveError:
        pid = 0
    at_entry = process_at_entry(pid) if pid else None
    if at_entry is not None:
        apply_bias(binary, at_entry, where=f"process {pid}")
        return
    sym = binary.symbol("runtime.firstmoduledata")
    if sym is not None:
        link = sym.addr - binary.load_bias
        scope = {"GoroutineID": _CURRENT_GOROUTINE, "Frame": 0, "DeferredCall": 0}
        try:
            var = server.call("Eval", Scope=scope, Expr="runtime.firstmoduledata", Cfg=_ADDRESS_ONLY)
            addr = int((var.get("Variable") or {}).get("addr") or 0)
        except DelveError:
            addr = 0
        if addr:
            binary.relocate(addr - link)
            return
    raise TargetError(f"cannot find the load offset of PIE {binary.path} in the process delve runs")


def attached_executable(pid: int) -> str:
    """The executable of a running process, for its symbols and DWARF."""
    path = f"/proc/{pid}/exe"
    try:
        os.readlink(path)
    except OSError as e:
        raise TargetError(f"cannot find the executable of process {pid}: {e.strerror}") from None
    return path
