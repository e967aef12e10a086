"""Classic Go maps (`runtime.hmap` + buckets): Go 1.22-1.23, and 1.24-1.25 built with
GOEXPERIMENT=noswissmap. Facts from src/runtime/map.go (map_noswiss.go in 1.24-1.25).

Every bucket array is read in one call and decoded from the buffer. A map caught
mid-growth is listed the way mapiternext sees it: new bucket j holds the live entries
only once old bucket ``j & (oldlen-1)`` is evacuated; until then that old bucket (and its
overflow chain) holds them. Listing each unevacuated old bucket once, in full, gives the
same set as the runtime's per-new-bucket hash filtering, without needing the hash."""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass

from godbg.errors import CorruptError, GodbgError
from godbg.results.maps import ClassicStats, TophashCounts
from godbg.runtime.maps_common import (
    PTR,
    Buffer,
    DecodedMap,
    EntryCollector,
    OnEntries,
    ReadableMemory,
    SlotCodec,
    Warn,
    read_array,
)

IMPL = "classic"

BUCKET_CNT = 8  # abi.OldMapBucketCount
# tophash values (runtime/map.go): below MIN_TOPHASH a cell is empty or evacuated.
EMPTY_REST = 0
EMPTY_ONE = 1
EVACUATED_X = 2
EVACUATED_Y = 3
EVACUATED_EMPTY = 4
MIN_TOPHASH = 5
# hmap.flags
FLAG_ITERATOR = 1
FLAG_OLD_ITERATOR = 2
FLAG_HASH_WRITING = 4
FLAG_SAME_SIZE_GROW = 8

# Sanity caps: a B beyond this is corrupt memory, not a big map (2^28 buckets would be
# tens of GiB of buckets). Overflow chains longer than the cap are treated as corrupt.
MAX_B = 28
# Each tophash byte as its class: empty (emptyRest, emptyOne), evacuated, or full.
_EMPTY, _EVACUATED, _FULL = 0, 1, 2
_CELL_CLASS = bytes(_EMPTY if t <= EMPTY_ONE else _EVACUATED if t < MIN_TOPHASH else _FULL for t in range(256))
_CELLS: dict[bytes, tuple[tuple[int, ...], int, int]] = {}
_U16 = struct.Struct("<H")
_I64 = struct.Struct("<q")


@dataclass(frozen=True)
class ClassicLayout:
    """Offsets in runtime.hmap and in the map's bucket type (DWARF `bucket<K,V>`)."""

    count_off: int
    flags_off: int
    b_off: int
    noverflow_off: int
    buckets_off: int
    oldbuckets_off: int
    nevacuate_off: int
    hmap_size: int
    bucket_size: int
    keys_off: int
    elems_off: int
    overflow_off: int

    @classmethod
    def fallback(cls, key: SlotCodec, elem: SlotCodec) -> ClassicLayout:
        """Built-in layout for 64-bit targets, Go 1.22-1.25 (runtime.hmap: count int,
        flags u8, B u8, noverflow u16, hash0 u32, buckets, oldbuckets, nevacuate, [clearSeq
        u64 in 1.24-1.25 noswiss], extra; the compiler's bucket: tophash [8]u8, keys, elems,
        overflow pointer, each 8-aligned on 64-bit). For binaries without DWARF."""
        keys_off = BUCKET_CNT
        elems_off = keys_off + BUCKET_CNT * key.slot_size
        overflow_off = _align8(elems_off + BUCKET_CNT * elem.slot_size)
        return cls(0, 8, 9, 10, 16, 24, 32, 48, overflow_off + 8, keys_off, elems_off, overflow_off)


def _cells(tophash: bytes) -> tuple[tuple[int, ...], int, int]:
    """(indices of full cells, empty cells, evacuated cells) of one bucket, memoized by
    the bucket's cell classes."""
    classes = tophash.translate(_CELL_CLASS)
    found = _CELLS.get(classes)
    if found is None:
        full = tuple(i for i, c in enumerate(classes) if c == _FULL)
        found = _CELLS[classes] = (full, classes.count(_EMPTY), classes.count(_EVACUATED))
    return found


def _align8(n: int) -> int:
    return (n + 7) & ~7


class _Walker:
    """One walk over a map: collects entries, counts cells and chains, stays bounded."""

    def __init__(self, memory: ReadableMemory, lay: ClassicLayout, sink: EntryCollector, warn: Warn,
                 max_overflow: int) -> None:
        self.memory = memory
        self.lay = lay
        self.sink = sink
        self.warn = warn
        self.max_overflow = max_overflow
        self.seen: set[int] = set()
        self.cells: Counter[str] = Counter()
        self.stray = 0  # full cells in new buckets whose old bucket is not evacuated yet

    def chain(self, buf: Buffer, base: int, collect: bool) -> tuple[int, int]:
        """Walk the bucket at ``buf[base:]`` and its overflow chain. Returns (buckets in
        the chain, full cells seen)."""
        lay = self.lay
        kstride = self.sink.key.slot_size
        estride = self.sink.elem.slot_size
        length = 1
        full = 0
        while True:
            full_cells, empty, evacuated = _cells(bytes(buf[base:base + BUCKET_CNT]))
            self.cells["empty"] += empty
            self.cells["evacuated"] += evacuated
            if full_cells:
                full += len(full_cells)
                if collect:
                    self.sink.add_many(buf, [base + lay.keys_off + i * kstride for i in full_cells],
                                       [base + lay.elems_off + i * estride for i in full_cells])
            overflow = PTR.unpack_from(buf, base + lay.overflow_off)[0]
            if not overflow:
                break
            if overflow in self.seen:
                self.warn(f"bucket overflow chain loops back to {overflow:#x}; the rest of the chain is skipped")
                break
            if len(self.seen) >= self.max_overflow:
                self.warn(f"more than {self.max_overflow} overflow buckets: corrupt map, stopped following them")
                break
            self.seen.add(overflow)
            try:
                buf = self.memory.read(overflow, lay.bucket_size)
            except GodbgError:
                self.warn(f"overflow bucket at {overflow:#x} is unreadable; its entries are missing")
                break
            base = 0
            length += 1
        self.cells["full"] += full
        return length, full


def decode_classic(memory: ReadableMemory, address: int, lay: ClassicLayout, key: SlotCodec, elem: SlotCodec,
                   limit: int | None, warn: Warn,
                   on_entries: OnEntries | None = None) -> DecodedMap:
    """Every live entry of the hmap at ``address`` (up to ``limit`` decoded) and its structure."""
    sink = EntryCollector(memory, key, elem, limit, warn, on_entries)
    hdr = memory.read(address, lay.hmap_size)
    count = _I64.unpack_from(hdr, lay.count_off)[0]
    flags = hdr[lay.flags_off]
    b = hdr[lay.b_off]
    noverflow = _U16.unpack_from(hdr, lay.noverflow_off)[0]
    buckets = PTR.unpack_from(hdr, lay.buckets_off)[0]
    oldbuckets = PTR.unpack_from(hdr, lay.oldbuckets_off)[0]
    nevacuate = PTR.unpack_from(hdr, lay.nevacuate_off)[0]
    if b > MAX_B:
        raise CorruptError(f"map at {address:#x} has B = {b} (over {MAX_B}): not a live map")
    if count < 0:
        warn(f"map at {address:#x} has a negative count {count} (corrupt header)")
    writing = bool(flags & FLAG_HASH_WRITING)
    if writing:
        warn(f"map at {address:#x} was being written when the program stopped (hashWriting): "
             "entries may be torn or missing")
    nbuckets = 1 << b
    growing = oldbuckets != 0
    same_size = bool(flags & FLAG_SAME_SIZE_GROW)
    old_n = nbuckets if same_size or b == 0 else nbuckets >> 1
    walker = _Walker(memory, lay, sink, warn, max_overflow=2 * nbuckets + max(count, 0) + 64)

    # Old buckets first: evacuated[i] says whether new buckets j with j & (old_n-1) == i
    # hold the live entries (True) or old bucket i still does (False).
    evacuated = [True] * old_n if growing else []
    old_overflow = 0
    if growing:
        old_buf, old_bad = read_array(memory, oldbuckets, old_n, lay.bucket_size, warn, "old buckets")
        for i in range(old_n):
            if i in old_bad:
                continue
            base = i * lay.bucket_size
            done = EVACUATED_X <= old_buf[base] <= EVACUATED_EMPTY
            evacuated[i] = done
            length, _ = walker.chain(old_buf, base, collect=not done)
            old_overflow += length - 1
    chains: Counter[int] = Counter()
    seen_before = len(walker.seen)
    if buckets:
        new_buf, new_bad = read_array(memory, buckets, nbuckets, lay.bucket_size, warn, "buckets")
        for j in range(nbuckets):
            if j in new_bad:
                continue
            live_here = not growing or evacuated[j & (old_n - 1)]
            length, full = walker.chain(new_buf, j * lay.bucket_size, collect=live_here)
            chains[length] += 1
            if full and not live_here:
                walker.stray += full
    elif count > 0:
        warn(f"map at {address:#x} counts {count} entries but has no bucket array")
    if walker.stray:
        warn(f"{walker.stray} entries sit in new buckets whose old bucket is not evacuated; "
             "the runtime ignores them, so they are not listed")
    stats = ClassicStats(
        b=b,
        buckets=nbuckets if buckets else 0,
        overflow_buckets=len(walker.seen) - seen_before,
        noverflow=noverflow,
        load_factor=round(max(count, 0) / nbuckets, 3),
        growing=growing,
        old_buckets=old_n if growing else 0,
        old_overflow_buckets=old_overflow,
        evacuated=sum(evacuated),
        nevacuate=nevacuate,
        same_size_grow=same_size,
        writing=writing,
        iterating=bool(flags & (FLAG_ITERATOR | FLAG_OLD_ITERATOR)),
        indirect_key=key.indirect,
        indirect_elem=elem.indirect,
        tophash=TophashCounts(walker.cells["empty"], walker.cells["evacuated"], walker.cells["full"]),
        chain_lengths=tuple(sorted(chains.items())),
    )
    return sink.result(IMPL, address, count, stats)
