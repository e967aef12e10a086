"""Which words of a goroutine's stack hold live pointers, as the garbage collector
decides it (runtime/stkframe.go getStackMap, mgcmark.go scanframeworker, Go 1.22-1.27):
per physical frame, the locals bitmap below ``varp`` and the arguments bitmap at
``argp``, both chosen by the frame's PCDATA_StackMapIndex at its continuation pc, plus
the frame's stack objects (address-taken locals) when a live pointer reaches them.
A dead stack slot can hold a stale pointer to memory reused since; the maps leave
those out."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from godbg.errors import FaultError, GodbgError
from godbg.program.pclntab import (
    FUNCDATA_ARGS_POINTER_MAPS,
    FUNCDATA_LOCALS_POINTER_MAPS,
    FUNCDATA_STACK_OBJECTS,
    PCDATA_STACK_MAP_INDEX,
)
from godbg.program.target import Target
from godbg.runtime.unwind import PhysFrame, unwinder

PTR = 8
# internal/abi.ArgsSizeUnknown: an assembly function that did not declare its frame.
ARGS_SIZE_UNKNOWN = -0x80000000
# runtime.stackObjectRecord: off, size, ptrBytes (or -ptrdata), gcdataoff (int32s).
STACK_OBJECT_RECORD = struct.Struct("<iiiI")
# sys.MinFrameSize per architecture (the LR slot on arm64).
MIN_FRAME_SIZE = {"amd64": 0, "arm64": 8}
# More stack objects than this in one frame is not a real record.
MAX_STACK_OBJECTS = 1 << 16


@dataclass(frozen=True)
class FrameMap:
    """A frame's pointer words and stack objects, as offsets from the frame's sp;
    ``exact`` is False when the frame has no maps (then the caller scans it whole)."""

    pointers: tuple[int, ...]
    objects: tuple[tuple[int, int], ...]  # (offset from sp, bytes that may hold pointers)
    exact: bool


def _bitvector(target: Target, stackmap: int, index: int) -> tuple[int, bytes] | None:
    """stackmapdata(stkmap, index): (nbit, bits)."""
    n, nbit = struct.unpack("<ii", target.memory.read(stackmap, 8))
    if nbit <= 0:
        return 0, b""
    if not 0 <= index < n:
        return None
    row = (nbit + 7) >> 3
    return nbit, target.memory.read(stackmap + 8 + index * row, row)


def _bits(bits: tuple[int, bytes], base: int) -> list[int]:
    nbit, data = bits
    return [base + PTR * i for i in range(nbit) if data[i >> 3] >> (i & 7) & 1]


def frame_map(target: Target, pf: PhysFrame) -> FrameMap:
    """The pointer map of one frame, memoized by function, pc and frame shape."""
    key = ("stackmap", pf.func.entry, pf.pc, pf.fp - pf.sp)
    found = target.cache.get(key)
    if found is None:
        try:
            found = _frame_map(target, pf)
        except (FaultError, GodbgError):
            found = FrameMap((), (), False)
        target.cache[key] = found
    return found


def _frame_map(target: Target, pf: PhysFrame) -> FrameMap:
    tab = unwinder(target).tab
    f = pf.func
    min_frame = MIN_FRAME_SIZE.get(target.goarch, 0)
    varp = pf.fp - (0 if min_frame else PTR)
    if varp > pf.sp:
        varp -= PTR  # the saved frame pointer
    argp = pf.fp + min_frame
    index = -1
    if pf.pc != f.entry:
        index = tab.pcdata(f, PCDATA_STACK_MAP_INDEX, pf.pc - 1)
    if index == -1:
        index = 0
    pointers: list[int] = []
    exact = True
    size = varp - pf.sp
    if size > min_frame:
        locals_map = tab.funcdata(f, FUNCDATA_LOCALS_POINTER_MAPS)
        bits = _bitvector(target, locals_map, index) if locals_map is not None else None
        if bits is None:
            exact = False
        else:
            pointers += _bits(bits, varp - PTR * bits[0] - pf.sp)
    if f.args == ARGS_SIZE_UNKNOWN:
        exact = False
    elif f.args > 0:
        args_map = tab.funcdata(f, FUNCDATA_ARGS_POINTER_MAPS)
        bits = _bitvector(target, args_map, index) if args_map is not None else None
        if bits is None:
            exact = False
        else:
            pointers += _bits(bits, argp - pf.sp)
    objects: list[tuple[int, int]] = []
    table = tab.funcdata(f, FUNCDATA_STACK_OBJECTS)
    if table is not None:
        n = target.memory.u64(table)
        if n > MAX_STACK_OBJECTS:
            raise GodbgError(f"{f.name}: {n} stack objects")
        raw = target.memory.read(table + PTR, n * STACK_OBJECT_RECORD.size) if n else b""
        for i in range(n):
            off, osize, ptr_bytes, _gcdata = STACK_OBJECT_RECORD.unpack_from(raw, i * STACK_OBJECT_RECORD.size)
            start = (varp if off < 0 else argp) + off
            objects.append((start - pf.sp, min(abs(ptr_bytes) or osize, osize)))
    return FrameMap(tuple(pointers), tuple(objects), exact)


def live_stack_words(target: Target, frames: list[PhysFrame], hi: int, conservative_first: bool) -> list[int]:
    """The values of the live pointer slots of a stack whose physical frames (innermost
    first) are ``frames``: precise where the frames have maps, every word of a frame
    that has none (and of the innermost frame when ``conservative_first``, a goroutine
    stopped at an arbitrary instruction). Stacks of one shape (same frames at the same
    depths) share the slot list."""
    if not frames:
        return []
    lo = frames[0].sp
    if not lo < hi:
        return []
    raw = target.memory.raw.read(lo, hi - lo) if hi - lo > 1 << 16 else target.memory.read(lo, hi - lo)
    n = (hi - lo) // PTR
    words = struct.unpack_from(f"<{n}Q", raw)
    key = ("stackshape", hi - lo, conservative_first, tuple((pf.func.entry, pf.pc, pf.sp - lo, pf.fp - lo)
                                                             for pf in frames))
    shape = target.cache.get(key)
    if shape is None:
        shape = target.cache[key] = _shape(target, frames, lo, hi, conservative_first)
    slots, objects = shape
    values = [words[i] for i in slots]
    if objects:
        values += _reached_objects(values, objects, words, lo, hi)
    return values


def _shape(target: Target, frames: list[PhysFrame], lo: int, hi: int,
           conservative_first: bool) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """(word indexes of the pointer slots, stack objects as (first word, words))."""
    n = (hi - lo) // PTR
    slots: list[int] = []
    objects: list[tuple[int, int]] = []
    for i, pf in enumerate(frames):
        fm = frame_map(target, pf)
        if not fm.exact or (i == 0 and conservative_first):
            slots += range((pf.sp - lo) // PTR, min((pf.fp - lo) // PTR, n))
        else:
            slots += [(pf.sp + off - lo) // PTR for off in fm.pointers if 0 <= pf.sp + off - lo < n * PTR]
        objects += [((pf.sp + off - lo) // PTR, -(-size // PTR)) for off, size in fm.objects
                    if 0 <= pf.sp + off - lo < n * PTR]
    return tuple(slots), tuple(sorted(objects))


def _reached_objects(values: list[int], objects: tuple[tuple[int, int], ...], words: tuple[int, ...],
                     lo: int, hi: int) -> list[int]:
    """The words of the stack objects a live pointer reaches (and those they reach)."""
    out: list[int] = []
    scanned: set[int] = set()
    frontier = [v for v in values if lo <= v < hi]
    while frontier:
        at = (frontier.pop() - lo) // PTR
        for first, count in objects:
            if first <= at < first + max(count, 1) and first not in scanned:
                scanned.add(first)
                got = list(words[first:first + count])
                out += got
                frontier += [w for w in got if lo <= w < hi]
    return out
