"""`info`'s answer: which Go, which maps, how many goroutines and Ms, the stack limits,
and for a core the signal, the crashing thread and the signal Go handled first."""

from __future__ import annotations

from dataclasses import dataclass

from godbg.results.base import JSON, Result, hex_or_none

# Where a fatal signal was read from.
SOURCE_FRAME = "signal frame"  # the first signal frame on the dying M's gsignal stack
SOURCE_G = "goroutine"  # g.sig of a goroutine Go turned the fault into a panic for
# Go prints si_code as a uint64 (sigctxt.sigcode), so SI_TKILL (-6) reads 18446744073709551610.
U64_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class FatalSignal(Result):
    """The signal that started a crash, as Go saw it (not the SIGABRT it re-raised)."""

    signal: str  # "SIGSEGV"
    signo: int
    description: str  # as Go prints it: "SIGSEGV: segmentation violation"
    code: int
    addr: int | None  # the fault address where Go prints one (SIGSEGV, SIGBUS)
    pc: int
    function: str | None  # a Go function, or the ELF symbol of C code
    in_cgo: bool
    m: int | None
    goroutine: int | None
    source: str  # SOURCE_FRAME (the gsignal stack) or SOURCE_G (g.sig of a panicking goroutine)

    def to_json(self) -> JSON:
        return {
            "signal": self.signal, "code": self.code, "addr": hex_or_none(self.addr),
            "pc": f"{self.pc:#x}", "function": self.function, "in_cgo": self.in_cgo, "m": self.m,
            "description": self.description, "goroutine": self.goroutine, "source": self.source,
            "printed": self.go_lines(),
        }

    def go_lines(self) -> list[str]:
        """What Go printed about it."""
        if self.source == SOURCE_G:
            return [f"[signal {self.description} code={self.code & U64_MASK:#x} addr={(self.addr or 0):#x} "
                    f"pc={self.pc:#x}]"]
        pc_line = f"PC={self.pc:#x} m={self.m} sigcode={self.code & U64_MASK}"
        if self.addr is not None:
            pc_line += f" addr={self.addr:#x}"
        lines = [self.description, pc_line]
        if self.in_cgo:
            lines.append("signal arrived during cgo execution")
        return lines

    def headline(self) -> str:
        """Go's lines as one."""
        where = f" in {self.function}" if self.function else ""
        if self.source == SOURCE_G:
            return f"{self.description}{where}: {self.go_lines()[0]}"
        rest = self.go_lines()[1:]
        return f"{self.description}{where}: " + ", ".join(rest)


@dataclass(frozen=True)
class Info(Result):
    go_version: str
    goarch: str
    map_impl: str  # "classic" or "swiss"
    goexperiments: tuple[str, ...]
    goroutines: int  # every one but the dead, as Go's crash traceback lists them
    ms: int
    maxstacksize: int
    stack_guard: int
    signal: str | None  # what the kernel (or gdb) recorded
    crash_thread: int | None
    fatal_signal: FatalSignal | None
    snapshot: bool  # a core of a process that had not crashed (gdb's gcore)
    load_bias: int  # a PIE's load offset; 0 for a fixed-address binary
    stripped: bool
    notes: tuple[str, ...]  # what stripping costs, and what godbg does instead

    def to_json(self) -> JSON:
        return {
            "go_version": self.go_version, "goarch": self.goarch, "map_impl": self.map_impl,
            "goexperiments": list(self.goexperiments), "goroutines": self.goroutines, "ms": self.ms,
            "maxstacksize": self.maxstacksize, "stack_guard": self.stack_guard, "signal": self.signal,
            "crash_thread": self.crash_thread,
            "fatal_signal": self.fatal_signal.to_json() if self.fatal_signal is not None else None,
            "snapshot": self.snapshot, "load_bias": self.load_bias, "stripped": self.stripped,
            "notes": list(self.notes),
        }
