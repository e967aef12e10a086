"""The Target: the one object the engine sees a process through, whatever the backend.

A Target bundles the binary (symbols, pclntab, DWARF, build info), memory (cached),
the threads with their registers, and for a core the signal that killed it. Decoders in
``godbg.runtime`` take a Target as their first argument and return plain data.
"""

from __future__ import annotations

import signal as _signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from godbg.errors import BadInputError, UnsupportedError
from godbg.program.binary import GoBinary
from godbg.program.memory import CachedMemory

_T = TypeVar("_T")

# Register names per architecture: which entry of a thread's register set is what.
PC_REG = {"amd64": "rip", "arm64": "pc"}
SP_REG = {"amd64": "rsp", "arm64": "sp"}
FP_REG = {"amd64": "rbp", "arm64": "x29"}
LR_REG = {"amd64": None, "arm64": "x30"}


# A command's answer carries at most this many warnings.
MAX_WARNINGS = 50


@dataclass(frozen=True)
class Thread:
    """One OS thread and its registers at the stop (live) or at the dump (core)."""

    tid: int
    regs: Mapping[str, int]
    goarch: str = "amd64"
    signal: int | None = None  # core: the signal pending for this thread (pr_cursig)

    @property
    def pc(self) -> int:
        return self.regs[PC_REG[self.goarch]]

    @property
    def sp(self) -> int:
        return self.regs[SP_REG[self.goarch]]

    @property
    def fp(self) -> int:
        return self.regs.get(FP_REG[self.goarch], 0)

    @property
    def lr(self) -> int | None:
        name = LR_REG[self.goarch]
        return self.regs.get(name) if name else None


@dataclass(frozen=True)
class SignalInfo:
    signo: int
    code: int = 0
    addr: int | None = None

    @property
    def name(self) -> str:
        try:
            return _signal.Signals(self.signo).name
        except ValueError:
            return f"signal {self.signo}"


@dataclass
class Target:
    """What every decoder works on. ``kind`` is "core" or "live"."""

    binary: GoBinary
    memory: CachedMemory
    kind: str
    threads_fn: Callable[[], list[Thread]]
    signal: SignalInfo | None = None
    crash_thread: int | None = None
    description: str = ""
    # Per-stop memo for decoders (layouts, allgs, ...). Cleared with the memory cache.
    cache: dict[Any, Any] = field(default_factory=dict)
    # Where the user's frame context comes from (gdb/delve selected frame): a callable
    # that resolves a local variable name to (address, type name), or None.
    local_resolver: Callable[[str], tuple[int, str] | None] | None = None
    warnings: list[str] = field(default_factory=list)
    # Where a binary without a symbol table keeps its runtime globals: (target, name) ->
    # (address, size) or None. The backends set it (runtime/globals_stripped.py: lookup_for),
    # so that this module needs no runtime knowledge.
    stripped_symbols: Callable[[Target, str], tuple[int, int] | None] | None = None
    # The backend object (core file, gdb inferior, delve client) kept alive with the target.
    backend: Any = None
    # How this backend runs `panic replay` (commands/panic_cmd.ReplayHook), or None.
    replay_hook: Any = None

    @property
    def goarch(self) -> str:
        return self.binary.goarch

    @property
    def ptr_size(self) -> int:
        return self.binary.ptr_size

    def threads(self) -> list[Thread]:
        key = "threads"
        if key not in self.cache:
            self.cache[key] = self.threads_fn()
        threads: list[Thread] = self.cache[key]
        return threads

    def thread(self, tid: int) -> Thread | None:
        for t in self.threads():
            if t.tid == tid:
                return t
        return None

    def invalidate(self) -> None:
        """The inferior ran: forget everything read from it."""
        self.memory.clear()
        self.cache.clear()
        self.warnings.clear()

    def memo(self, key: str, compute: Callable[[], _T]) -> _T:
        if key not in self.cache:
            self.cache[key] = compute()
        found: _T = self.cache[key]
        return found

    def warn(self, message: str) -> None:
        """Note something the answer should carry; a corrupt structure can produce
        thousands, so they are deduplicated and the list is capped."""
        seen = self.cache.setdefault("warnings_seen", set())
        if message in seen:
            return
        seen.add(message)
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        elif len(self.warnings) == MAX_WARNINGS:
            self.warnings.append("more warnings left out: the structures read are badly corrupt")

    def symbol_address(self, name: str) -> int:
        """Address of a Go global: the ELF symbol table first, then DWARF, then (a
        binary without a symbol table) the runtime code that uses it."""
        sym = self.binary.symbol(name)
        if sym is not None:
            return sym.addr
        if self.binary.has_dwarf:
            var = self.binary.dwarf.variable(name)
            if var is not None:
                return var.address
        found = self._stripped_symbol(name)
        if found is not None:
            return found[0]
        raise BadInputError(f"no Go global named {name!r} in {self.binary.path}")

    def symbol_size(self, name: str) -> int | None:
        """Size in bytes of a Go global, where the binary tells (symbol table, DWARF type,
        or godbg's built-in facts for a stripped binary)."""
        sym = self.binary.symbol(name)
        if sym is not None and sym.size:
            return sym.size
        if self.binary.has_dwarf:
            var = self.binary.dwarf.variable(name)
            t = var.type if var is not None else None
            if t is not None and t.size:
                return t.size
        found = self._stripped_symbol(name)
        return found[1] if found is not None else None

    def _stripped_symbol(self, name: str) -> tuple[int, int] | None:
        return self.stripped_symbols(self, name) if self.stripped_symbols is not None else None

    def has_symbol(self, name: str) -> bool:
        try:
            self.symbol_address(name)
        except (BadInputError, UnsupportedError):
            return False
        return True
