"""What both map implementations share: how a key or elem slot becomes a JSON value,
the entry collector (decodes up to a limit, counts everything), and the decoded map.

The decoders in maps_classic / maps_swiss take plain memory + a layout + two
SlotCodecs, so unit tests drive them with synthetic images and no DWARF at all."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Union

from godbg.errors import GodbgError
from godbg.results.maps import ClassicStats, SwissStats

Buffer = Union[bytes, bytearray, memoryview]
# Decodes one value of a fixed Go type from ``buf`` at ``offset`` (the values package's
# fast path: bytes already read, no memory access for scalars).
Decoder = Callable[[Buffer, int], Any]
Warn = Callable[[str], None]

PTR = struct.Struct("<Q")
PTR_SIZE = 8
# Memory is mapped, and dumped into cores, in pages of this size.
PAGE = 4096

# Keys and elems larger than this are stored behind a pointer, in both implementations
# (runtime/map.go maxKeySize/maxElemSize; internal/abi MapMaxKeyBytes/MapMaxElemBytes).
MAX_INLINE_BYTES = 128


class ReadableMemory(Protocol):
    def read(self, address: int, size: int) -> bytes: ...


@dataclass(frozen=True)
class SlotCodec:
    """How to decode a key or an elem in its slot."""

    decode: Decoder
    size: int  # the size of the Go value itself
    indirect: bool = False  # the slot holds a pointer to the value (values over 128 bytes)

    @property
    def slot_size(self) -> int:
        return PTR_SIZE if self.indirect else self.size


@dataclass
class DecodedMap:
    """A decoded map: ``count`` is the runtime's own length, ``found`` the live entries
    the walk met (they differ only in a torn or corrupt map: see the warnings)."""

    impl: str
    address: int
    count: int
    entries: list[tuple[Any, Any]]
    found: int
    truncated: bool
    stats: ClassicStats | SwissStats


OnEntries = Callable[[list[tuple[Any, Any]]], None]


class EntryCollector:
    """Receives every live slot the walk finds; decodes the first ``limit`` (None: all)."""

    def __init__(self, memory: ReadableMemory, key: SlotCodec, elem: SlotCodec, limit: int | None,
                 warn: Warn, on_entries: OnEntries | None = None) -> None:
        self.memory = memory
        # Streaming: each batch of decoded entries (a group array, a bucket chain) goes to
        # on_entries and is dropped, so memory does not grow with the map.
        self.on_entries = on_entries
        self.passed = 0  # entries already handed to on_entries
        self.key = key
        self.elem = elem
        self.limit = limit
        self.warn = warn
        self.entries: list[tuple[Any, Any]] = []
        self.found = 0
        self._kdec = key.decode
        self._edec = elem.decode
        self._direct = not key.indirect and not elem.indirect

    @property
    def decoded(self) -> int:
        return self.passed + len(self.entries)

    @property
    def full(self) -> bool:
        return self.limit is not None and self.decoded >= self.limit

    def flush(self) -> None:
        """Hand the entries decoded so far to on_entries (when streaming)."""
        if self.on_entries is not None and self.entries:
            batch, self.entries = self.entries, []
            self.passed += len(batch)
            self.on_entries(batch)

    def add(self, buf: Buffer, key_off: int, elem_off: int) -> None:
        self.found += 1
        if self.limit is not None and self.decoded >= self.limit:
            return
        try:
            if self._direct:
                self.entries.append((self._kdec(buf, key_off), self._edec(buf, elem_off)))
            else:
                self.entries.append((self._value(self.key, buf, key_off), self._value(self.elem, buf, elem_off)))
        except GodbgError as e:
            self.warn(f"an entry could not be decoded: {e}")

    def add_many(self, buf: Buffer, key_offs: list[int], elem_offs: list[int]) -> None:
        """Many live slots of one buffer at once: the fast path for big maps."""
        n = len(key_offs)
        if not n:
            return
        self.found += n
        room = n if self.limit is None else min(n, self.limit - self.decoded)
        if room <= 0:
            return
        if room < n:
            key_offs, elem_offs = key_offs[:room], elem_offs[:room]
        if not self._direct:
            for k, e in zip(key_offs, elem_offs):
                self.found -= 1
                self.add(buf, k, e)
            self.flush()
            return
        kd, ed = self._kdec, self._edec
        try:
            self.entries.extend([(kd(buf, k), ed(buf, e)) for k, e in zip(key_offs, elem_offs)])
        except GodbgError:
            for k, e in zip(key_offs, elem_offs):  # slow path: find and report the bad one
                self.found -= 1
                self.add(buf, k, e)
        self.flush()

    def _value(self, codec: SlotCodec, buf: Buffer, off: int) -> Any:
        if not codec.indirect:
            return codec.decode(buf, off)
        ptr = PTR.unpack_from(buf, off)[0]
        if ptr == 0:
            self.warn("a full slot holds a nil pointer to its indirect key or value (corrupt map)")
            return None
        return codec.decode(self.memory.read(ptr, codec.size), 0)

    def result(self, impl: str, address: int, count: int, stats: ClassicStats | SwissStats) -> DecodedMap:
        if self.found != count:
            self.warn(f"map at {address:#x}: its header counts {count} entries but {self.found} were found")
        self.flush()
        return DecodedMap(impl, address, count, self.entries, self.found, self.found > self.decoded, stats)


def read_array(memory: ReadableMemory, address: int, n: int, size: int, warn: Warn,
               what: str) -> tuple[Buffer, set[int]]:
    """``n`` records of ``size`` bytes at ``address`` in one read; when that faults, in
    chunks and then record by record, so that what is readable still decodes. Returns the
    bytes (unreadable records zero-filled) and the indices of unreadable records."""
    total = n * size
    try:
        return memory.read(address, total), set()
    except GodbgError:
        pass
    buf = bytearray(total)
    if not _readable(memory, address, size) and not _readable(memory, address + total - size, size):
        # A wild pointer, not a partly dumped array: do not probe every record.
        warn(f"{what} at {address:#x} are unreadable (wild pointer?); their entries are missing")
        return buf, set(range(n))
    bad: set[int] = set()
    per_chunk = max(1, (64 << 10) // max(size, 1))
    for first in range(0, n, per_chunk):
        count = min(per_chunk, n - first)
        try:
            buf[first * size:(first + count) * size] = memory.read(address + first * size, count * size)
            continue
        except GodbgError:
            pass
        bad |= _read_by_page(memory, address, size, first, count, buf)
    if bad:
        warn(f"{len(bad)} of {n} {what} at {address:#x} are unreadable; their entries are missing")
    return buf, bad


def _read_by_page(memory: ReadableMemory, address: int, size: int, first: int, count: int,
                  buf: bytearray) -> set[int]:
    """Records first..first+count of a chunk that faulted, read a page at a time: memory
    is mapped (and dumped) in whole pages, so a page whose first and last records are
    unreadable is condemned without a read per record. Returns the unreadable indices."""
    bad: set[int] = set()
    start = address + first * size
    end = start + count * size
    unreadable: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        stop = min(end, (pos & ~(PAGE - 1)) + PAGE)
        try:
            buf[pos - address:stop - address] = memory.read(pos, stop - pos)
        except GodbgError:
            unreadable.append((pos, stop))
        pos = stop
    for lo, hi in unreadable:
        records = range(max(first, (lo - address) // size), min(first + count, -(-(hi - address) // size)))
        ends = (records[0], records[-1])
        if all(not _readable(memory, address + i * size, size) for i in ends):
            bad.update(records)  # the whole page is gone, as it is in a core
            continue
        for i in records:  # a mapping that ends inside the page: record by record
            try:
                buf[i * size:(i + 1) * size] = memory.read(address + i * size, size)
            except GodbgError:
                bad.add(i)
    return bad


def _readable(memory: ReadableMemory, address: int, size: int) -> bool:
    try:
        memory.read(address, size)
    except GodbgError:
        return False
    return True

