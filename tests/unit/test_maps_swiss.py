"""Swiss-table decoding on synthetic memory images: small maps, directories whose
entries share tables, tombstones, both group layouts (slots and mapsplitgroup),
indirect keys/elems, and corrupt images."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from godbg.errors import CorruptError, GodbgError
from godbg.runtime.maps_common import SlotCodec
from godbg.runtime.maps_swiss import CTRL_DELETED, CTRL_EMPTY, SwissLayout, decode_swiss
from tests.unit.fakes import RegionMemory as FakeMemory

MAP = 0x10000
DIR = 0x20000
TABLES = 0x100000
GROUPS = 0x400000
HEAP = 0x900000

INT = SlotCodec(lambda buf, off: struct.unpack_from("<q", buf, off)[0], 8)
BIG = SlotCodec(lambda buf, off: struct.unpack_from("<q", buf, off)[0], 136, indirect=True)


def group_layout(key: SlotCodec, elem: SlotCodec, split: bool) -> dict[str, int]:
    ks, es = key.slot_size, elem.slot_size
    if split:
        return {"group_size": 8 + 8 * ks + 8 * es, "keys_off": 8, "key_stride": ks, "elems_off": 8 + 8 * ks,
                "elem_stride": es}
    slot = ks + es
    return {"group_size": 8 + 8 * slot, "keys_off": 8, "key_stride": slot, "elems_off": 8 + ks, "elem_stride": slot}


def make_layout(key: SlotCodec = INT, elem: SlotCodec = INT, split: bool = False) -> SwissLayout:
    # internal/runtime/maps.Map and .table as Go 1.25 lays them out on 64-bit.
    return SwissLayout(
        used_off=0, dir_ptr_off=16, dir_len_off=24, global_depth_off=32, writing_off=34, map_size=48,
        t_used_off=0, t_capacity_off=2, t_growth_left_off=4, t_local_depth_off=6, t_index_off=8,
        t_groups_data_off=16, t_groups_mask_off=24, table_size=32, split_group=split,
        **group_layout(key, elem, split),
    )


class Image:
    def __init__(self, key: SlotCodec = INT, elem: SlotCodec = INT, split: bool = False) -> None:
        self.key, self.elem = key, elem
        self.lay = make_layout(key, elem, split)
        self.mem = FakeMemory()
        self.heap = HEAP
        self.next_groups = GROUPS

    def _slot(self, g: bytearray, off: int, codec: SlotCodec, value: int) -> None:
        if codec.indirect:
            self.mem.put(self.heap, struct.pack("<q", value) + bytes(codec.size - 8))
            struct.pack_into("<Q", g, off, self.heap)
            self.heap += 256
        else:
            struct.pack_into("<q", g, off, value)

    def group(self, cells: list[tuple[int, int] | str | None]) -> bytes:
        """cells: (key, elem) full, "x" tombstone, None empty."""
        lay = self.lay
        g = bytearray(lay.group_size)
        for i in range(8):
            c = cells[i] if i < len(cells) else None
            if c is None:
                g[i] = CTRL_EMPTY
            elif c == "x":
                g[i] = CTRL_DELETED
            else:
                k, v = c
                g[i] = k & 0x7F
                self._slot(g, lay.keys_off + i * lay.key_stride, self.key, k)
                self._slot(g, lay.elems_off + i * lay.elem_stride, self.elem, v)
        return bytes(g)

    def header(self, used: int, dir_ptr: int, dir_len: int, depth: int, writing: int = 0) -> None:
        self.mem.put(MAP, struct.pack("<QQQqBBBx", used, 0, dir_ptr, dir_len, depth, 0, writing) + bytes(12))

    def table(self, addr: int, groups: list[bytes], used: int, depth: int, index: int) -> None:
        data = self.next_groups
        self.next_groups += 0x10000
        self.mem.put(data, b"".join(groups))
        cap = 8 * len(groups)
        self.mem.put(addr, struct.pack("<HHHBxqQQ", used, cap, cap * 7 // 8 - used, depth, index, data,
                                       len(groups) - 1))

    def decode(self, limit: int | None = None):
        warnings: list[str] = []
        got = decode_swiss(self.mem, MAP, self.lay, self.key, self.elem, limit, warnings.append)
        return dict(got.entries), warnings, got


def test_nil_small_map_is_empty() -> None:
    img = Image()
    img.header(0, 0, 0, 0)
    got, warnings, res = img.decode()
    assert got == {} and warnings == [] and res.stats.small and res.stats.groups == 0


@pytest.mark.parametrize("split", [False, True])
def test_small_map_one_group(split: bool) -> None:
    img = Image(split=split)
    img.mem.put(GROUPS, img.group([(1, 10), None, (3, 30), (4, 40)]))
    img.header(3, GROUPS, 0, 0)
    got, warnings, res = img.decode()
    assert got == {1: 10, 3: 30, 4: 40} and warnings == []
    assert res.stats.small and res.stats.groups == 1 and res.stats.split_group is split


def _directory_image(split: bool = False, key: SlotCodec = INT, elem: SlotCodec = INT) -> tuple[Image, dict]:
    """globalDepth 2: table A (localDepth 1) fills entries 0-1, B and C one each."""
    img = Image(key, elem, split)
    truth: dict[int, int] = {}
    a, b, c = TABLES, TABLES + 0x100, TABLES + 0x200
    ga = [img.group([(k, k * 2) for k in range(g * 8, g * 8 + 7)] + ["x"]) for g in range(2)]
    for g in range(2):
        truth.update({k: k * 2 for k in range(g * 8, g * 8 + 7)})
    img.table(a, ga, 14, 1, 0)
    img.table(b, [img.group([(100, 1), "x", (101, 2)])], 2, 2, 2)
    truth.update({100: 1, 101: 2})
    img.table(c, [img.group([]), img.group([(200, 3)])], 1, 2, 3)
    truth[200] = 3
    img.mem.put(DIR, struct.pack("<4Q", a, a, b, c))
    img.header(len(truth), DIR, 4, 2)
    return img, truth


@pytest.mark.parametrize("split", [False, True])
def test_directory_tables_are_visited_once(split: bool) -> None:
    img, truth = _directory_image(split)
    got, warnings, res = img.decode()
    assert got == truth and len(res.entries) == len(truth) and warnings == []
    stats = res.stats
    assert not stats.small and stats.dir_len == 4 and stats.global_depth == 2
    assert [t.local_depth for t in stats.tables] == [1, 2, 2]
    assert [t.tombstones for t in stats.tables] == [2, 1, 0]
    assert [t.capacity for t in stats.tables] == [16, 8, 16]
    assert stats.groups == 5 and stats.load_factor == round(17 / 40, 3)


def test_indirect_keys_and_elems() -> None:
    img, truth = _directory_image(False, BIG, BIG)
    got, warnings, res = img.decode()
    assert got == truth and warnings == []
    assert res.stats.indirect_key and res.stats.indirect_elem


def test_limit() -> None:
    img, truth = _directory_image()
    got, _, res = img.decode(limit=3)
    assert len(got) == 3 and res.truncated and res.found == len(truth)


def test_writing_warns() -> None:
    img = Image()
    img.mem.put(GROUPS, img.group([(1, 1)]))
    img.header(1, GROUPS, 0, 0, writing=1)
    _, warnings, res = img.decode()
    assert res.stats.writing and any("being written" in w for w in warnings)


def test_stale_table_and_count_mismatch_warn() -> None:
    img, truth = _directory_image()
    raw = img.mem.regions[TABLES + 0x100]
    struct.pack_into("<q", raw, 8, -1)
    img.header(len(truth) + 5, DIR, 4, 2)
    got, warnings, _ = img.decode()
    assert got == truth
    assert any("replaced" in w for w in warnings)
    assert any("counts" in w for w in warnings)


def test_wild_table_pointer_keeps_other_tables() -> None:
    img, truth = _directory_image()
    raw = img.mem.regions[DIR]
    struct.pack_into("<Q", raw, 24, 0xDEAD000)
    got, warnings, _ = img.decode()
    assert got == {k: v for k, v in truth.items() if k != 200}
    assert any("unreadable" in w for w in warnings)


def test_absurd_directory_is_corrupt() -> None:
    img = Image()
    img.header(1, DIR, 1 << 40, 40)
    with pytest.raises(CorruptError):
        img.decode()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=40))
def test_corrupt_images_end_in_a_result_or_a_godbg_error(flips: list[tuple[int, int]]) -> None:
    img, _ = _directory_image()
    regions = list(img.mem.regions.values())
    for pos, value in flips:
        region = regions[pos % len(regions)]
        region[pos % len(region)] = value
    try:
        res = decode_swiss(img.mem, MAP, img.lay, img.key, img.elem, None, lambda w: None)
    except GodbgError:
        return
    assert res.found >= len(res.entries)
