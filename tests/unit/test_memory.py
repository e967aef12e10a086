"""The page cache: reads across pages, faults, and the typed helpers."""

from __future__ import annotations

import struct

import pytest

from godbg.errors import FaultError
from godbg.program.memory import PAGE, CachedMemory


class Backing:
    def __init__(self, base: int, data: bytes) -> None:
        self.base, self.data, self.calls = base, data, 0

    def read(self, address: int, size: int) -> bytes:
        self.calls += 1
        off = address - self.base
        if off < 0 or off + size > len(self.data):
            raise FaultError(address, size)
        return self.data[off : off + size]


def test_reads_and_cache():
    data = bytes(i & 0xFF for i in range(3 * PAGE))
    raw = Backing(0x10000, data)
    mem = CachedMemory(raw)
    assert mem.read(0x10000 + PAGE - 2, 4) == data[PAGE - 2 : PAGE + 2]
    calls = raw.calls
    assert mem.read(0x10000 + PAGE, 8) == data[PAGE : PAGE + 8]
    assert raw.calls == calls  # served from the cache
    mem.clear()
    mem.read(0x10000, 1)
    assert raw.calls == calls + 1


def test_faults_are_godbg_errors():
    mem = CachedMemory(Backing(0x10000, bytes(PAGE)))
    with pytest.raises(FaultError):
        mem.read(0x10000 + PAGE - 4, 8)
    with pytest.raises(FaultError):
        mem.read(0, 8)
    with pytest.raises(FaultError):
        mem.read(0x10000, 1 << 40)


def test_typed_helpers():
    blob = struct.pack("<QQ", 0x10010, 5) + b"hello" + bytes(PAGE - 21)
    mem = CachedMemory(Backing(0x10000, blob))
    assert mem.u64(0x10008) == 5
    assert mem.gostring(0x10000) == "hello"
    assert mem.readable(0x10000) and not mem.readable(0x90000)
