"""A Target backed by gdb: memory through the inferior, threads and registers through
gdb's thread list, the signal from $_siginfo. Rebuilt lazily and invalidated whenever
the inferior runs or gdb's view of it changes (stop, continue, new objfile, exit)."""

from __future__ import annotations

import os
import re

import gdb

from godbg.errors import FaultError, TargetError
from godbg.program.binary import GoBinary
from godbg.program.loadbias import FileMapping, apply_bias, find_bias
from godbg.program.memory import CachedMemory
from godbg.program.target import SignalInfo, Target, Thread
from godbg.runtime.globals_stripped import lookup_for

AMD64_REGS = ("rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
              "r12", "r13", "r14", "r15", "eflags")
ARM64_REGS = tuple(f"x{i}" for i in range(31)) + ("sp", "pc")


class GdbMemory:
    def read(self, address: int, size: int) -> bytes:
        try:
            data: bytes = gdb.selected_inferior().read_memory(address, size).tobytes()
            return data
        except (gdb.MemoryError, gdb.error, OverflowError, ValueError):
            raise FaultError(address, size) from None


def is_core() -> bool:
    inf = gdb.selected_inferior()
    conn = getattr(inf, "connection", None)
    if conn is not None:
        return bool(conn.type == "core")
    # gdb 12 has no Inferior.connection: ask the target stack.
    return "core dump" in gdb.execute("info target", to_string=True).lower()


def has_process() -> bool:
    inf = gdb.selected_inferior()
    return inf.pid != 0 and bool(inf.threads())


def executable_path() -> str:
    path = gdb.current_progspace().filename
    if not path:
        raise TargetError("gdb has no executable loaded: use `file BINARY` first")
    return str(path)


_AT_ENTRY_LINE = re.compile(r"^\s*9\s+AT_ENTRY\b.*?(0x[0-9a-fA-F]+)\s*$", re.M)
_MAPPING_LINE = re.compile(r"^\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(\S.*?)\s*$", re.M)


def _gdb_text(command: str) -> str:
    try:
        return gdb.execute(command, to_string=True) or ""
    except gdb.error:
        return ""


def relocate(binary: GoBinary) -> None:
    """Apply a PIE's load offset: AT_ENTRY from gdb's `info auxv` (live and core), else
    the executable's mapping from `info proc mappings`."""
    if not binary.is_pie:
        m = _AT_ENTRY_LINE.search(_gdb_text("info auxv"))
        find_bias(binary, int(m.group(1), 16) if m else None)  # refuses a non-PIE that does not match
        return
    m = _AT_ENTRY_LINE.search(_gdb_text("info auxv"))
    at_entry = int(m.group(1), 16) if m else None
    mappings = []
    if at_entry is None:
        mappings = [FileMapping(int(a, 16), int(b, 16), int(o, 16), p)
                    for a, b, o, p in _MAPPING_LINE.findall(_gdb_text("info proc mappings"))]
    apply_bias(binary, at_entry, mappings, where="gdb's inferior")


def _read_threads(goarch: str) -> list[Thread]:
    """Every thread's registers. Reading a thread's registers in gdb means selecting it;
    the user's selected thread and frame are restored afterwards (no inferior state is
    written)."""
    inf = gdb.selected_inferior()
    names = AMD64_REGS if goarch == "amd64" else ARM64_REGS
    try:
        orig_thread = gdb.selected_thread()
    except gdb.error:
        orig_thread = None
    try:
        orig_frame = gdb.selected_frame() if orig_thread is not None else None
    except gdb.error:
        orig_frame = None
    out: list[Thread] = []
    try:
        for th in sorted(inf.threads(), key=lambda t: t.num):
            if not th.is_valid() or th.is_running():
                continue
            th.switch()
            frame = gdb.newest_frame()
            regs: dict[str, int] = {}
            for name in names:
                try:
                    regs[name] = int(frame.read_register(name)) & 0xFFFFFFFFFFFFFFFF
                except (gdb.error, ValueError):
                    pass
            pid, lwp, _tid = th.ptid
            out.append(Thread(lwp or pid, regs, goarch))
    finally:
        if orig_thread is not None and orig_thread.is_valid():
            orig_thread.switch()
            if orig_frame is not None and orig_frame.is_valid():
                orig_frame.select()
    return out


def _signal() -> tuple[SignalInfo | None, int | None]:
    """The signal that stopped (live) or killed (core) the program, and its thread: in a
    core gdb's thread 1 is the first NT_PRSTATUS, the thread the kernel dumped from."""
    inf = gdb.selected_inferior()
    threads = sorted(inf.threads(), key=lambda t: t.num)
    if not threads:
        return None, None
    if is_core():
        chosen = threads[0]
    else:
        try:
            chosen = gdb.selected_thread() or threads[0]
        except gdb.error:
            chosen = threads[0]
    tid = chosen.ptid[1] or chosen.ptid[0]
    try:
        current = gdb.selected_thread()
        if current is not None and current.num != chosen.num:
            return _siginfo_of(chosen, current), tid
        info = gdb.parse_and_eval("$_siginfo")
        signo = int(info["si_signo"])
        return (SignalInfo(signo, int(info["si_code"])) if signo else None), tid
    except gdb.error:
        return None, tid


def _siginfo_of(thread: gdb.InferiorThread, restore: gdb.InferiorThread) -> SignalInfo | None:
    try:
        thread.switch()
        info = gdb.parse_and_eval("$_siginfo")
        signo = int(info["si_signo"])
        return SignalInfo(signo, int(info["si_code"])) if signo else None
    except gdb.error:
        return None
    finally:
        restore.switch()


def _resolve_local(name: str) -> tuple[int, str] | None:
    """A Go variable visible in gdb's selected frame: its address and its Go type name."""
    try:
        value = gdb.parse_and_eval(name)
    except gdb.error:
        return None
    if value.address is None:
        return None
    return int(value.address), str(value.type)


class GdbSession:
    """Owns the current Target and drops it when gdb says the world changed."""

    def __init__(self) -> None:
        self._target: Target | None = None
        self._binary: GoBinary | None = None

    def invalidate(self, *_args: object) -> None:
        if self._target is not None:
            self._target.invalidate()
        self._target = None

    def forget_binary(self, *_args: object) -> None:
        self.invalidate()
        self._binary = None

    def target(self) -> Target:
        if self._target is not None:
            return self._target
        if not has_process():
            raise TargetError("no process or core file: `run`, `attach` or `core` first")
        path = executable_path()
        if self._binary is None or os.path.realpath(self._binary.path) != os.path.realpath(path):
            self._binary = GoBinary(path)
        binary = self._binary
        relocate(binary)  # a re-run of a PIE loads it elsewhere
        for th in gdb.selected_inferior().threads():
            if th.is_running():
                raise TargetError("the program is running: interrupt it (Ctrl-C) or stop at a breakpoint first")
        sig, tid = _signal()
        core = is_core()
        self._target = Target(
            binary=binary,
            memory=CachedMemory(GdbMemory()),
            kind="core" if core else "live",
            threads_fn=lambda: _read_threads(binary.goarch),
            # Live, a breakpoint or Ctrl-C is not a signal worth reporting.
            signal=sig if core or (sig is not None and sig.name not in ("SIGTRAP", "SIGINT")) else None,
            crash_thread=tid if core else None,
            description="gdb",
            local_resolver=_resolve_local,
            stripped_symbols=lookup_for(binary),
        )
        return self._target


SESSION = GdbSession()


def connect_events() -> None:
    ev = gdb.events
    for name in ("stop", "cont", "exited", "memory_changed", "register_changed", "inferior_call"):
        registry = getattr(ev, name, None)
        if registry is not None:
            registry.connect(SESSION.invalidate)
    for name in ("new_objfile", "clear_objfiles"):
        registry = getattr(ev, name, None)
        if registry is not None:
            registry.connect(SESSION.forget_binary)
