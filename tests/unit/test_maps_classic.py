"""Classic hmap/bucket decoding on synthetic memory images: plain, overflow chains,
growth (doubling and same size), indirect keys/elems, and corrupt images."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from godbg.errors import CorruptError, GodbgError
from godbg.results.maps import TophashCounts
from godbg.runtime.maps_classic import (
    EVACUATED_X,
    EVACUATED_Y,
    FLAG_HASH_WRITING,
    FLAG_SAME_SIZE_GROW,
    ClassicLayout,
    decode_classic,
)
from godbg.runtime.maps_common import SlotCodec
from tests.unit.fakes import RegionMemory as FakeMemory

HMAP = 0x10000
BUCKETS = 0x200000
OLD = 0x400000
OVERFLOW = 0x600000
HEAP = 0x800000


def int_codec(size: int = 8) -> SlotCodec:
    return SlotCodec(lambda buf, off: struct.unpack_from("<q", buf, off)[0], 8)


def big_codec() -> SlotCodec:
    """A 136-byte value stored behind a pointer; decodes to its first int64."""
    return SlotCodec(lambda buf, off: struct.unpack_from("<q", buf, off)[0], 136, indirect=True)


INT = int_codec()


def layout(key: SlotCodec = INT, elem: SlotCodec = INT) -> ClassicLayout:
    return ClassicLayout.fallback(key, elem)


class Image:
    """Builds an hmap with its buckets; entries are placed in bucket ``key % nbuckets``."""

    def __init__(self, key: SlotCodec = INT, elem: SlotCodec = INT) -> None:
        self.key, self.elem = key, elem
        self.lay = layout(key, elem)
        self.mem = FakeMemory()
        self.next_overflow = OVERFLOW
        self.next_heap = HEAP

    def bucket_bytes(self, cells: list[tuple[int, int, int]], overflow: int = 0) -> bytearray:
        lay = self.lay
        b = bytearray(lay.bucket_size)
        for i, (top, k, v) in enumerate(cells):
            b[i] = top
            self._slot(b, lay.keys_off + i * self.key.slot_size, self.key, k)
            self._slot(b, lay.elems_off + i * self.elem.slot_size, self.elem, v)
        struct.pack_into("<Q", b, lay.overflow_off, overflow)
        return b

    def _slot(self, b: bytearray, off: int, codec: SlotCodec, value: int) -> None:
        if codec.indirect:
            addr = self.next_heap
            self.next_heap += 256
            self.mem.put(addr, struct.pack("<q", value) + bytes(codec.size - 8))
            struct.pack_into("<Q", b, off, addr)
        else:
            struct.pack_into("<q", b, off, value)

    def chain(self, entries: list[tuple[int, int]], tag: int = 0) -> bytearray:
        """A bucket (returned) with overflow buckets (placed in memory) for ``entries``."""
        groups = [entries[i:i + 8] for i in range(0, len(entries), 8)] or [[]]
        nxt = 0
        for group in reversed(groups[1:]):
            addr = self.next_overflow
            self.next_overflow += 0x1000
            self.mem.put(addr, self.bucket_bytes([(5 + (k % 200), k, v) for k, v in group], nxt))
            nxt = addr
        return self.bucket_bytes([(5 + (k % 200), k, v) for k, v in groups[0]], nxt)

    def array(self, per_bucket: list[list[tuple[int, int]]]) -> bytes:
        return b"".join(bytes(self.chain(e)) for e in per_bucket)

    def hmap(self, count: int, b: int, buckets: int, old: int = 0, flags: int = 0, nevacuate: int = 0) -> None:
        self.mem.put(HMAP, struct.pack("<qBBHIQQQQ", count, flags, b, 0, 0, buckets, old, nevacuate, 0))

    def simple(self, entries: dict[int, int], b: int) -> None:
        nb = 1 << b
        per = [[(k, v) for k, v in entries.items() if k % nb == j] for j in range(nb)]
        self.mem.put(BUCKETS, self.array(per))
        self.hmap(len(entries), b, BUCKETS)

    def decode(self, limit: int | None = None) -> tuple[dict, list[str], object]:
        warnings: list[str] = []
        got = decode_classic(self.mem, HMAP, self.lay, self.key, self.elem, limit, warnings.append)
        return dict(got.entries), warnings, got


def test_plain_map_with_overflow_chains() -> None:
    img = Image()
    entries = {k: -k for k in range(0, 60, 3)}  # 20 entries into 2 buckets (k % 2)
    img.simple(entries, 1)
    got, warnings, res = img.decode()
    assert got == entries and warnings == []
    stats = res.stats
    assert stats.b == 1 and stats.buckets == 2 and stats.overflow_buckets == 2
    assert stats.chain_lengths == ((2, 2),)
    assert stats.tophash == TophashCounts(empty=12, evacuated=0, full=20)
    assert stats.growing is False and stats.load_factor == 10.0
    assert stats.to_json()["chain_lengths"] == {"2": 2} and stats.to_json()["B"] == 1


def test_bucket_array_is_read_in_one_call() -> None:
    img = Image()
    entries = {k: k for k in range(400)}
    img.simple(entries, 6)
    img.mem.reads = 0
    got, warnings, _ = img.decode()
    assert got == entries and warnings == []
    assert img.mem.reads == 2  # the header and the whole bucket array


def test_nil_bucket_array_is_an_empty_map() -> None:
    img = Image()
    img.hmap(0, 0, 0)
    got, warnings, res = img.decode()
    assert got == {} and warnings == [] and res.count == 0


def test_limit_decodes_only_the_first_entries_but_counts_all() -> None:
    img = Image()
    img.simple({k: k for k in range(50)}, 3)
    got, _, res = img.decode(limit=7)
    assert len(got) == 7 and res.found == 50 and res.truncated


def _growing_image(same_size: bool) -> tuple[Image, dict[int, int]]:
    """B=3 now; old array of 4 (doubling) or 8 (same size). Old bucket 0 is evacuated
    (its entries live in new buckets 0 and 4), the others still hold their entries."""
    img = Image()
    b = 3
    nb = 1 << b
    old_n = nb if same_size else nb // 2
    truth: dict[int, int] = {}
    old_per: list[list[tuple[int, int]]] = []
    for i in range(old_n):
        old_per.append([(k, k * 10) for k in range(i, 200, old_n)][:12] if i else [])
    for chain in old_per:
        truth.update(chain)
    evacuated_entries = [(k, k * 10) for k in range(1000, 1200, old_n)][:10]  # were in old bucket 0
    truth.update(evacuated_entries)
    old = b"".join(bytes(img.chain(c)) for c in old_per)
    old = bytearray(old)
    for i in range(8):  # old bucket 0: evacuated marks
        old[i] = EVACUATED_X if i % 2 else EVACUATED_Y
    new_per: list[list[tuple[int, int]]] = [[] for _ in range(nb)]
    for k, v in evacuated_entries:
        new_per[0 if same_size or k % 2 == 0 else old_n].append((k, v))
    img.mem.put(OLD, bytes(old))
    img.mem.put(BUCKETS, img.array(new_per))
    flags = FLAG_SAME_SIZE_GROW if same_size else 0
    img.hmap(len(truth), b, BUCKETS, OLD, flags, nevacuate=1)
    return img, truth


@pytest.mark.parametrize("same_size", [False, True])
def test_mid_growth_lists_unevacuated_old_buckets_once(same_size: bool) -> None:
    img, truth = _growing_image(same_size)
    got, warnings, res = img.decode()
    assert got == truth and len(res.entries) == len(truth)
    assert warnings == []
    stats = res.stats
    assert stats.growing and stats.same_size_grow is same_size
    assert stats.old_buckets == (8 if same_size else 4)
    assert stats.evacuated == 1 and stats.nevacuate == 1
    assert stats.tophash.evacuated == 8


def test_entries_in_new_bucket_of_unevacuated_old_bucket_are_ignored() -> None:
    img, truth = _growing_image(False)
    lay = img.lay
    raw = bytearray(img.mem.regions[BUCKETS])
    base = 1 * lay.bucket_size  # new bucket 1 <- old bucket 1, not evacuated
    raw[base] = 77
    struct.pack_into("<qq", raw, base + lay.keys_off, 99999, 0)
    img.mem.put(BUCKETS, bytes(raw))
    got, warnings, _ = img.decode()
    assert got == truth
    assert any("not evacuated" in w for w in warnings)


def test_indirect_keys_and_elems_are_followed() -> None:
    img = Image(big_codec(), big_codec())
    entries = {k: k + 1000 for k in range(30)}
    img.simple(entries, 1)
    got, warnings, res = img.decode()
    assert got == entries and warnings == []
    assert res.stats.indirect_key and res.stats.indirect_elem
    assert img.lay.bucket_size == 8 + 8 * 8 + 8 * 8 + 8


def test_hash_writing_flag_warns() -> None:
    img = Image()
    img.simple({1: 2}, 0)
    img.hmap(1, 0, BUCKETS, flags=FLAG_HASH_WRITING)
    got, warnings, res = img.decode()
    assert got == {1: 2} and res.stats.writing
    assert any("being written" in w for w in warnings)


def test_overflow_cycle_ends_with_a_warning() -> None:
    img = Image()
    entries = {k: k for k in range(0, 40)}
    img.simple(entries, 0)  # one bucket, four overflow buckets
    first_overflow = OVERFLOW + 0x3000  # chains are built back to front
    last = OVERFLOW
    raw = img.mem.regions[last]
    struct.pack_into("<Q", raw, img.lay.overflow_off, first_overflow)  # last -> first: a loop
    got, warnings, _ = img.decode()
    assert got == entries
    assert any("loops" in w for w in warnings)


def test_wild_overflow_pointer_keeps_what_was_read() -> None:
    img = Image()
    img.simple({k: k for k in range(12)}, 0)
    raw = bytearray(img.mem.regions[BUCKETS])
    struct.pack_into("<Q", raw, img.lay.overflow_off, 0xDEAD0000)
    img.mem.put(BUCKETS, bytes(raw))
    got, warnings, _ = img.decode()
    assert got == {k: k for k in range(8)}
    assert any("unreadable" in w for w in warnings)
    assert any("12 entries but 8" in w for w in warnings)


def test_wild_bucket_pointer_warns_without_probing_every_bucket() -> None:
    img = Image()
    img.hmap(5_000_000, 20, 0xBAD000000)
    img.mem.reads = 0
    got, warnings, res = img.decode()
    assert got == {} and res.found == 0
    assert any("wild pointer" in w for w in warnings)
    assert img.mem.reads < 10


def test_partly_readable_bucket_array_keeps_the_readable_buckets() -> None:
    img = Image()
    entries = {k: k for k in range(64)}
    img.simple(entries, 3)
    raw = img.mem.regions.pop(BUCKETS)
    half = 4 * img.lay.bucket_size
    img.mem.put(BUCKETS, bytes(raw[:half]))  # buckets 4..7 are missing from the "core"
    got, warnings, _ = img.decode()
    assert got == {k: k for k in range(64) if k % 8 < 4}
    assert any("4 of 8 buckets" in w for w in warnings)


def test_absurd_b_is_corrupt() -> None:
    img = Image()
    img.hmap(1, 60, BUCKETS)
    with pytest.raises(CorruptError):
        img.decode()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=40), st.booleans())
def test_corrupt_images_end_in_a_result_or_a_godbg_error(flips: list[tuple[int, int]], growing: bool) -> None:
    img, _ = _growing_image(False) if growing else (Image(), None)
    if not growing:
        img.simple({k: k for k in range(100)}, 3)
    regions = list(img.mem.regions.values())
    for pos, value in flips:
        region = regions[pos % len(regions)]
        region[pos % len(region)] = value
    try:
        res = decode_classic(img.mem, HMAP, img.lay, img.key, img.elem, None, lambda w: None)
    except GodbgError:
        return
    assert res.found >= len(res.entries)
