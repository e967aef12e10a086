"""Names people recognise for an address: the global (and field path inside it) that
holds it, else the goroutine and frame whose stack holds it, else the heap object's
type. Each name comes with the Go types along its path, outermost first, so callers
can tell a sync.Mutex that is the ``w`` of a sync.RWMutex from a plain one."""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Union

from godbg.errors import FaultError, GodbgError
from godbg.program.dwarf import ARRAY, STRUCT, GoType
from godbg.program.pclntab import print_name
from godbg.program.target import Target
from godbg.runtime.g import G, read_g
from godbg.runtime.heap import heap, object_type
from godbg.runtime.stack import goroutine_stack

GLOBAL, STACK, HEAP = "global", "stack", "heap"
# Nesting deeper than this is not a real type.
MAX_PATH_DEPTH = 32


@dataclass(frozen=True)
class Level:
    """One step of a path: its name ("main.rw.w"), Go type, and start address."""

    name: str
    type: str | None
    address: int


@dataclass(frozen=True)
class Place:
    kind: str  # global, stack or heap
    levels: tuple[Level, ...]  # outermost first; the last one holds the address

    @property
    def name(self) -> str:
        return self.levels[-1].name

    def innermost(self, type_names: tuple[str, ...]) -> Level | None:
        """The innermost level whose type is one of ``type_names``."""
        for lv in reversed(self.levels):
            if lv.type in type_names:
                return lv
        return None


def _walk_type(name: str, t: GoType | None, base: int, addr: int) -> tuple[Level, ...]:
    levels = [Level(name, t.name if t is not None else None, base)]
    off = addr - base
    for _ in range(MAX_PATH_DEPTH):
        if t is None:
            break
        if t.kind == STRUCT and t.fields:
            inside = [f for f in t.fields
                      if f.type is not None and f.type.size and f.offset <= off < f.offset + f.type.size]
            if not inside:
                break
            f = inside[0]
            name, base, off, t = f"{name}.{f.name}", base + f.offset, off - f.offset, f.type
        elif t.kind == ARRAY and t.elem is not None and t.elem.size:
            i = off // t.elem.size
            name, base, off, t = f"{name}[{i}]", base + i * t.elem.size, off - i * t.elem.size, t.elem
        else:
            break
        levels.append(Level(name, t.name if t is not None else None, base))
    return tuple(levels)


def global_place(target: Target, addr: int) -> Place | None:
    sym = target.binary.symbol_at(addr)
    if sym is None or sym.name.startswith("go:"):
        return None
    t = None
    if target.binary.has_dwarf:
        var = target.binary.dwarf.variable(sym.name)
        t = var.type if var is not None else None
    return Place(GLOBAL, _walk_type(sym.name, t, sym.addr, addr))


class StackIndex:
    """The goroutine stacks an address may fall in, sorted by their low end: three arrays of
    words, not the gs themselves (a million goroutines' g structs would not fit)."""

    def __init__(self, gs: Iterable[G]) -> None:
        live = sorted((g.lo, g.hi, g.addr) for g in gs if not g.dead and g.hi > g.lo)
        self.los = array("Q", (lo for lo, _hi, _a in live))
        self.his = array("Q", (hi for _lo, hi, _a in live))
        self.addrs = array("Q", (a for _lo, _hi, a in live))
        # Tells indexes over different goroutines apart in the per-stop memo.
        self.key = (len(live), sum(self.addrs) & 0xFFFFFFFFFFFFFFFF)

    def find(self, target: Target, addr: int) -> G | None:
        i = bisect.bisect_right(self.los, addr) - 1
        if i >= 0 and self.los[i] <= addr < self.his[i]:
            return read_g(target, self.addrs[i])
        return None


Stacks = Union[StackIndex, Sequence[G]]


def stack_index(target: Target, gs: Stacks) -> StackIndex:
    if isinstance(gs, StackIndex):
        return gs
    key = ("objnames:stacks", len(gs), gs[0].addr if gs else 0, gs[-1].addr if gs else 0)
    return target.memo(key, lambda: StackIndex(gs))  # type: ignore[arg-type]


def stack_place(target: Target, addr: int, gs: Stacks) -> Place | None:
    g = stack_index(target, gs).find(target, addr)
    if g is not None:
        return Place(STACK, (Level(frame_name(target, g, addr), None, addr),))
    return None


def frame_name(target: Target, g: G, addr: int) -> str:
    """"goroutine N FUNC": the frame of g's stack that holds ``addr``. Parked goroutines
    started by the same go statement and stopped at the same pc and depth share the answer."""
    parked = not g.m and not g.syscallsp and g.lo <= g.sched_sp < g.hi
    key = ("framename", g.gopc, g.startpc, g.sched_pc, g.hi - g.sched_sp, g.hi - addr) if parked else None
    func = target.cache.get(key) if key is not None else None
    if func is None:
        func = ""
        try:
            for pf in goroutine_stack(target, g, keep=False).frames:  # the answer is memoized, not the walk
                if pf.sp <= addr < pf.fp:
                    func = print_name(pf.func.name)
                    break
        except (FaultError, GodbgError):
            pass
        if key is not None:
            target.cache[key] = func
    return f"goroutine {g.goid} {func}".rstrip()


def heap_place(target: Target, addr: int) -> Place | None:
    try:
        obj = heap(target).object_at(addr)
    except (FaultError, GodbgError):
        return None
    if obj is None:
        return None
    tname = object_type(target, obj)
    off = addr - obj.base
    if tname is None:
        name = f"heap object {obj.base:#x} ({obj.size} bytes)" + (f" +{off}" if off else "")
    else:
        name = f"heap *{tname}" + (f" +{off}" if off else "")
    return Place(HEAP, (Level(name, tname, obj.base),))


def place_of(target: Target, addr: int, gs: Stacks) -> Place | None:
    """Where ``addr`` lives, by the first that knows: globals, the stacks of ``gs``, heap."""
    if not addr:
        return None
    stacks = stack_index(target, gs)
    key = ("place", addr, stacks.key)
    if key in target.cache:
        cached: Place | None = target.cache[key]
        return cached
    found = global_place(target, addr) or stack_place(target, addr, stacks) or heap_place(target, addr)
    target.cache[key] = found
    return found
