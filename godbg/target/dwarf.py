"""Go's DWARF: types, package-level variables and constants, by name.

How it is read, and why:
- Go's linker puts every type, global and constant at the top level of a compile unit
  (types all in one unit), and never emits ``DW_AT_sibling``. A pyelftools DIE walk must
  therefore parse every DIE of every function (~14 µs each: 0.7 s for a 2 MB binary,
  10 s for a 37 MB one). Instead, one pass over the decompressed ``.debug_info``
  (sections come from pyelftools) records only what the top-level DIEs name: type name →
  DIE offset, runtime type offset → DIE offset, global → (address, type), constant → value.
  Deeper DIEs are skipped with a precomputed per-abbreviation plan.
- That index is cached on disk (``~/.cache/godbg/dwarf/``, keyed by build id, file size and
  mtime); the next run on the same binary loads it in milliseconds.
- Types are parsed on demand, one DIE (and its members) at a time, into ``GoType``.

Go-specific attributes (``src/cmd/internal/dwarf/dwarf.go``): ``DW_AT_go_kind`` 0x2900 (an
``internal/abi.Kind``), ``DW_AT_go_key`` 0x2901 and ``DW_AT_go_elem`` 0x2902 (map key and
map/chan/slice element, DIE references), ``DW_AT_go_embedded_field`` 0x2903,
``DW_AT_go_runtime_type`` 0x2904 (the type's runtime ``*_type``, as an offset from
``moduledata.types``), ``DW_AT_go_package_name`` 0x2905 (compile units),
``DW_AT_go_dict_index`` 0x2906 (typedefs of generic shapes).

What the linker does to a map type (``src/cmd/link/internal/ld/dwarf.go``): ``map[K]V`` is a
typedef (go_kind map, go_key, go_elem) of a pointer to a synthesized header struct:
``hash<K,V>`` (classic maps, fields of ``runtime.hmap``; buckets are ``*bucket<K,V>``) or,
for swiss maps (1.24+), ``map<K,V>`` (fields of ``internal/runtime/maps.Map``, ``dirPtr`` is
``**table<K,V>``, ``table.groups`` is ``groupReference<K,V>`` whose ``data`` is
``*noalg.map.group[K]V``).
"""

from __future__ import annotations

import bisect
import hashlib
import marshal
import os
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from godbg.errors import CorruptError, UnsupportedError

if TYPE_CHECKING:
    from godbg.target.binary import GoBinary

# --- DWARF numbers (DWARF 5 spec, section 7) -----------------------------------------

DW_TAG_array_type = 0x01
DW_TAG_member = 0x0D
DW_TAG_pointer_type = 0x0F
DW_TAG_structure_type = 0x13
DW_TAG_subroutine_type = 0x15
DW_TAG_typedef = 0x16
DW_TAG_subrange_type = 0x21
DW_TAG_base_type = 0x24
DW_TAG_constant = 0x27
DW_TAG_variable = 0x34
DW_TAG_unspecified_type = 0x3B

_TYPE_TAGS = frozenset(
    {
        DW_TAG_array_type,
        DW_TAG_pointer_type,
        DW_TAG_structure_type,
        DW_TAG_subroutine_type,
        DW_TAG_typedef,
        DW_TAG_base_type,
        DW_TAG_unspecified_type,
    }
)

DW_AT_location = 0x02
DW_AT_name = 0x03
DW_AT_byte_size = 0x0B
DW_AT_const_value = 0x1C
DW_AT_upper_bound = 0x2F
DW_AT_count = 0x37
DW_AT_data_member_location = 0x38
DW_AT_encoding = 0x3E
DW_AT_type = 0x49

# Go's own attributes: src/cmd/internal/dwarf/dwarf.go.
DW_AT_go_kind = 0x2900
DW_AT_go_key = 0x2901
DW_AT_go_elem = 0x2902
DW_AT_go_embedded_field = 0x2903
DW_AT_go_runtime_type = 0x2904
DW_AT_go_package_name = 0x2905
DW_AT_go_dict_index = 0x2906

DW_ATE_boolean = 0x02
DW_ATE_complex_float = 0x03
DW_ATE_float = 0x04
DW_ATE_signed = 0x05
DW_ATE_signed_char = 0x06
DW_ATE_unsigned = 0x07
DW_ATE_unsigned_char = 0x08

DW_OP_addr = 0x03

# Forms.
DW_FORM_addr = 0x01
DW_FORM_block2 = 0x03
DW_FORM_block4 = 0x04
DW_FORM_data2 = 0x05
DW_FORM_data4 = 0x06
DW_FORM_data8 = 0x07
DW_FORM_string = 0x08
DW_FORM_block = 0x09
DW_FORM_block1 = 0x0A
DW_FORM_data1 = 0x0B
DW_FORM_flag = 0x0C
DW_FORM_sdata = 0x0D
DW_FORM_strp = 0x0E
DW_FORM_udata = 0x0F
DW_FORM_ref_addr = 0x10
DW_FORM_ref1 = 0x11
DW_FORM_ref2 = 0x12
DW_FORM_ref4 = 0x13
DW_FORM_ref8 = 0x14
DW_FORM_ref_udata = 0x15
DW_FORM_indirect = 0x16
DW_FORM_sec_offset = 0x17
DW_FORM_exprloc = 0x18
DW_FORM_flag_present = 0x19
DW_FORM_strx = 0x1A
DW_FORM_addrx = 0x1B
DW_FORM_ref_sup4 = 0x1C
DW_FORM_strp_sup = 0x1D
DW_FORM_data16 = 0x1E
DW_FORM_line_strp = 0x1F
DW_FORM_ref_sig8 = 0x20
DW_FORM_implicit_const = 0x21
DW_FORM_loclistx = 0x22
DW_FORM_rnglistx = 0x23
DW_FORM_ref_sup8 = 0x24
DW_FORM_strx1 = 0x25
DW_FORM_strx2 = 0x26
DW_FORM_strx3 = 0x27
DW_FORM_strx4 = 0x28
DW_FORM_addrx1 = 0x29
DW_FORM_addrx2 = 0x2A
DW_FORM_addrx3 = 0x2B
DW_FORM_addrx4 = 0x2C
DW_FORM_GNU_addr_index = 0x1F01
DW_FORM_GNU_str_index = 0x1F02
DW_FORM_GNU_ref_alt = 0x1F20
DW_FORM_GNU_strp_alt = 0x1F21

_LEB_FORMS = frozenset(
    {
        DW_FORM_sdata,
        DW_FORM_udata,
        DW_FORM_ref_udata,
        DW_FORM_strx,
        DW_FORM_addrx,
        DW_FORM_loclistx,
        DW_FORM_rnglistx,
        DW_FORM_GNU_addr_index,
        DW_FORM_GNU_str_index,
    }
)
_OFFSET_FORMS = frozenset(
    {DW_FORM_strp, DW_FORM_sec_offset, DW_FORM_strp_sup, DW_FORM_line_strp, DW_FORM_GNU_ref_alt,
     DW_FORM_GNU_strp_alt}
)
_FIXED_FORMS = {
    DW_FORM_data1: 1, DW_FORM_ref1: 1, DW_FORM_flag: 1, DW_FORM_strx1: 1, DW_FORM_addrx1: 1,
    DW_FORM_data2: 2, DW_FORM_ref2: 2, DW_FORM_strx2: 2, DW_FORM_addrx2: 2,
    DW_FORM_strx3: 3, DW_FORM_addrx3: 3,
    DW_FORM_data4: 4, DW_FORM_ref4: 4, DW_FORM_ref_sup4: 4, DW_FORM_strx4: 4, DW_FORM_addrx4: 4,
    DW_FORM_data8: 8, DW_FORM_ref8: 8, DW_FORM_ref_sig8: 8, DW_FORM_ref_sup8: 8,
    DW_FORM_data16: 16,
    DW_FORM_flag_present: 0, DW_FORM_implicit_const: 0,
}
_CU_REF_FORMS = frozenset({DW_FORM_ref1, DW_FORM_ref2, DW_FORM_ref4, DW_FORM_ref8, DW_FORM_ref_udata})

# Skip-plan opcodes (negative; a positive entry skips that many bytes).
_SKIP_STRING = -1
_SKIP_LEB = -2
_SKIP_BLOCK1 = -3
_SKIP_BLOCK2 = -4
_SKIP_BLOCK4 = -5
_SKIP_ULEB_BLOCK = -6
_SKIP_INDIRECT = -7

# --- Go kinds (internal/abi.Kind) ----------------------------------------------------

BOOL = "bool"
INT, INT8, INT16, INT32, INT64 = "int", "int8", "int16", "int32", "int64"
UINT, UINT8, UINT16, UINT32, UINT64 = "uint", "uint8", "uint16", "uint32", "uint64"
UINTPTR = "uintptr"
FLOAT32, FLOAT64 = "float32", "float64"
COMPLEX64, COMPLEX128 = "complex64", "complex128"
ARRAY = "array"
CHAN = "chan"
FUNC = "func"
INTERFACE = "interface"
MAP = "map"
POINTER = "pointer"
SLICE = "slice"
STRING = "string"
STRUCT = "struct"
UNSAFE_POINTER = "unsafe.Pointer"

# internal/abi/type.go: Invalid Kind = iota, Bool, Int, ... UnsafePointer (stable 1.22-1.27).
GO_KINDS = (
    None, BOOL, INT, INT8, INT16, INT32, INT64, UINT, UINT8, UINT16, UINT32, UINT64, UINTPTR,
    FLOAT32, FLOAT64, COMPLEX64, COMPLEX128, ARRAY, CHAN, FUNC, INTERFACE, MAP, POINTER, SLICE,
    STRING, STRUCT, UNSAFE_POINTER,
)
_KIND_MASK = 0x1F

SIGNED_KINDS = frozenset({INT, INT8, INT16, INT32, INT64})
UNSIGNED_KINDS = frozenset({UINT, UINT8, UINT16, UINT32, UINT64, UINTPTR})
INTEGER_KINDS = SIGNED_KINDS | UNSIGNED_KINDS
# Kinds whose value is one machine word that is a pointer (printed as hex).
POINTER_SHAPED_KINDS = frozenset({POINTER, UNSAFE_POINTER, CHAN, FUNC, MAP})

_INT_BY_SIZE = {1: INT8, 2: INT16, 4: INT32, 8: INT64}
_UINT_BY_SIZE = {1: UINT8, 2: UINT16, 4: UINT32, 8: UINT64}

PTR_SIZE = 8

# --- the type model ------------------------------------------------------------------

_Lazy = Union["GoType", Callable[[], "GoType"], None]


@dataclass(frozen=True)
class Field:
    name: str
    offset: int
    type: GoType
    embedded: bool = False


class GoType:
    """A Go type as DWARF describes it.

    ``kind`` is one of the kind strings above (Go's reflect kinds). Per kind:
    array: ``elem``, ``length``; slice, pointer, chan: ``elem``; map: ``key``, ``elem`` and
    ``header`` (the runtime struct the map points to: ``hash<K,V>`` or ``map<K,V>``);
    chan: ``header`` (``hchan<T>``); struct: ``fields``; interface: ``empty`` (True for
    ``interface {}``). string, slice and interface also list the fields of their runtime
    representation (``str, len`` / ``array, len, cap`` / ``_type|tab, data``).

    Types reached through a pointer, slice, chan or map are resolved on first use, so a
    struct that points to itself is fine. Identity is the object: compare with ``is``.
    """

    __slots__ = ("kind", "name", "size", "length", "fields", "empty", "runtime_type", "die_offset",
                 "_elem", "_key", "_header", "__weakref__")

    def __init__(
        self,
        kind: str,
        name: str,
        size: int,
        *,
        elem: _Lazy = None,
        key: _Lazy = None,
        header: _Lazy = None,
        length: int | None = None,
        fields: list[Field] | tuple[Field, ...] | None = None,
        empty: bool | None = None,
        runtime_type: int | None = None,
        die_offset: int | None = None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.size = size
        self.length = length
        self.fields: tuple[Field, ...] | None = tuple(fields) if fields is not None else None
        self.empty = empty
        self.runtime_type = runtime_type  # offset from moduledata.types, or None
        self.die_offset = die_offset
        self._elem = elem
        self._key = key
        self._header = header

    # Lazily resolved references.
    @property
    def elem(self) -> GoType | None:
        e = self._elem
        if e is not None and not isinstance(e, GoType):
            e = self._elem = e()
        return e

    @property
    def key(self) -> GoType | None:
        k = self._key
        if k is not None and not isinstance(k, GoType):
            k = self._key = k()
        return k

    @property
    def header(self) -> GoType | None:
        h = self._header
        if h is not None and not isinstance(h, GoType):
            h = self._header = h()
        return h

    # Struct helpers.
    def field(self, path: str) -> Field | None:
        """The field at a dotted path (``"sched.sp"``), with its offset from the start of
        this type. Fields promoted from embedded structs are found too, as Go finds them."""
        t: GoType = self
        offset = 0
        found: Field | None = None
        for part in path.split("."):
            f = t._direct_or_promoted(part)
            if f is None:
                return None
            offset += f.offset
            found = Field(f.name, offset, f.type, f.embedded)
            t = f.type
        return found

    def offset_of(self, path: str) -> int:
        f = self.field(path)
        if f is None:
            raise UnsupportedError(f"{self.name} has no field {path!r} in this Go release")
        return f.offset

    def has_field(self, path: str) -> bool:
        return self.field(path) is not None

    def _direct_or_promoted(self, name: str) -> Field | None:
        if not self.fields:
            return None
        for f in self.fields:
            if f.name == name:
                return f
        # Promoted fields: breadth first through embedded structs, shallowest wins.
        level = [(f, f.offset) for f in self.fields if f.embedded]
        seen: set[int] = set()
        for _ in range(8):
            if not level:
                break
            hits: list[Field] = []
            nxt = []
            for ef, base in level:
                et = ef.type
                if et is None or not et.fields or id(et) in seen:
                    continue
                seen.add(id(et))
                for f in et.fields:
                    if f.name == name:
                        hits.append(Field(f.name, base + f.offset, f.type, f.embedded))
                    elif f.embedded:
                        nxt.append((f, base + f.offset))
            if len(hits) == 1:
                return hits[0]
            if hits:
                return None  # ambiguous at this depth: Go rejects it too
            level = nxt
        return None

    def __repr__(self) -> str:
        return f"GoType({self.kind}, {self.name!r}, size={self.size})"

    def __str__(self) -> str:
        return self.name


class Variable:
    """A package-level variable: its link-time address and (lazily) its type."""

    __slots__ = ("name", "address", "type_offset", "_resolve", "_type")

    def __init__(self, name: str, address: int, type_offset: int | None,
                 resolve: Callable[[int], GoType | None]) -> None:
        self.name = name
        self.address = address
        self.type_offset = type_offset
        self._resolve = resolve
        self._type: GoType | None = None

    @property
    def type(self) -> GoType | None:
        if self._type is None and self.type_offset is not None:
            self._type = self._resolve(self.type_offset)
        return self._type

    def __repr__(self) -> str:
        return f"Variable({self.name!r}, {self.address:#x})"


# --- low-level reading ----------------------------------------------------------------

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def _uleb(d: bytes, p: int) -> tuple[int, int]:
    b = d[p]
    if b < 0x80:
        return b, p + 1
    result = 0
    shift = 0
    while True:
        b = d[p]
        p += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, p
        shift += 7


def _sleb(d: bytes, p: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        b = d[p]
        p += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            if b & 0x40:
                result -= 1 << shift
            return result, p


@dataclass(frozen=True)
class _Abbrev:
    tag: int
    children: bool
    attrs: tuple[tuple[int, int, int], ...]  # (attribute, form, implicit_const)
    plan: tuple[int, ...]


@dataclass(frozen=True)
class _Unit:
    start: int  # offset of the unit header
    end: int
    die_start: int
    version: int
    addr_size: int
    offset_size: int
    abbrevs: dict[int, _Abbrev]


@dataclass
class _Die:
    offset: int
    tag: int
    attrs: dict[int, Any]
    children: bool
    end: int  # where the next DIE (first child, if any) starts
    unit: _Unit

    @property
    def name(self) -> str | None:
        return self.attrs.get(DW_AT_name)


def _skip_plan(forms: list[int], addr_size: int, offset_size: int, version: int) -> tuple[int, ...]:
    plan: list[int] = []
    fixed = 0
    for form in forms:
        size = _FIXED_FORMS.get(form)
        if size is None:
            if form == DW_FORM_addr:
                size = addr_size
            elif form in _OFFSET_FORMS:
                size = offset_size
            elif form == DW_FORM_ref_addr:
                size = addr_size if version <= 2 else offset_size
        if size is not None:
            fixed += size
            continue
        if fixed:
            plan.append(fixed)
            fixed = 0
        if form == DW_FORM_string:
            plan.append(_SKIP_STRING)
        elif form in _LEB_FORMS:
            plan.append(_SKIP_LEB)
        elif form == DW_FORM_block1:
            plan.append(_SKIP_BLOCK1)
        elif form == DW_FORM_block2:
            plan.append(_SKIP_BLOCK2)
        elif form == DW_FORM_block4:
            plan.append(_SKIP_BLOCK4)
        elif form in (DW_FORM_block, DW_FORM_exprloc):
            plan.append(_SKIP_ULEB_BLOCK)
        elif form == DW_FORM_indirect:
            plan.append(_SKIP_INDIRECT)
        else:
            raise CorruptError(f"DWARF form {form:#x} is not supported")
    if fixed:
        plan.append(fixed)
    return tuple(plan)


class _DebugInfo:
    """The decompressed .debug_info with its units and abbreviation tables."""

    def __init__(self, info: bytes, abbrev: bytes, strs: Callable[[int, int], str]) -> None:
        self.data = info
        self.abbrev_data = abbrev
        self._strs = strs  # (form, offset) -> string for strp/line_strp
        self._abbrev_tables: dict[tuple[int, int, int, int], dict[int, _Abbrev]] = {}
        self.units: list[_Unit] = self._read_units()
        self._unit_starts = [u.start for u in self.units]

    def _read_units(self) -> list[_Unit]:
        d = self.data
        units = []
        p = 0
        n = len(d)
        while p + 11 <= n:
            start = p
            length = _U32.unpack_from(d, p)[0]
            p += 4
            offset_size = 4
            if length == 0xFFFFFFFF:
                length = _U64.unpack_from(d, p)[0]
                p += 8
                offset_size = 8
            end = p + length
            if end > n or length < 7:
                raise CorruptError(f".debug_info unit at {start:#x} runs past the section")
            version = _U16.unpack_from(d, p)[0]
            p += 2
            if version >= 5:
                unit_type = d[p]
                addr_size = d[p + 1]
                abbrev_off = int.from_bytes(d[p + 2 : p + 2 + offset_size], "little")
                p += 2 + offset_size
                if unit_type in (0x02, 0x06):  # type units: signature + type offset
                    p += 8 + offset_size
                elif unit_type in (0x04, 0x05):  # skeleton / split compile: dwo id
                    p += 8
            elif 2 <= version <= 4:
                abbrev_off = int.from_bytes(d[p : p + offset_size], "little")
                addr_size = d[p + offset_size]
                p += offset_size + 1
            else:
                raise CorruptError(f"DWARF version {version} is not supported")
            abbrevs = self._abbrevs(abbrev_off, addr_size, offset_size, version)
            units.append(_Unit(start, end, p, version, addr_size, offset_size, abbrevs))
            p = end
        return units

    def _abbrevs(self, off: int, addr_size: int, offset_size: int, version: int) -> dict[int, _Abbrev]:
        key = (off, addr_size, offset_size, version)
        table = self._abbrev_tables.get(key)
        if table is not None:
            return table
        d = self.abbrev_data
        table = {}
        p = off
        while p < len(d):
            code, p = _uleb(d, p)
            if code == 0:
                break
            tag, p = _uleb(d, p)
            children = d[p] != 0
            p += 1
            attrs = []
            while True:
                at, p = _uleb(d, p)
                form, p = _uleb(d, p)
                if at == 0 and form == 0:
                    break
                implicit = 0
                if form == DW_FORM_implicit_const:
                    implicit, p = _sleb(d, p)
                attrs.append((at, form, implicit))
            plan = _skip_plan([f for _, f, _ in attrs], addr_size, offset_size, version)
            table[code] = _Abbrev(tag, children, tuple(attrs), plan)
        self._abbrev_tables[key] = table
        return table

    def unit_at(self, offset: int) -> _Unit:
        i = bisect.bisect_right(self._unit_starts, offset) - 1
        if i < 0 or not self.units[i].die_start <= offset < self.units[i].end:
            raise CorruptError(f"no DWARF unit holds DIE offset {offset:#x}")
        return self.units[i]

    # One value.
    def _value(self, p: int, form: int, implicit: int, u: _Unit) -> tuple[Any, int]:
        d = self.data
        if form == DW_FORM_string:
            e = d.index(0, p)
            return d[p:e].decode("utf-8", errors="replace"), e + 1
        if form in (DW_FORM_udata, DW_FORM_strx, DW_FORM_addrx, DW_FORM_loclistx, DW_FORM_rnglistx,
                    DW_FORM_GNU_addr_index, DW_FORM_GNU_str_index):
            return _uleb(d, p)
        if form == DW_FORM_ref_udata:
            v, p = _uleb(d, p)
            return u.start + v, p
        if form == DW_FORM_sdata:
            return _sleb(d, p)
        if form == DW_FORM_addr:
            return int.from_bytes(d[p : p + u.addr_size], "little"), p + u.addr_size
        if form == DW_FORM_ref_addr:
            n = u.addr_size if u.version <= 2 else u.offset_size
            return int.from_bytes(d[p : p + n], "little"), p + n
        if form in _CU_REF_FORMS:
            n = _FIXED_FORMS[form]
            return u.start + int.from_bytes(d[p : p + n], "little"), p + n
        if form in (DW_FORM_flag,):
            return d[p] != 0, p + 1
        if form == DW_FORM_flag_present:
            return True, p
        if form == DW_FORM_implicit_const:
            return implicit, p
        if form in (DW_FORM_strp, DW_FORM_line_strp):
            off = int.from_bytes(d[p : p + u.offset_size], "little")
            return self._strs(form, off), p + u.offset_size
        if form in _OFFSET_FORMS:
            return int.from_bytes(d[p : p + u.offset_size], "little"), p + u.offset_size
        if form in (DW_FORM_block1, DW_FORM_block2, DW_FORM_block4, DW_FORM_block, DW_FORM_exprloc):
            if form == DW_FORM_block1:
                n, p = d[p], p + 1
            elif form == DW_FORM_block2:
                n, p = _U16.unpack_from(d, p)[0], p + 2
            elif form == DW_FORM_block4:
                n, p = _U32.unpack_from(d, p)[0], p + 4
            else:
                n, p = _uleb(d, p)
            return bytes(d[p : p + n]), p + n
        if form == DW_FORM_indirect:
            real, p = _uleb(d, p)
            return self._value(p, real, 0, u)
        size = _FIXED_FORMS.get(form)
        if size is not None:
            if size in (1, 2, 4, 8):
                return int.from_bytes(d[p : p + size], "little"), p + size
            return bytes(d[p : p + size]), p + size
        raise CorruptError(f"DWARF form {form:#x} is not supported")

    def die(self, offset: int, unit: _Unit | None = None) -> _Die:
        u = unit or self.unit_at(offset)
        d = self.data
        code, p = _uleb(d, offset)
        if code == 0:
            raise CorruptError(f"DWARF DIE reference {offset:#x} points at a null entry")
        ab = u.abbrevs.get(code)
        if ab is None:
            raise CorruptError(f"DWARF DIE at {offset:#x} has unknown abbreviation {code}")
        attrs: dict[int, Any] = {}
        for at, form, implicit in ab.attrs:
            attrs[at], p = self._value(p, form, implicit, u)
        return _Die(offset, ab.tag, attrs, ab.children, p, u)

    def skip(self, p: int, plan: tuple[int, ...]) -> int:
        d = self.data
        for op in plan:
            if op > 0:
                p += op
            elif op == _SKIP_STRING:
                p = d.index(0, p) + 1
            elif op == _SKIP_LEB:
                while d[p] & 0x80:
                    p += 1
                p += 1
            elif op == _SKIP_BLOCK1:
                p += 1 + d[p]
            elif op == _SKIP_ULEB_BLOCK:
                n, p = _uleb(d, p)
                p += n
            elif op == _SKIP_BLOCK2:
                p += 2 + _U16.unpack_from(d, p)[0]
            elif op == _SKIP_BLOCK4:
                p += 4 + _U32.unpack_from(d, p)[0]
            else:  # indirect: the form comes first
                form, p = _uleb(d, p)
                # Any unit works for sizes here: Go emits one address and offset size.
                _, p = self._value(p, form, 0, self.units[0])
        return p

    def children(self, die: _Die) -> Iterator[_Die]:
        """The direct children of ``die``, skipping grandchildren."""
        if not die.children:
            return
        d = self.data
        u = die.unit
        p = die.end
        while p < u.end:
            code, q = _uleb(d, p)
            if code == 0:
                return
            child = self.die(p, u)
            yield child
            p = child.end
            if child.children:
                p = self._skip_subtree(p, u)

    def _skip_subtree(self, p: int, u: _Unit) -> int:
        """From the first child of some DIE, skip to just past its terminating null."""
        d = self.data
        depth = 1
        abbrevs = u.abbrevs
        skip = self.skip
        while depth and p < u.end:
            code = d[p]
            if code < 0x80:
                p += 1
            else:
                code, p = _uleb(d, p)
            if code == 0:
                depth -= 1
                continue
            ab = abbrevs[code]
            p = skip(p, ab.plan)
            if ab.children:
                depth += 1
        return p


# What reading malformed DWARF bytes raises (turned into CorruptError at the edges).
_BAD_DWARF = (IndexError, KeyError, ValueError, struct.error, RecursionError)

# --- the index -----------------------------------------------------------------------

_INDEX_FORMAT = 3
_CACHE_MAGIC = "godbg-dwarf-index"


@dataclass
class _Index:
    types: dict[str, int]  # type name -> DIE offset (first seen)
    rtypes: dict[int, int]  # DW_AT_go_runtime_type offset -> DIE offset
    variables: dict[str, tuple[int, int]]  # name -> (address or -1, type DIE offset or -1)
    constants: dict[str, int]

    def to_tuple(self) -> tuple:
        return (self.types, self.rtypes, self.variables, self.constants)

    @classmethod
    def from_tuple(cls, t: Any) -> _Index:
        types, rtypes, variables, constants = t
        if not all(isinstance(x, dict) for x in (types, rtypes, variables, constants)):
            raise ValueError("bad index")
        return cls(types, rtypes, variables, constants)


def _build_index(info: _DebugInfo) -> _Index:
    """One pass over every unit: parse top-level DIEs we index, skip everything else."""
    d = info.data
    types: dict[str, int] = {}
    rtypes: dict[int, int] = {}
    variables: dict[str, tuple[int, int]] = {}
    constants: dict[str, int] = {}
    wanted = _TYPE_TAGS | {DW_TAG_variable, DW_TAG_constant}
    skip = info.skip
    for u in info.units:
        abbrevs = u.abbrevs
        p = u.die_start
        end = u.end
        depth = 0
        while p < end:
            start = p
            code = d[p]
            if code < 0x80:
                p += 1
            else:
                code, p = _uleb(d, p)
            if code == 0:
                depth -= 1
                continue
            ab = abbrevs.get(code)
            if ab is None:
                raise CorruptError(f"DWARF DIE at {start:#x} has unknown abbreviation {code}")
            if depth == 1 and ab.tag in wanted:
                die = info.die(start, u)
                p = die.end
                _index_die(die, types, rtypes, variables, constants)
            else:
                p = skip(p, ab.plan)
            if ab.children:
                depth += 1
    return _Index(types, rtypes, variables, constants)


def _index_die(die: _Die, types: dict, rtypes: dict, variables: dict, constants: dict) -> None:
    a = die.attrs
    name = a.get(DW_AT_name)
    tag = die.tag
    if tag == DW_TAG_variable:
        if name is None:
            return
        loc = a.get(DW_AT_location)
        addr = -1
        if isinstance(loc, bytes) and len(loc) == 9 and loc[0] == DW_OP_addr:
            addr = int.from_bytes(loc[1:], "little")
        typ = a.get(DW_AT_type, -1)
        if name not in variables or (variables[name][0] < 0 <= addr):
            variables[name] = (addr, typ if isinstance(typ, int) else -1)
        return
    if tag == DW_TAG_constant:
        v = a.get(DW_AT_const_value)
        if name is not None and isinstance(v, int) and not isinstance(v, bool):
            constants.setdefault(name, v)
        return
    if name is not None:
        types.setdefault(name, die.offset)
    rt = a.get(DW_AT_go_runtime_type)
    if isinstance(rt, int) and rt:
        rtypes.setdefault(rt, die.offset)


def cache_dir() -> str:
    """Where DWARF indexes are cached: ``dwarf/`` under $GODBG_CACHE (the directory the
    test fixtures use too), else $XDG_CACHE_HOME/godbg, else ~/.cache/godbg."""
    base = os.environ.get("GODBG_CACHE")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "godbg")
    return os.path.join(base, "dwarf")


def _cache_key(binary: GoBinary) -> str | None:
    try:
        st = os.stat(binary.path)
    except OSError:
        return None
    bid = binary.go_build_id or binary.gnu_build_id
    ident = bid.hex() if bid else "path:" + os.path.realpath(binary.path)
    return (f"{_CACHE_MAGIC}/{_INDEX_FORMAT}/py{sys.version_info[0]}.{sys.version_info[1]}/{ident}/"
            f"{st.st_size}/{st.st_mtime_ns}")


def _cache_path(key: str) -> str:
    return os.path.join(cache_dir(), hashlib.sha256(key.encode()).hexdigest()[:40] + ".idx")


def _load_cached(key: str) -> _Index | None:
    try:
        with open(_cache_path(key), "rb") as f:
            blob = f.read()
        magic, stored_key, payload = marshal.loads(blob)
        if magic != _CACHE_MAGIC or stored_key != key:
            return None
        return _Index.from_tuple(payload)
    except Exception:  # missing, truncated, garbage, other Python: rebuild
        return None


def _store_cached(key: str, index: _Index) -> None:
    path = _cache_path(key)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(marshal.dumps((_CACHE_MAGIC, key, index.to_tuple())))
        os.replace(tmp, path)
    except Exception:  # read-only home, full disk: run without a cache
        try:
            os.unlink(tmp)
        except OSError:
            pass


# --- the public face -----------------------------------------------------------------


class DwarfInfo:
    """Types, globals and constants of a Go binary, from its DWARF."""

    def __init__(self, binary: GoBinary | None, index: _Index,
                 info_loader: Callable[[], _DebugInfo], types_base: int | None = None) -> None:
        self.binary = binary
        self._index = index
        self._info_loader = info_loader
        self._info: _DebugInfo | None = None
        self._types_by_off: dict[int, GoType] = {}
        self._building: set[int] = set()
        self._types_base = types_base
        self.index_source = "built"  # or "cache": how the name index was obtained
        self.index_seconds = 0.0

    # --- construction ---

    @classmethod
    def from_binary(cls, binary: GoBinary, use_cache: bool = True) -> DwarfInfo:
        if not binary.has_dwarf:
            raise UnsupportedError(
                f"{binary.path} has no DWARF (built with -ldflags=-w or stripped): "
                "godbg needs it for types and globals")
        t0 = time.perf_counter()
        key = _cache_key(binary) if use_cache else None
        index = _load_cached(key) if key else None
        source = "cache"
        loaded: list[_DebugInfo] = []

        def load_info() -> _DebugInfo:
            if not loaded:
                loaded.append(_read_debug_info(binary))
            return loaded[0]

        if index is None:
            source = "built"
            try:
                index = _build_index(load_info())
            except _BAD_DWARF as e:
                raise CorruptError(f"{binary.path}: cannot read its DWARF: {e}") from None
            if key:
                _store_cached(key, index)
        self = cls(binary, index, load_info)
        self.index_source = source
        self.index_seconds = time.perf_counter() - t0
        return self

    @classmethod
    def from_sections(cls, info: bytes, abbrev: bytes, types_base: int | None = None) -> DwarfInfo:
        """From raw (decompressed) sections, without a binary: for tests and tools."""
        di = _DebugInfo(info, abbrev, lambda form, off: "")
        return cls(None, _build_index(di), lambda: di, types_base)

    @property
    def _debug_info(self) -> _DebugInfo:
        if self._info is None:
            self._info = self._info_loader()
        return self._info

    # --- names ---

    def type_names(self) -> Iterator[str]:
        return iter(self._index.types)

    def type_by_name(self, name: str) -> GoType | None:
        off = self._index.types.get(name)
        if off is not None:
            return self.type_at(off)
        if name.startswith("*") and len(name) > 1:
            # Go emits a pointer type only when the program uses it; make one up.
            elem = self.type_by_name(name[1:])
            if elem is not None:
                return GoType(POINTER, name, PTR_SIZE, elem=elem)
        return None

    def struct(self, name: str) -> GoType:
        t = self.type_by_name(name)
        where = self.binary.path if self.binary is not None else "this binary"
        if t is None:
            raise UnsupportedError(f"no type {name!r} in the DWARF of {where}")
        if t.fields is None or t.kind not in (STRUCT, STRING, SLICE, INTERFACE):
            raise UnsupportedError(f"{name!r} in the DWARF of {where} is a {t.kind}, not a struct")
        return t

    def variable(self, name: str) -> Variable | None:
        v = self._index.variables.get(name)
        if v is None or v[0] < 0:
            return None
        addr, toff = v
        return Variable(name, addr, toff if toff >= 0 else None, self.type_at)

    def variable_names(self) -> Iterator[str]:
        return iter(self._index.variables)

    def constant(self, name: str) -> int | None:
        return self._index.constants.get(name)

    def constants(self, prefix: str = "") -> dict[str, int]:
        """Every constant whose name starts with ``prefix`` (e.g. ``"runtime._G"``)."""
        return {k: v for k, v in self._index.constants.items() if k.startswith(prefix)}

    # --- runtime types ---

    @property
    def types_base(self) -> int | None:
        """Link-time address of ``moduledata.types`` (``runtime.types``): the base that
        ``DW_AT_go_runtime_type`` offsets are relative to. The linker resolves those
        offsets relative to the start of the section holding the type data (R_ADDROFF):
        ``.go.type`` (Go 1.27+) or ``.rodata``; ``runtime.types`` sits at its start."""
        if self._types_base is None and self.binary is not None:
            self._types_base = _types_base(self.binary)
        return self._types_base

    def runtime_type_address(self, t: GoType, types_base: int | None = None) -> int | None:
        """The address of ``t``'s runtime ``_type`` (link time, unless the caller passes the
        runtime ``moduledata.types`` of a relocated binary)."""
        base = self.types_base if types_base is None else types_base
        if not t.runtime_type or base is None:
            return None
        return base + t.runtime_type

    def type_by_runtime_type(self, address: int, types_base: int | None = None) -> GoType | None:
        """The type whose runtime ``_type`` is at ``address`` (an eface ``_type`` word or an
        itab's ``Type``), or None when DWARF does not describe it."""
        base = self.types_base if types_base is None else types_base
        if base is None:
            return None
        off = self._index.rtypes.get(address - base)
        return self.type_at(off) if off is not None else None

    # --- parsing types ---

    def type_at(self, offset: int) -> GoType | None:
        """The type whose DIE is at ``offset`` in .debug_info."""
        t = self._types_by_off.get(offset)
        if t is None:
            if offset in self._building:
                raise CorruptError(f"DWARF type at {offset:#x} contains itself")
            self._building.add(offset)
            try:
                t = self._build(offset)
            except _BAD_DWARF as e:
                raise CorruptError(f"bad DWARF type at {offset:#x}: {e!r}") from None
            finally:
                self._building.discard(offset)
        return t

    def _lazy(self, offset: Any) -> Callable[[], GoType | None] | None:
        if not isinstance(offset, int):
            return None
        return lambda: self.type_at(offset)

    def _build(self, offset: int) -> GoType | None:
        info = self._debug_info
        die = info.die(offset)
        if die.tag not in _TYPE_TAGS:
            return None
        name = die.name or ""
        target = die.attrs.get(DW_AT_type)
        if die.tag == DW_TAG_typedef and isinstance(target, int) and info.die(target).name == name:
            # Go emits a named type twice: the definition and a typedef of it with the same
            # name (what references point at). Both are the same GoType.
            t = self.type_at(target)
            if t is not None:
                self._types_by_off[offset] = t
            return t
        # Follow typedefs (named types, `interface {}` → runtime.eface, `map[K]V` → *hash<K,V>)
        # collecting Go's kind, key/elem and runtime type from the first DIE that has them.
        chain = [die]
        u = die
        while u.tag == DW_TAG_typedef and isinstance(u.attrs.get(DW_AT_type), int):
            if len(chain) > 16:
                raise CorruptError(f"typedef loop at DWARF offset {offset:#x}")
            u = info.die(u.attrs[DW_AT_type])
            chain.append(u)
        go_kind = 0
        kind_die = u
        for c in chain:
            k = c.attrs.get(DW_AT_go_kind, 0)
            if k:
                go_kind = k
                kind_die = c
                break
        rt = 0
        for c in chain:
            rt = c.attrs.get(DW_AT_go_runtime_type, 0) or 0
            if rt:
                break
        kind = GO_KINDS[go_kind & _KIND_MASK] if 0 < (go_kind & _KIND_MASK) < len(GO_KINDS) else None
        if kind is None:
            kind = _kind_from_die(u, name)
        ua = u.attrs
        size = ua.get(DW_AT_byte_size)
        if not isinstance(size, int):
            size = PTR_SIZE if kind in POINTER_SHAPED_KINDS else 0
        kwargs: dict[str, Any] = {"runtime_type": rt or None, "die_offset": offset}

        if kind in (MAP, CHAN):
            size = PTR_SIZE
            kwargs["elem"] = self._lazy(kind_die.attrs.get(DW_AT_go_elem))
            if kind == MAP:
                kwargs["key"] = self._lazy(kind_die.attrs.get(DW_AT_go_key))
            if u.tag == DW_TAG_pointer_type:
                kwargs["header"] = self._lazy(ua.get(DW_AT_type))
            t = GoType(kind, name, size, **kwargs)
            self._types_by_off[offset] = t
            return t
        if kind in (POINTER, UNSAFE_POINTER):
            elem = ua.get(DW_AT_type)
            if elem is None:
                kind = UNSAFE_POINTER
            t = GoType(kind, name, PTR_SIZE, elem=self._lazy(elem), **kwargs)
            self._types_by_off[offset] = t
            return t
        if kind == SLICE:
            kwargs["elem"] = self._lazy(kind_die.attrs.get(DW_AT_go_elem))
        if kind == INTERFACE:
            kwargs["empty"] = _is_empty_interface(chain)
        if kind == ARRAY:
            kwargs["elem"] = self._lazy(ua.get(DW_AT_type))
            kwargs["length"] = 0
        # Register before parsing members so self-references (through pointers) resolve.
        t = GoType(kind, name, size, **kwargs)
        self._types_by_off[offset] = t
        if kind == ARRAY:
            t.length = _array_length(info, u, size, t)
        elif u.tag == DW_TAG_structure_type:
            fields = []
            for m in info.children(u):
                if m.tag != DW_TAG_member:
                    continue
                loc = m.attrs.get(DW_AT_data_member_location, 0)
                if isinstance(loc, bytes):  # DWARF 2 style: DW_OP_plus_uconst N
                    loc = _uleb(loc, 1)[0] if loc[:1] == b"\x23" else 0
                mt = m.attrs.get(DW_AT_type)
                ftype = self.type_at(mt) if isinstance(mt, int) else None
                if ftype is None:
                    ftype = GoType(UNSAFE_POINTER, "?", 0)
                fields.append(Field(m.name or "", int(loc), ftype, bool(m.attrs.get(DW_AT_go_embedded_field))))
            t.fields = tuple(fields)
        return t


def _kind_from_die(u: _Die, name: str) -> str:
    """The Go kind of a DIE without DW_AT_go_kind (types the linker synthesizes)."""
    tag = u.tag
    a = u.attrs
    if tag == DW_TAG_structure_type:
        if name == "string":
            return STRING
        if name.startswith("[]"):
            return SLICE
        return STRUCT
    if tag == DW_TAG_pointer_type:
        return POINTER if isinstance(a.get(DW_AT_type), int) else UNSAFE_POINTER
    if tag == DW_TAG_array_type:
        return ARRAY
    if tag == DW_TAG_subroutine_type:
        return FUNC
    if tag == DW_TAG_base_type:
        enc = a.get(DW_AT_encoding)
        size = a.get(DW_AT_byte_size, 0)
        if enc == DW_ATE_boolean:
            return BOOL
        if enc == DW_ATE_float:
            return FLOAT32 if size == 4 else FLOAT64
        if enc == DW_ATE_complex_float:
            return COMPLEX64 if size == 8 else COMPLEX128
        if enc in (DW_ATE_signed, DW_ATE_signed_char):
            return _INT_BY_SIZE.get(size, INT64)
        return _UINT_BY_SIZE.get(size, UINT64)
    if tag == DW_TAG_unspecified_type:
        return UNSAFE_POINTER
    return STRUCT


def _is_empty_interface(chain: list[_Die]) -> bool:
    for c in chain:
        n = c.name
        if n in ("runtime.eface", "interface {}", "any"):
            return True
        if n == "runtime.iface":
            return False
    return chain[0].name == "interface {}"


def _array_length(info: _DebugInfo, u: _Die, size: int, t: GoType) -> int:
    for c in info.children(u):
        if c.tag == DW_TAG_subrange_type:
            n = c.attrs.get(DW_AT_count)
            if isinstance(n, int):
                return n
            ub = c.attrs.get(DW_AT_upper_bound)
            if isinstance(ub, int):
                return ub + 1
    elem = t.elem
    if elem is not None and elem.size:
        return size // elem.size
    return 0


def _read_debug_info(binary: GoBinary) -> _DebugInfo:
    """Decompressed .debug_info/.debug_abbrev through pyelftools (SHF_COMPRESSED)."""
    elf = binary.elf
    info_sec = elf.get_section_by_name(".debug_info")
    abbrev_sec = elf.get_section_by_name(".debug_abbrev")
    if info_sec is None or abbrev_sec is None:
        raise UnsupportedError(f"{binary.path} has no DWARF (.debug_info/.debug_abbrev missing)")
    info = info_sec.data()
    abbrev = abbrev_sec.data()
    strs: dict[int, Optional[bytes]] = {}

    def string(form: int, off: int) -> str:
        sec_name = ".debug_line_str" if form == DW_FORM_line_strp else ".debug_str"
        if form not in strs:
            s = elf.get_section_by_name(sec_name)
            strs[form] = s.data() if s is not None else None
        blob = strs[form]
        if blob is None or off >= len(blob):
            return ""
        end = blob.find(b"\0", off)
        return blob[off : end if end >= 0 else len(blob)].decode("utf-8", errors="replace")

    try:
        return _DebugInfo(bytes(info), bytes(abbrev), string)
    except _BAD_DWARF as e:
        raise CorruptError(f"{binary.path}: cannot read its DWARF: {e}") from None


def _types_base(binary: GoBinary) -> int | None:
    # runtime.types is moduledata.types. It starts the section holding the type data
    # (.go.type from Go 1.27, else .rodata) when Go links internally, but not with external
    # linking (the C linker merges sections; PIE moves types to .data.rel.ro): ask the
    # symbol table first.
    addr = _symbol_value(binary, "runtime.types")
    if addr is not None:
        return addr
    for name in (".go.type", ".rodata"):
        s = binary.sections.get(name)
        if s is not None and s.addr:
            return s.addr
    return None


_ELF64_SYM = struct.Struct("<IBBHQQ")


def _symbol_value(binary: GoBinary, name: str) -> int | None:
    """One symbol's value straight from .symtab/.strtab bytes: milliseconds, where reading
    the whole table through pyelftools (GoBinary.symbols) takes most of a second on a big
    binary."""
    cached = binary.__dict__.get("symbols")  # GoBinary.symbols already loaded: use it
    if cached is not None:
        sym = cached.get(name)
        return sym.addr if sym is not None else None
    symtab = binary.section_bytes(".symtab")
    strtab = binary.section_bytes(".strtab")
    if symtab is None or strtab is None:
        return None
    strs = bytes(strtab)
    needle = b"\0" + name.encode() + b"\0"
    offsets = set()
    i = strs.find(needle)
    while i >= 0:
        offsets.add(i + 1)
        i = strs.find(needle, i + 1)
    if not offsets:
        return None
    raw = bytes(symtab)
    n = len(raw) // _ELF64_SYM.size
    for st_name, _info, _other, _shndx, value, _size in _ELF64_SYM.iter_unpack(raw[: n * _ELF64_SYM.size]):
        if st_name in offsets:
            return value
    return None
