"""Swiss-table Go maps (`internal/runtime/maps.Map`, Go 1.24+). Facts from
src/internal/runtime/maps/{map,table,group}.go and internal/abi/map*.go.

A small map (dirLen == 0) keeps up to 8 entries in the one group dirPtr points at (nil
until the first write). Otherwise dirPtr is [dirLen]*table, and a table whose localDepth
is below globalDepth fills 2^(globalDepth-localDepth) directory entries: each table is
visited once. A table's groups are one array, read in one call. Growth and splits
replace tables whole inside one write, so a quiescent map is never half-split; a table
whose ``index`` is -1 (replaced) means the program stopped inside such a write."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from godbg.errors import CorruptError, GodbgError
from godbg.results.maps import SwissStats, SwissTable
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

IMPL = "swiss"

GROUP_SLOTS = 8  # abi.MapGroupSlots (SwissMapGroupSlots in 1.24-1.25)
CTRL_EMPTY = 0x80  # ctrlEmpty
CTRL_DELETED = 0xFE  # ctrlDeleted: a tombstone
CTRL_FULL_BIT = 0x80  # a full slot has the high bit clear (the low 7 bits are H2)
_BITSET_MSB = 0x8080808080808080  # bitsetMSB: the high bit of every ctrl byte
_CTRL_WORD_EMPTY = 0x8080808080808080  # bitsetEmpty: every slot empty
_FULL_SLOTS: dict[int, tuple[int, ...]] = {}
# maxTableCapacity (table.go, 1.24-1.27): a table over it is split, never grown.
MAX_TABLE_CAPACITY = 1024
# Sanity caps: past these the header is corrupt memory, not a big map.
MAX_DIR_LEN = 1 << 24
# globalDepth of a real map is at most log2(MAX_DIR_LEN); beyond it the field is corrupt.
MAX_GLOBAL_DEPTH = 24
# A directory whose tables keep failing is not a directory: stop walking it.
MAX_BAD_TABLES_IN_A_ROW = 16
MAX_CAPACITY = 1 << 16  # table.capacity is a uint16
STALE_TABLE_INDEX = -1
_U16 = struct.Struct("<H")
_Q = struct.Struct("<Q")
_I64 = struct.Struct("<q")


@dataclass(frozen=True)
class SwissLayout:
    """Offsets in maps.Map and maps.table, and the group layout of this map type:
    key(i) = keys_off + i*key_stride, elem(i) = elems_off + i*elem_stride (the formulas
    of abi.MapType, which cover both the slot layout and 1.27's mapsplitgroup)."""

    used_off: int
    dir_ptr_off: int
    dir_len_off: int
    global_depth_off: int
    writing_off: int
    map_size: int
    t_used_off: int
    t_capacity_off: int
    t_growth_left_off: int
    t_local_depth_off: int
    t_index_off: int
    t_groups_data_off: int
    t_groups_mask_off: int
    table_size: int
    group_size: int
    keys_off: int
    key_stride: int
    elems_off: int
    elem_stride: int
    split_group: bool = False  # GOEXPERIMENT=mapsplitgroup: ctrl, keys[8], elems[8]


def _full_slots(mask: int) -> tuple[int, ...]:
    """Slot indices of the set high bits in ``mask`` (a matchFull bitset), memoized."""
    found = _FULL_SLOTS.get(mask)
    if found is None:
        found = _FULL_SLOTS[mask] = tuple(i for i in range(GROUP_SLOTS) if mask >> (8 * i + 7) & 1)
    return found


def _walk_groups(buf: Buffer, ngroups: int, bad: set[int], lay: SwissLayout,
                 sink: EntryCollector) -> tuple[int, int]:
    """Collect the full slots of ``ngroups`` consecutive groups in ``buf``: (full, tombstones).
    The ctrl words are read as one strided array; the slots of the whole array are then
    decoded in one batch."""
    gs = lay.group_size
    ko, ks, eo, es = lay.keys_off, lay.key_stride, lay.elems_off, lay.elem_stride
    if gs % 8 == 0 and len(buf) % 8 == 0:
        ctrls = memoryview(buf).cast("B").cast("Q")[:ngroups * gs // 8:gs // 8].tolist()
    else:
        ctrls = [_Q.unpack_from(buf, g * gs)[0] for g in range(ngroups)]
    key_offs: list[int] = []
    elem_offs: list[int] = []
    tombstones = 0
    for g, word in enumerate(ctrls):
        if word == _CTRL_WORD_EMPTY or g in bad:
            continue
        full = ~word & _BITSET_MSB
        deleted = word & _BITSET_MSB & (word << 6)  # 0xFE has bit 1 set, 0x80 does not
        if deleted:
            tombstones += bin(deleted).count("1")
        if full:
            base = g * gs
            for i in _full_slots(full):
                key_offs.append(base + ko + i * ks)
                elem_offs.append(base + eo + i * es)
    sink.add_many(buf, key_offs, elem_offs)
    return len(key_offs), tombstones


def decode_swiss(memory: ReadableMemory, address: int, lay: SwissLayout, key: SlotCodec, elem: SlotCodec,
                 limit: int | None, warn: Warn,
                 on_entries: OnEntries | None = None) -> DecodedMap:
    """Every live entry of the maps.Map at ``address`` (up to ``limit`` decoded) and its structure."""
    sink = EntryCollector(memory, key, elem, limit, warn, on_entries)
    hdr = memory.read(address, lay.map_size)
    used = _Q.unpack_from(hdr, lay.used_off)[0]
    dir_ptr = PTR.unpack_from(hdr, lay.dir_ptr_off)[0]
    dir_len = _I64.unpack_from(hdr, lay.dir_len_off)[0]
    depth = hdr[lay.global_depth_off]
    writing = hdr[lay.writing_off] != 0
    if writing:
        warn(f"map at {address:#x} was being written when the program stopped: entries may be torn or missing")

    def stats(tables: tuple[SwissTable, ...], groups: int, tombstones: int, load_factor: float) -> SwissStats:
        return SwissStats(small=dir_len == 0, dir_len=dir_len, global_depth=depth, tables=tables, groups=groups,
                          tombstones=tombstones, load_factor=load_factor, writing=writing,
                          indirect_key=key.indirect, indirect_elem=elem.indirect, split_group=lay.split_group)

    if dir_len == 0:
        small = stats((), 0, 0, 0.0)
        if dir_ptr:
            try:
                group = memory.read(dir_ptr, lay.group_size)
            except GodbgError:
                warn(f"the small map's group at {dir_ptr:#x} is unreadable; its entries are missing")
            else:
                _, tombstones = _walk_groups(group, 1, set(), lay, sink)
                small = stats((), 1, tombstones, round(used / GROUP_SLOTS, 3))
        elif used:
            warn(f"map at {address:#x} counts {used} entries but has no group")
        return sink.result(IMPL, address, used, small)
    if dir_len < 0 or dir_len > MAX_DIR_LEN:
        raise CorruptError(f"map at {address:#x} has a directory of {dir_len} tables: not a live map")
    if dir_len != 1 << depth:
        warn(f"map at {address:#x}: directory length {dir_len} is not 2^globalDepth ({depth}): corrupt header")
    # The runtime keeps dirLen == 1 << globalDepth; when they differ one of them is corrupt. Read
    # the shorter directory, so a wild length cannot send the walk through the heap (the stats
    # keep the header's dirLen).
    walk_len = min(dir_len, 1 << depth) if depth < MAX_GLOBAL_DEPTH else dir_len
    raw_dir, bad = read_array(memory, dir_ptr, walk_len, PTR.size, warn, "directory entries")
    entries = memoryview(bytes(raw_dir)).cast("Q").tolist()
    tables = [p for i, p in enumerate(entries) if i not in bad] if bad else entries
    walked: list[SwissTable] = []
    bad_in_a_row = 0
    for index, table in enumerate(dict.fromkeys(tables)):
        if not table:
            warn(f"map at {address:#x}: directory entry {index} is nil (corrupt directory)")
            continue
        info = _walk_table(memory, table, lay, sink, warn)
        bad_in_a_row = 0 if info is not None else bad_in_a_row + 1
        if bad_in_a_row >= MAX_BAD_TABLES_IN_A_ROW:
            warn(f"map at {address:#x}: {bad_in_a_row} tables in a row are unreadable or corrupt; "
                 "the rest of the directory was not walked")
            break
        if info is not None:
            walked.append(info)
    slots = sum(t.capacity for t in walked)
    return sink.result(IMPL, address, used, stats(
        tuple(walked), sum(t.groups for t in walked), sum(t.tombstones for t in walked),
        round(used / slots, 3) if slots else 0.0))


def _walk_table(memory: ReadableMemory, table: int, lay: SwissLayout, sink: EntryCollector,
                warn: Warn) -> SwissTable | None:
    try:
        hdr = memory.read(table, lay.table_size)
    except GodbgError:
        warn(f"table at {table:#x} is unreadable; its entries are missing")
        return None
    used = _U16.unpack_from(hdr, lay.t_used_off)[0]
    capacity = _U16.unpack_from(hdr, lay.t_capacity_off)[0]
    growth_left = _U16.unpack_from(hdr, lay.t_growth_left_off)[0]
    local_depth = hdr[lay.t_local_depth_off]
    index = _I64.unpack_from(hdr, lay.t_index_off)[0]
    data = PTR.unpack_from(hdr, lay.t_groups_data_off)[0]
    mask = _Q.unpack_from(hdr, lay.t_groups_mask_off)[0]
    ngroups = mask + 1
    if index == STALE_TABLE_INDEX:
        warn(f"table at {table:#x} was replaced by a grow or split still under way; listing it as found")
    if capacity > MAX_TABLE_CAPACITY:
        warn(f"table at {table:#x} has capacity {capacity}, over the runtime's {MAX_TABLE_CAPACITY}")
    if ngroups * GROUP_SLOTS != capacity or ngroups > MAX_CAPACITY // GROUP_SLOTS:
        warn(f"table at {table:#x}: {ngroups} groups do not hold its capacity {capacity} (corrupt table)")
        ngroups = min(ngroups, capacity // GROUP_SLOTS, MAX_CAPACITY // GROUP_SLOTS)
    tombstones = 0
    if ngroups > 0:
        buf, bad = read_array(memory, data, ngroups, lay.group_size, warn, "groups")
        found, tombstones = _walk_groups(buf, ngroups, bad, lay, sink)
        if found != used:
            warn(f"table at {table:#x} counts {used} entries but {found} were found")
    return SwissTable(address=table, capacity=capacity, used=used, growth_left=growth_left, local_depth=local_depth,
                      tombstones=tombstones, groups=ngroups)
