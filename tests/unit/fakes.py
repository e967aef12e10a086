"""Synthetic memory for unit tests: regions of bytes at chosen addresses, everything
else unmapped (a read there raises FaultError, like a page missing from a core).

    mem = FakeMemory()
    mem.put(0x1000, b"...")              # bytes at a fixed address
    p = mem.alloc(b"hello")              # bytes somewhere on a fake heap; returns the address
    hdr = go_string(mem, "hello")        # a Go string header {data, len} (16 bytes)
    hdr = go_slice(mem, struct.pack("<3q", 1, 2, 3), 3)

FakeMemory is a godbg Memory, so the typed helpers (u64, ptr, gostring, ...) work too.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from godbg.errors import FaultError
from godbg.program.memory import Memory

# Where alloc() starts placing things, and the unmapped gap it leaves after each block
# (so a read past the end of one allocation faults instead of reading the next one).
HEAP_BASE = 0x7F00_0000_0000
_GAP = 64


class RegionMemory:
    """Raw memory: byte regions at fixed addresses, anything else faults like an
    unmapped page in a core; counts the reads that reach it (to check bulk reading)."""

    def __init__(self) -> None:
        self.regions: dict[int, bytearray] = {}
        self.reads = 0

    def put(self, address: int, data: bytes) -> None:
        self.regions[address] = bytearray(data)

    def read(self, address: int, size: int) -> bytes:
        self.reads += 1
        for base, data in self.regions.items():
            if base <= address and address + size <= base + len(data):
                off = address - base
                return bytes(data[off : off + size])
        raise FaultError(address, size, "unmapped in FakeMemory")


class FakeMemory(Memory):
    """Byte regions at fixed addresses; reads outside them raise FaultError."""

    def __init__(self, regions: Mapping[int, bytes] | None = None, heap: int = HEAP_BASE) -> None:
        self._backing = RegionMemory()
        super().__init__(self._backing)
        self._next = heap
        for address, data in (regions or {}).items():
            self.put(address, data)

    @property
    def reads(self) -> int:
        """How many reads reached the backing (to check bulk reading)."""
        return self._backing.reads

    def put(self, address: int, data: bytes) -> int:
        self._backing.regions[address] = bytearray(data)
        return address

    def alloc(self, data: bytes, align: int = 16) -> int:
        """Place ``data`` at a fresh address on the fake heap and return that address."""
        address = self._next
        self.put(address, data)
        self._next = (address + len(data) + _GAP + align - 1) & ~(align - 1)
        return address

    def write(self, address: int, data: bytes) -> None:
        """Overwrite bytes inside an existing region."""
        for base, region in self._backing.regions.items():
            if base <= address and address + len(data) <= base + len(region):
                region[address - base : address - base + len(data)] = data
                return
        raise FaultError(address, len(data), "write outside FakeMemory regions")


def go_string(mem: FakeMemory, s: str | bytes) -> bytes:
    """Store the bytes and return the 16-byte Go string header pointing at them."""
    raw = s.encode() if isinstance(s, str) else s
    data = mem.alloc(raw) if raw else 0
    return struct.pack("<Qq", data, len(raw))


def go_slice(mem: FakeMemory, elems: bytes, length: int, cap: int | None = None) -> bytes:
    """Store the backing array and return the 24-byte slice header."""
    data = mem.alloc(elems) if elems else 0
    return struct.pack("<Qqq", data, length, length if cap is None else cap)
