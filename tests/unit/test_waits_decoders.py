"""The wait decoders on memory images built here: sudog lists (a select's chain, not a
semaphore's same-address chain), channel rings oldest first, the semaphore treap, and
the leak pass's marking (spans bound objects, pointer-free spans are not scanned, the
sudogs' hidden words are not followed)."""

from __future__ import annotations

import struct
from types import SimpleNamespace

import pytest

from godbg.errors import CorruptError
from godbg.program.binary import Symbol
from godbg.program.memory import CachedMemory
from godbg.program.target import Target
from godbg.runtime.chans import RECV, SEND, read_hchan
from godbg.runtime.heap import Heap, Span
from godbg.runtime.layouts import StructLayout
from godbg.runtime.leaks import Marker
from godbg.runtime.semtable import sema_waiters
from godbg.runtime.sudog import g_waiting_sudogs
from tests.unit.fakes import RegionMemory

# Go 1.22's runtime.sudog and runtime.hchan (amd64), as DWARF describes them.
SUDOG = StructLayout("runtime.sudog", 88, {"g": 0, "next": 8, "prev": 16, "elem": 24, "ticket": 48, "isSelect": 52,
                                           "parent": 56, "waitlink": 64, "c": 80}, {})
HCHAN = StructLayout("runtime.hchan", 96, {"qcount": 0, "dataqsiz": 8, "buf": 16, "elemsize": 24, "closed": 28,
                                           "elemtype": 32, "sendx": 40, "recvx": 48, "recvq.first": 56,
                                           "sendq.first": 72}, {})
SEMAROOT = StructLayout("runtime.semaRoot", 24, {"treap": 8}, {})
SEMTABLE = 0x7000
SEM_TAB_SIZE = 251
STRIDE = 64


class FakeBinary:
    has_dwarf = False

    def symbol(self, name: str) -> Symbol | None:
        if name == "runtime.semtable":
            return Symbol(name, SEMTABLE, SEM_TAB_SIZE * STRIDE, "object")
        return None


def target_with(raw: RegionMemory) -> Target:
    t = Target(binary=FakeBinary(), memory=CachedMemory(raw), kind="core", threads_fn=list)  # type: ignore[arg-type]
    for lay in (SUDOG, HCHAN, SEMAROOT):
        t.cache[f"layout:{lay.name}"] = lay
    t.cache["rtype:0x0"] = SimpleNamespace(name=None)
    return t


def sudog(raw: RegionMemory, addr: int, *, g: int, next: int = 0, prev: int = 0, elem: int = 0,
          waitlink: int = 0, is_select: bool = False, c: int = 0) -> None:
    buf = bytearray(88)
    for off, v in ((0, g), (8, next), (16, prev), (24, elem), (64, waitlink), (80, c)):
        struct.pack_into("<Q", buf, off, v)
    buf[52] = int(is_select)
    raw.put(addr, bytes(buf))


def test_a_select_follows_waitlink_and_a_semaphore_waiter_does_not() -> None:
    raw = RegionMemory()
    sudog(raw, 0x1000, g=0xA, waitlink=0x1100, is_select=True, c=0x5000)
    sudog(raw, 0x1100, g=0xA, is_select=True, c=0x6000)
    sudog(raw, 0x1200, g=0xB, elem=0x9000, waitlink=0x1300)  # a semaphore: the next waiter is another g
    sudog(raw, 0x1300, g=0xC, elem=0x9000)
    t = target_with(raw)
    assert [s.c for s in g_waiting_sudogs(t, 0x1000)] == [0x5000, 0x6000]
    assert [s.g for s in g_waiting_sudogs(t, 0x1200)] == [0xB]
    assert g_waiting_sudogs(t, 0) == []


def hchan(raw: RegionMemory, addr: int, *, qcount: int, cap: int, buf: int, elemsize: int, recvx: int,
          recvq: int = 0, sendq: int = 0, closed: int = 0) -> None:
    b = bytearray(96)
    struct.pack_into("<QQQH", b, 0, qcount, cap, buf, elemsize)
    struct.pack_into("<I", b, 28, closed)
    struct.pack_into("<QQQ", b, 40, (recvx + qcount) % cap if cap else 0, recvx, recvq)
    struct.pack_into("<Q", b, 72, sendq)
    raw.put(addr, bytes(b))


def test_channel_ring_oldest_first_and_queues() -> None:
    raw = RegionMemory()
    hchan(raw, 0x2000, qcount=3, cap=4, buf=0x3000, elemsize=8, recvx=2, recvq=0, sendq=0x1000, closed=1)
    sudog(raw, 0x1000, g=0xA, next=0x1100, elem=0x4000)
    sudog(raw, 0x1100, g=0xB, elem=0x4008)
    t = target_with(raw)
    ch = read_hchan(t, 0x2000)
    assert ch.slot_addresses() == [0x3010, 0x3018, 0x3000]
    assert ch.closed and [s.g for s in ch.sendq] == [0xA, 0xB] and ch.recvq == ()
    assert ch.direction_of(0x1100) == SEND and ch.direction_of(0x1) is None
    hchan(raw, 0x2100, qcount=0, cap=0, buf=0, elemsize=8, recvx=0, recvq=0x1000)
    assert read_hchan(target_with(raw), 0x2100).direction_of(0x1000) == RECV


def test_a_channel_with_more_items_than_room_is_corrupt() -> None:
    raw = RegionMemory()
    hchan(raw, 0x2000, qcount=5, cap=4, buf=0x3000, elemsize=8, recvx=0)
    with pytest.raises(CorruptError):
        read_hchan(target_with(raw), 0x2000)


def test_semaphore_treap_nodes_and_their_same_address_waiters() -> None:
    raw = RegionMemory()
    table = bytearray(SEM_TAB_SIZE * STRIDE)
    struct.pack_into("<Q", table, 3 * STRIDE + 8, 0x1000)  # root of semaRoot 3
    raw.put(SEMTABLE, bytes(table))
    sudog(raw, 0x1000, g=0xA, elem=0x9000, prev=0x1100, next=0x1200, waitlink=0x1300)
    sudog(raw, 0x1100, g=0xB, elem=0x8000)
    sudog(raw, 0x1200, g=0xC, elem=0x9800)
    sudog(raw, 0x1300, g=0xD, elem=0x9000)
    found = sema_waiters(target_with(raw))
    assert {g: w.sema for g, w in found.items()} == {0xA: 0x9000, 0xB: 0x8000, 0xC: 0x9800, 0xD: 0x9000}


def test_marking_is_bounded_by_spans_skips_pointer_free_spans_and_hidden_words() -> None:
    raw = RegionMemory()
    scan = Span(0x100000, 0x100000 + 4 * 32, 32, 4, False, 3, 0)
    noscan = Span(0x102000, 0x102000 + 2 * 64, 64, 2, True, 5, 0)
    # object 0 points into object 2 (interior pointer) and into the noscan span;
    # object 2's word 1 is hidden (a sudog's c); object 3 is reached only through it.
    objs = [[0x100000 + 2 * 32 + 8, 0x102000 + 70, 0, 0], [0, 0, 0, 0], [0, 0x100000 + 3 * 32, 0, 0],
            [0, 0, 0, 0]]
    raw.put(scan.start, b"".join(struct.pack("<4Q", *o) for o in objs))
    raw.put(noscan.start, struct.pack("<Q", 0x100000 + 32).ljust(128, b"\0"))  # never scanned
    t = target_with(raw)
    m = Marker(t, Heap([scan, noscan]), {0x100000 + 2 * 32: (8,)})
    m.words([0x100000 + 5, 0x5000, 0])
    m.drain()
    assert m.marked == {0x100000, 0x100000 + 64, 0x102000 + 64}
    assert m.reached(0x100000 + 64 + 16) and not m.reached(0x100000 + 3 * 32) and m.reached(0x5000)
