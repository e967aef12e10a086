"""Where a value lives: a global (the binary's data), a goroutine's stack (which goroutine
and which frame), the heap (the span that holds it: ``runtime.spanOf``), or unknown.

Facts for linux/amd64, Go 1.22-1.27 (runtime/malloc.go, runtime/mheap.go): heap arenas are
64 MiB (``heapArenaBytes``), indexed from ``arenaBaseOffset`` 0xffff800000000000 with no L1
level (``arenaL1Bits`` 0), pages are 8 KiB, and ``heapArena.spans`` has one *mspan a page;
an ``mspan`` in use has state ``mSpanInUse`` (1) and holds objects of ``elemsize`` bytes
from ``startAddr``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from godbg.errors import FaultError, GodbgError, UnsupportedError
from godbg.results.values import GLOBAL, HEAP, STACK, UNKNOWN, Location

if TYPE_CHECKING:
    from godbg.program.target import Target

# The source says 0xffff800000000000 for amd64, yet arenas of some builds sit at p>>26
# (measured on go1.27.3 linux/amd64): both are tried, and the span found must hold the
# address (startAddr <= p < startAddr + npages*pageSize), so a wrong index finds nothing.
ARENA_BASE_OFFSETS = (0xFFFF800000000000, 0)
HEAP_ARENA_BYTES = 1 << 26
PAGE_SIZE = 8192
PAGES_PER_ARENA = HEAP_ARENA_BYTES // PAGE_SIZE
# heapAddrBits (48) - logHeapArenaBytes (26) - arenaL1Bits (0).
ARENA_L2_ENTRIES = 1 << 22
MSPAN_IN_USE = 1
_U64_MASK = (1 << 64) - 1
# Data sections a Go global can live in.
DATA_SECTIONS = (".data", ".bss", ".noptrdata", ".noptrbss", ".go.buildinfo")


def locate(target: Target, address: int, symbol: str | None = None) -> Location:
    """Where ``address`` lies. ``symbol``: the global the expression started from."""
    if _in_data(target, address):
        return Location(GLOBAL, symbol=symbol or _global_at(target, address))
    stack = _on_stack(target, address)
    if stack is not None:
        return stack
    heap = _in_heap(target, address)
    if heap is not None:
        return heap
    return Location(UNKNOWN)


def _in_data(target: Target, address: int) -> bool:
    b = target.binary
    for name in DATA_SECTIONS:
        s = b.sections.get(name)
        if s is not None and s.addr and s.addr <= address < s.addr + s.size:
            return True
    return False


def _global_at(target: Target, address: int) -> str | None:
    sym = target.binary.symbol_at(address)
    return sym.name if sym is not None else None


def _on_stack(target: Target, address: int) -> Location | None:
    from godbg.runtime import allgs as rallgs
    from godbg.runtime.g import read_gs

    try:
        gs = read_gs(target, rallgs.allgs(target))
    except (GodbgError, FaultError):
        return None
    for g in gs:
        if g is None or g.dead or not g.lo <= address < g.hi:
            continue
        return Location(STACK, goroutine=g.goid, frame=_frame_at(target, g, address))
    return None


def _frame_at(target: Target, g: Any, address: int) -> str | None:
    """The frame whose [sp, caller's sp) holds ``address``."""
    from godbg.runtime.stack import goroutine_stack
    from godbg.runtime.unwind import unwinder

    try:
        frames = goroutine_stack(target, g).logical(unwinder(target))
    except GodbgError:
        return None
    physical = [f for f in frames if not f.inlined]
    for i, f in enumerate(physical):
        top = physical[i + 1].sp if i + 1 < len(physical) else g.hi
        if f.sp <= address < top:
            return str(f.function)
    return None


def _dwarf_offsets(target: Target, name: str, fields: tuple[str, ...]) -> tuple[int, dict[str, int]]:
    """(size, field offsets) of a runtime struct from DWARF. The heap lookup is DWARF-only:
    a stripped binary has no symbol for runtime.mheap_ either (see docs/decisions.md)."""
    t = target.binary.dwarf.type_by_name(name)
    if t is None:
        raise UnsupportedError(f"no DWARF for {name}")
    return t.size, {f: t.offset_of(f) for f in fields}


def _in_heap(target: Target, address: int) -> Location | None:
    if not target.binary.has_dwarf:
        return None
    try:
        mheap = target.symbol_address("runtime.mheap_")
        _h, h = _dwarf_offsets(target, "runtime.mheap", ("arenas",))
        _ha, ha_off = _dwarf_offsets(target, "runtime.heapArena", ("spans",))
        span_size, sp = _dwarf_offsets(target, "runtime.mspan", ("startAddr", "npages", "elemsize", "state"))
        l2 = target.memory.ptr(mheap + h["arenas"])  # arenas[0]: L1 has one entry
        if not l2:
            return None
        ha = 0
        for base in ARENA_BASE_OFFSETS:
            ri = ((address - base) & _U64_MASK) // HEAP_ARENA_BYTES
            if ri < ARENA_L2_ENTRIES:
                ha = target.memory.ptr(l2 + 8 * ri)
                if ha:
                    break
        if not ha:
            return None
        span = target.memory.ptr(ha + ha_off["spans"] + 8 * ((address // PAGE_SIZE) % PAGES_PER_ARENA))
        if not span:
            return None
        raw = target.memory.read(span, span_size)
        start = int.from_bytes(raw[sp["startAddr"]:][:8], "little")
        npages = int.from_bytes(raw[sp["npages"]:][:8], "little")
        elemsize = int.from_bytes(raw[sp["elemsize"]:][:8], "little")
        state = raw[sp["state"]]
        if state != MSPAN_IN_USE or not start <= address < start + npages * PAGE_SIZE or not elemsize:
            return None
        obj = start + (address - start) // elemsize * elemsize
        return Location(HEAP, object=obj, elemsize=elemsize)
    except (GodbgError, FaultError, KeyError):
        return None
