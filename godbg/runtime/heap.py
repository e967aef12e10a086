"""The Go heap as the runtime's span table describes it (runtime/mheap.go): every
in-use span from ``mheap_.allspans`` with its object size, so an address maps to the
heap object holding it (base and size), and for objects that carry one, their type
(the malloc header of objects over 512 bytes, ``span.largeType`` for large objects;
Go 1.22+ allocation headers)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from godbg.errors import CorruptError, FaultError
from godbg.program.target import Target
from godbg.runtime.layouts import layout
from godbg.runtime.typenames import type_name
from godbg.runtime.unwind import read_uncached

MHEAP = "runtime.mheap_"
MSPAN = "runtime.mspan"
# runtime/mheap.go: mSpanDead, mSpanInUse, mSpanManual (stacks), ... (stable 1.22-1.27).
SPAN_IN_USE = 1
# runtime._PageSize (stable 1.22-1.27 on linux/amd64 and arm64).
PAGE_SHIFT = 13
# A span class's low bit: the span's objects hold no pointers.
NOSCAN_BIT = 1
# Objects larger than this carry a malloc header (the *_type) in their first word;
# runtime/internal gc.MinSizeForMallocHeader (ptrSize * ptrBits).
MIN_SIZE_FOR_MALLOC_HEADER = 512
# Sanity bound: more spans than this is a corrupt allspans.
MAX_SPANS = 1 << 26
# Bulk span reads: neighbours within this gap share one read.
_GAP = 4096
_MAX_READ = 1 << 20


@dataclass(frozen=True)
class Span:
    start: int
    limit: int  # end of the last object
    elemsize: int
    nelems: int
    noscan: bool
    sizeclass: int
    large_type: int

    def base_of(self, addr: int) -> int:
        return self.start + (addr - self.start) // self.elemsize * self.elemsize


@dataclass(frozen=True)
class HeapObject:
    base: int
    size: int
    span: Span


class Heap:
    """In-use spans, found by page number."""

    def __init__(self, spans: list[Span]) -> None:
        self.spans = sorted(spans, key=lambda s: s.start)
        self.starts = [s.start for s in self.spans]
        self.pages: dict[int, Span] = {}
        for s in self.spans:
            for page in range(s.start >> PAGE_SHIFT, ((s.limit - 1) >> PAGE_SHIFT) + 1):
                self.pages[page] = s

    def object_at(self, addr: int) -> HeapObject | None:
        s = self.pages.get(addr >> PAGE_SHIFT)
        if s is None or not s.start <= addr < s.limit:
            return None
        return HeapObject(s.base_of(addr), s.elemsize, s)

    def contains(self, addr: int) -> bool:
        return self.object_at(addr) is not None


def _span_fields(target: Target) -> tuple[int, struct.Struct, list[str]]:
    lay = layout(target, MSPAN)
    state = "state.s.value" if lay.has("state.s.value") else "state"
    fields = [("startAddr", "Q"), ("npages", "Q"), ("nelems", "H"), ("spanclass", "B"), (state, "B"),
              ("elemsize", "Q"), ("limit", "Q")]
    if lay.has("largeType"):
        fields.append(("largeType", "Q"))
    placed = sorted((lay.off(path), path, code) for path, code in fields)
    fmt, pos, names = "<", 0, []
    for off, path, code in placed:
        fmt += f"{off - pos}x{code}" if off > pos else code
        pos = off + struct.calcsize("<" + code)
        names.append(path)
    return lay.size, struct.Struct(fmt), names


def heap(target: Target) -> Heap:
    """The heap's in-use spans, memoized per stop."""
    return target.memo("heap:spans", lambda: _read_heap(target))


def _read_heap(target: Target) -> Heap:
    base = target.symbol_address(MHEAP) + layout(target, "runtime.mheap").off("allspans")
    data, length, cap = struct.unpack("<QQQ", target.memory.read(base, 24))
    if length > cap or length > MAX_SPANS:
        raise CorruptError(f"mheap_.allspans has an implausible length {length} (cap {cap})")
    addrs = sorted(set(struct.unpack(f"<{length}Q", read_uncached(target, data, 8 * length)))) if length else []
    size, codec, names = _span_fields(target)
    state = names.index("state.s.value") if "state.s.value" in names else names.index("state")
    spans: list[Span] = []
    i = 0
    while i < len(addrs):
        j = i + 1
        while j < len(addrs) and addrs[j] - addrs[j - 1] <= _GAP and addrs[j] + size - addrs[i] <= _MAX_READ:
            j += 1
        try:
            blob = read_uncached(target, addrs[i], addrs[j - 1] + size - addrs[i])
        except FaultError:
            target.warn(f"mspans at {addrs[i]:#x} are unreadable")
            i = j
            continue
        for a in addrs[i:j]:
            v = dict(zip(names, codec.unpack_from(blob, a - addrs[i])))
            if v[names[state]] != SPAN_IN_USE or not v["elemsize"] or not v["npages"]:
                continue
            start = v["startAddr"]
            limit = v["limit"] or start + (v["npages"] << PAGE_SHIFT)
            sc = v["spanclass"]
            spans.append(Span(start, limit, v["elemsize"], v["nelems"], bool(sc & NOSCAN_BIT), sc >> 1,
                              v.get("largeType", 0)))
        i = j
    return Heap(spans)


def object_type(target: Target, obj: HeapObject) -> str | None:
    """The Go type of a heap object, where the runtime records it: the malloc header of
    a small object over 512 bytes, ``largeType`` of a large one; None otherwise."""
    s = obj.span
    if s.noscan:
        return None
    if s.sizeclass == 0:
        return type_name(target, s.large_type)
    if s.elemsize > MIN_SIZE_FOR_MALLOC_HEADER:
        try:
            return type_name(target, target.memory.ptr(obj.base))
        except FaultError:
            return None
    return None

