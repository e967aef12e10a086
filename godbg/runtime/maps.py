"""The front for maps: picks the implementation the binary was built with, builds the
layouts from DWARF (runtime.hmap / internal/runtime/maps.{Map,table} through
``layouts.layout``, the bucket or group of this map type from the DWARF the linker
synthesizes for it), and the key/elem decoders (compiled once per type) from godbg.values."""

from __future__ import annotations

from godbg import types
from godbg.errors import BadInputError, UnsupportedError
from godbg.program.dwarf import MAP, GoType
from godbg.program.memory import MAX_READ, PAGE, CachedMemory
from godbg.program.target import Target
from godbg.runtime import version
from godbg.runtime.layouts import layout
from godbg.runtime.maps_classic import ClassicLayout, decode_classic
from godbg.runtime.maps_common import MAX_INLINE_BYTES, DecodedMap, OnEntries, SlotCodec
from godbg.runtime.maps_swiss import SwissLayout, decode_swiss
from godbg.values.decode import MAP_ENTRY_LIMITS, compile_decoder
from godbg.values.model import Limits

HMAP = "runtime.hmap"
SWISS_MAP = "internal/runtime/maps.Map"
SWISS_TABLE = "internal/runtime/maps.table"
# DWARF name of the group type the compiler makes for map[K]V (cmd/compile reflectdata).
GROUP_PREFIX = "noalg.map.group"


def map_type(target: Target, name: str) -> GoType:
    """The type of ``map[K]V`` by its Go name (DWARF, else the runtime's type descriptors)."""
    t = types.type_by_name(target, name)
    if t is None or t.kind != MAP:
        where = "DWARF or type descriptors" if target.binary.has_dwarf else "type descriptors"
        raise BadInputError(f"no map type {name!r} in the binary's {where} (is it used by the program?)")
    return t


# Reads of at least this many bytes (whole bucket / group arrays, each decoded once) skip
# the page cache: caching them would hold a second copy of a big map for nothing.
BULK_READ = 2 * PAGE


class _BulkReader:
    """Small reads through the page cache, bulk array reads straight from the backend."""

    def __init__(self, memory: CachedMemory) -> None:
        self.memory = memory

    def read(self, address: int, size: int) -> bytes:
        if size < BULK_READ or size > MAX_READ or address <= 0:
            return self.memory.read(address, size)
        return self.memory.raw.read(address, size)


def read_map(target: Target, address: int, mtype: GoType, limit: int | None,
             limits: Limits = MAP_ENTRY_LIMITS, on_entries: OnEntries | None = None) -> DecodedMap:
    """Decode the map whose header (hmap or maps.Map) is at ``address``; ``limits`` are the
    value rules for keys and elems (``print``'s follow pointers). With ``on_entries`` the
    entries go there a batch at a time as they are decoded (the result's ``entries`` is
    then empty): a map of any size in bounded memory."""
    impl = version.map_impl(target)
    key, elem = _codecs(target, mtype, limits)
    memory = _BulkReader(target.memory)
    if impl == version.MAP_CLASSIC:
        lay_c = target.memo(f"maplayout:{mtype.name}", lambda: classic_layout(target, mtype, key, elem))
        return decode_classic(memory, address, lay_c, key, elem, limit, target.warn, on_entries)
    lay_s = target.memo(f"maplayout:{mtype.name}", lambda: swiss_layout(target, mtype, key, elem))
    return decode_swiss(memory, address, lay_s, key, elem, limit, target.warn, on_entries)


def _codecs(target: Target, mtype: GoType, limits: Limits) -> tuple[SlotCodec, SlotCodec]:
    k, e = mtype.key, mtype.elem
    if k is None or e is None:
        raise UnsupportedError(f"the type of {mtype.name} names no key or elem type")
    # Keys keep map's own rules: a key is compared and shown whole, never followed.
    return (SlotCodec(compile_decoder(target, k), k.size, k.size > MAX_INLINE_BYTES),
            SlotCodec(compile_decoder(target, e, limits), e.size, e.size > MAX_INLINE_BYTES))


def _check_indirect(what: str, codec: SlotCodec, slot_size: int | None, name: str) -> None:
    """The 128-byte rule, checked against the slot DWARF gives (a pointer when indirect)."""
    if slot_size is not None and slot_size != codec.slot_size:
        raise UnsupportedError(f"{name}: the {what} slot is {slot_size} bytes, expected {codec.slot_size}")


def classic_layout(target: Target, mtype: GoType, key: SlotCodec, elem: SlotCodec) -> ClassicLayout:
    hmap = layout(target, HMAP)
    bucket = mtype.group or _pointee(_field_type(mtype.header, "buckets"))
    if bucket is None or not bucket.fields:
        fb = ClassicLayout.fallback(key, elem)
        return ClassicLayout(hmap.off("count"), hmap.off("flags"), hmap.off("B"), hmap.off("noverflow"),
                             hmap.off("buckets"), hmap.off("oldbuckets"), hmap.off("nevacuate"), hmap.size,
                             fb.bucket_size, fb.keys_off, fb.elems_off, fb.overflow_off)
    # DWARF's synthesized bucket calls them values, the compiler's (the descriptor) elems.
    keys, overflow = bucket.field("keys"), bucket.field("overflow")
    values = bucket.field("values") or bucket.field("elems")
    if keys is None or values is None or overflow is None:
        raise UnsupportedError(f"{bucket.name} lacks keys/values/overflow in this Go release")
    _check_indirect("key", key, _array_elem_size(keys.type), bucket.name)
    _check_indirect("elem", elem, _array_elem_size(values.type), bucket.name)
    return ClassicLayout(
        count_off=hmap.off("count"), flags_off=hmap.off("flags"), b_off=hmap.off("B"),
        noverflow_off=hmap.off("noverflow"), buckets_off=hmap.off("buckets"),
        oldbuckets_off=hmap.off("oldbuckets"), nevacuate_off=hmap.off("nevacuate"), hmap_size=hmap.size,
        bucket_size=bucket.size, keys_off=keys.offset, elems_off=values.offset, overflow_off=overflow.offset,
    )


def swiss_layout(target: Target, mtype: GoType, key: SlotCodec, elem: SlotCodec) -> SwissLayout:
    m = layout(target, SWISS_MAP)
    t = layout(target, SWISS_TABLE)
    group = _group_type(target, mtype)
    if group is None or not group.fields:
        raise UnsupportedError(f"no DWARF group type for {mtype.name}")
    keys, elems, slots = group.field("keys"), group.field("elems"), group.field("slots")
    if keys is not None and elems is not None:  # GOEXPERIMENT=mapsplitgroup (1.27+)
        kstride, estride = _array_elem_size(keys.type), _array_elem_size(elems.type)
        koff, eoff, split = keys.offset, elems.offset, True
    elif slots is not None and slots.type is not None and slots.type.elem is not None:
        slot = slots.type.elem
        sk, se = slot.field("key"), slot.field("elem")
        if sk is None or se is None:
            raise UnsupportedError(f"{slot.name} has no key/elem fields")
        kstride = estride = slot.size
        koff, eoff, split = slots.offset + sk.offset, slots.offset + se.offset, False
        _check_indirect("key", key, sk.type.size, group.name)
        _check_indirect("elem", elem, se.type.size, group.name)
    else:
        raise UnsupportedError(f"{group.name}: neither slots nor keys/elems in this Go release")
    if split:
        _check_indirect("key", key, kstride, group.name)
        _check_indirect("elem", elem, estride, group.name)
    return SwissLayout(
        used_off=m.off("used"), dir_ptr_off=m.off("dirPtr"), dir_len_off=m.off("dirLen"),
        global_depth_off=m.off("globalDepth"), writing_off=m.off("writing"), map_size=m.size,
        t_used_off=t.off("used"), t_capacity_off=t.off("capacity"), t_growth_left_off=t.off("growthLeft"),
        t_local_depth_off=t.off("localDepth"), t_index_off=t.off("index"),
        t_groups_data_off=t.off("groups.data"), t_groups_mask_off=t.off("groups.lengthMask"),
        table_size=t.size, group_size=group.size, keys_off=koff, key_stride=kstride or 0,
        elems_off=eoff, elem_stride=estride or 0, split_group=split,
    )


def _group_type(target: Target, mtype: GoType) -> GoType | None:
    """``noalg.map.group[K]V``: from the type descriptor, by name, else through
    map<K,V>.dirPtr → table → groups.data."""
    if mtype.group is not None:
        return mtype.group
    if not target.binary.has_dwarf:
        return None
    if mtype.name.startswith("map["):
        found = target.binary.dwarf.type_by_name(GROUP_PREFIX + mtype.name[len("map"):])
        if found is not None:
            return found
    table = _pointee(_pointee(_field_type(mtype.header, "dirPtr")))
    return _pointee(_field_type(table, "groups.data"))


def _field_type(t: GoType | None, path: str) -> GoType | None:
    if t is None:
        return None
    f = t.field(path)
    return f.type if f is not None else None


def _pointee(t: GoType | None) -> GoType | None:
    return t.elem if t is not None else None


def _array_elem_size(t: GoType | None) -> int | None:
    if t is None or t.elem is None:
        return None
    return t.elem.size if t.elem.size or not t.length else t.size // t.length


def header_address(target: Target, variable_address: int) -> int:
    """A map variable holds a pointer to its header: read it (0 for a nil map)."""
    return target.memory.ptr(variable_address)

