"""Goroutines' g structs: decoded in bulk, their statuses and wait reasons (names read
from the binary where it has them)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, Callable, NamedTuple

from godbg.errors import FaultError, GodbgError
from godbg.program.target import Target
from godbg.runtime.fieldreader import FieldReader
from godbg.runtime.layouts import layout
from godbg.runtime.unwind import read_uncached

# runtime/runtime2.go status values (stable 1.22-1.27); names are read from DWARF when
# it has them, these are the fallback.
G_IDLE, G_RUNNABLE, G_RUNNING, G_SYSCALL, G_WAITING = 0, 1, 2, 3, 4
G_DEAD, G_COPYSTACK, G_PREEMPTED, G_LEAKED, G_DEADEXTRA = 6, 8, 9, 10, 11
G_SCAN = 0x1000
FALLBACK_STATUS_NAMES = {
    0: "idle", 1: "runnable", 2: "running", 3: "syscall", 4: "waiting", 5: "moribund", 6: "dead",
    7: "enqueue", 8: "copystack", 9: "preempted", 10: "leaked", 11: "deadextra",
}
DEAD_STATUSES = (G_DEAD, G_DEADEXTRA)
# Bulk g reads: neighbours closer than BULK_GAP bytes share one read of at most BULK_READ.
BULK_GAP = 4096
BULK_READ = 1 << 20

# Fields of runtime.g the engine reads: alias -> (dotted path, struct format).
G_FIELDS = {
    "lo": ("stack.lo", "Q"),
    "hi": ("stack.hi", "Q"),
    "stackguard0": ("stackguard0", "Q"),
    "m": ("m", "Q"),
    "sched_sp": ("sched.sp", "Q"),
    "sched_pc": ("sched.pc", "Q"),
    "sched_lr": ("sched.lr", "Q"),
    "sched_bp": ("sched.bp", "Q"),
    "syscallsp": ("syscallsp", "Q"),
    "syscallpc": ("syscallpc", "Q"),
    "status": ("atomicstatus.value", "I"),
    "goid": ("goid", "Q"),
    "waitsince": ("waitsince", "q"),
    "waitreason": ("waitreason", "B"),
    "lockedm": ("lockedm", "Q"),
    "parent_goid": ("parentGoid", "Q"),
    "gopc": ("gopc", "Q"),
    "startpc": ("startpc", "Q"),
}


class G(NamedTuple):
    addr: int
    goid: int
    status: int  # raw atomicstatus, scan bit included
    lo: int
    hi: int
    stackguard0: int
    m: int
    sched_sp: int
    sched_pc: int
    sched_lr: int
    sched_bp: int
    syscallsp: int
    syscallpc: int
    waitsince: int
    waitreason: int
    lockedm: int
    parent_goid: int
    gopc: int
    startpc: int

    @property
    def base_status(self) -> int:
        return self.status & ~G_SCAN

    @property
    def dead(self) -> bool:
        return self.base_status in DEAD_STATUSES


def _g_reader(target: Target) -> FieldReader:
    return target.memo("stacks:g_reader", lambda: FieldReader(
        layout(target, "runtime.g"), G_FIELDS, {"status": "atomicstatus"}))


def _g_decoder(target: Target) -> Callable[[bytes, int], tuple[int, ...]]:
    """bytes of a g -> the G fields after addr."""
    return target.memo("stacks:g_decoder", lambda: _g_reader(target).getter(G._fields[1:]))


def read_g(target: Target, addr: int) -> G:
    """One g, memoized per stop."""
    key = ("g", addr)
    found: G | None = target.cache.get(key)
    if found is None:
        reader = _g_reader(target)
        found = G(addr, *_g_decoder(target)(target.memory.read(addr, reader.size), 0))
        target.cache[key] = found
    return found


def read_gs(target: Target, addrs: Sequence[int], keep: bool = True) -> list[G | None]:
    """Many gs, read in bulk: gs are heap objects of one size class, mostly side by side,
    so neighbours come in one read. None for a g whose memory is not in the target.
    ``keep=False`` leaves them out of the per-stop cache (a listing that streams a
    million goroutines reads each once)."""
    size = _g_reader(target).size
    decode = _g_decoder(target)
    cache: dict[Any, Any] = target.cache
    found: dict[int, G | None] = {}
    todo = sorted({a for a in addrs if ("g", a) not in cache})
    make = G
    i = 0
    while i < len(todo):
        j = i + 1
        while (j < len(todo) and todo[j] - todo[j - 1] <= BULK_GAP
               and todo[j] + size - todo[i] <= BULK_READ):
            j += 1
        base = todo[i]
        try:
            blob = read_uncached(target, base, todo[j - 1] + size - base)
        except FaultError:
            blob = None
        if blob is not None:
            for a in todo[i:j]:
                g = make(a, *decode(blob, a - base))
                if keep:
                    cache[("g", a)] = g
                found[a] = g
        else:
            for a in todo[i:j]:
                try:
                    found[a] = read_g(target, a)
                except FaultError:
                    found[a] = None
        i = j
    return [found[a] if a in found else cache.get(("g", a)) for a in addrs]


def stack_bounds(target: Target, g_addr: int) -> tuple[int, int]:
    if not g_addr:
        return 0, 0
    try:
        g = read_g(target, g_addr)
    except FaultError:
        return 0, 0
    return g.lo, g.hi


# --- status and wait reason names ------------------------------------------------------


def status_names(target: Target) -> dict[int, str]:
    """Status value -> name, from the binary's DWARF constants (`runtime._Gwaiting`…):
    the name without `_G`, lower case; names ending in `_unused` lose the suffix."""

    def compute() -> dict[int, str]:
        names = dict(FALLBACK_STATUS_NAMES)
        if target.binary.has_dwarf:
            try:
                consts = target.binary.dwarf.constants("runtime._G")
            except GodbgError:
                consts = {}
            for name, value in consts.items():
                short = name[len("runtime._G"):]
                # Statuses are all lower case (_Gwaiting, _Gmoribund_unused); _GCoff and
                # _GoidCacheBatch share the prefix but are not.
                if not short or short != short.lower() or short.startswith("scan") or value >= G_SCAN:
                    continue
                names[value] = short.lower().removesuffix("_unused")
        return names

    return target.memo("stacks:status_names", compute)


def status_name(target: Target, status: int) -> str:
    base = status_names(target).get(status & ~G_SCAN, f"status {status & ~G_SCAN}")
    return base + "+scan" if status & G_SCAN else base


def wait_reasons(target: Target) -> list[str]:
    """runtime.waitReasonStrings, read from memory: the runtime's own names, numbered
    as this release numbers them."""

    def compute() -> list[str]:
        try:
            base = target.symbol_address("runtime.waitReasonStrings")
        except GodbgError:
            return []
        # Symbol table, DWARF, or built-in facts for a stripped binary.
        count = (target.symbol_size("runtime.waitReasonStrings") or 0) // 16
        if not count or count > 1024:
            return []
        raw = target.memory.read(base, 16 * count)
        out = []
        for i in range(count):
            data, length = struct.unpack_from("<QQ", raw, 16 * i)
            try:
                out.append(target.memory.string_at(data, length, 256))
            except FaultError:
                out.append(f"wait reason {i}")
        return out

    return target.memo("stacks:wait_reasons", compute)


def wait_reason(target: Target, g: G) -> str | None:
    """Go prints the wait reason for waiting (and leaked) goroutines with a nonzero one."""
    if g.base_status not in (G_WAITING, G_LEAKED) or not g.waitreason:
        return None
    names = wait_reasons(target)
    return names[g.waitreason] if g.waitreason < len(names) else f"wait reason {g.waitreason}"
