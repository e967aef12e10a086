"""DWARF bytes: units, abbreviations, DIEs, attribute values, and a fast skip over
subtrees. No Go knowledge beyond the numbers of Go's own attributes; the Go model on top
is godbg.program.dwarf.

Why not pyelftools' DIE objects: Go emits no ``DW_AT_sibling``, so finding the top-level
DIEs means parsing every DIE below them, and pyelftools spends ~14 µs on each. Here each
abbreviation gets a precomputed skip plan (fixed sizes summed, variable-size forms one
step each), and skipping a DIE costs well under a microsecond. pyelftools still provides
the (decompressed) section bytes.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from godbg.errors import CorruptError, UnsupportedError

if TYPE_CHECKING:
    from godbg.program.binary import GoBinary

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

TYPE_TAGS = frozenset(
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

# --- low-level reading ----------------------------------------------------------------

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def uleb(d: bytes, p: int) -> tuple[int, int]:
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


def sleb(d: bytes, p: int) -> tuple[int, int]:
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
class Abbrev:
    tag: int
    children: bool
    attrs: tuple[tuple[int, int, int], ...]  # (attribute, form, implicit_const)
    plan: tuple[int, ...]


@dataclass(frozen=True)
class Unit:
    start: int  # offset of the unit header
    end: int
    die_start: int
    version: int
    addr_size: int
    offset_size: int
    abbrevs: dict[int, Abbrev]


@dataclass
class Die:
    offset: int
    tag: int
    attrs: dict[int, Any]
    children: bool
    end: int  # where the next DIE (first child, if any) starts
    unit: Unit

    @property
    def name(self) -> str | None:
        n = self.attrs.get(DW_AT_name)
        return n if isinstance(n, str) else None


def skip_plan(forms: list[int], addr_size: int, offset_size: int, version: int) -> tuple[int, ...]:
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


class DebugInfo:
    """The decompressed .debug_info with its units and abbreviation tables."""

    def __init__(self, info: bytes, abbrev: bytes, strs: Callable[[int, int], str]) -> None:
        self.data = info
        self.abbrev_data = abbrev
        self._strs = strs  # (form, offset) -> string for strp/line_strp
        self._abbrev_tables: dict[tuple[int, int, int, int], dict[int, Abbrev]] = {}
        self.units: list[Unit] = self._read_units()
        self._unit_starts = [u.start for u in self.units]

    def _read_units(self) -> list[Unit]:
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
            units.append(Unit(start, end, p, version, addr_size, offset_size, abbrevs))
            p = end
        return units

    def _abbrevs(self, off: int, addr_size: int, offset_size: int, version: int) -> dict[int, Abbrev]:
        key = (off, addr_size, offset_size, version)
        table = self._abbrev_tables.get(key)
        if table is not None:
            return table
        d = self.abbrev_data
        table = {}
        p = off
        while p < len(d):
            code, p = uleb(d, p)
            if code == 0:
                break
            tag, p = uleb(d, p)
            children = d[p] != 0
            p += 1
            attrs = []
            while True:
                at, p = uleb(d, p)
                form, p = uleb(d, p)
                if at == 0 and form == 0:
                    break
                implicit = 0
                if form == DW_FORM_implicit_const:
                    implicit, p = sleb(d, p)
                attrs.append((at, form, implicit))
            plan = skip_plan([f for _, f, _ in attrs], addr_size, offset_size, version)
            table[code] = Abbrev(tag, children, tuple(attrs), plan)
        self._abbrev_tables[key] = table
        return table

    def unit_at(self, offset: int) -> Unit:
        i = bisect.bisect_right(self._unit_starts, offset) - 1
        if i < 0 or not self.units[i].die_start <= offset < self.units[i].end:
            raise CorruptError(f"no DWARF unit holds DIE offset {offset:#x}")
        return self.units[i]

    # One value.
    def _value(self, p: int, form: int, implicit: int, u: Unit) -> tuple[Any, int]:
        d = self.data
        if form == DW_FORM_string:
            e = d.index(0, p)
            return d[p:e].decode("utf-8", errors="replace"), e + 1
        if form in (DW_FORM_udata, DW_FORM_strx, DW_FORM_addrx, DW_FORM_loclistx, DW_FORM_rnglistx,
                    DW_FORM_GNU_addr_index, DW_FORM_GNU_str_index):
            return uleb(d, p)
        if form == DW_FORM_ref_udata:
            v, p = uleb(d, p)
            return u.start + v, p
        if form == DW_FORM_sdata:
            return sleb(d, p)
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
                n, p = uleb(d, p)
            return bytes(d[p : p + n]), p + n
        if form == DW_FORM_indirect:
            real, p = uleb(d, p)
            return self._value(p, real, 0, u)
        size = _FIXED_FORMS.get(form)
        if size is not None:
            if size in (1, 2, 4, 8):
                return int.from_bytes(d[p : p + size], "little"), p + size
            return bytes(d[p : p + size]), p + size
        raise CorruptError(f"DWARF form {form:#x} is not supported")

    def die(self, offset: int, unit: Unit | None = None) -> Die:
        u = unit or self.unit_at(offset)
        d = self.data
        code, p = uleb(d, offset)
        if code == 0:
            raise CorruptError(f"DWARF DIE reference {offset:#x} points at a null entry")
        ab = u.abbrevs.get(code)
        if ab is None:
            raise CorruptError(f"DWARF DIE at {offset:#x} has unknown abbreviation {code}")
        attrs: dict[int, Any] = {}
        for at, form, implicit in ab.attrs:
            attrs[at], p = self._value(p, form, implicit, u)
        return Die(offset, ab.tag, attrs, ab.children, p, u)

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
                n, p = uleb(d, p)
                p += n
            elif op == _SKIP_BLOCK2:
                p += 2 + _U16.unpack_from(d, p)[0]
            elif op == _SKIP_BLOCK4:
                p += 4 + _U32.unpack_from(d, p)[0]
            else:  # indirect: the form comes first
                form, p = uleb(d, p)
                # Any unit works for sizes here: Go emits one address and offset size.
                _, p = self._value(p, form, 0, self.units[0])
        return p

    def children(self, die: Die) -> Iterator[Die]:
        """The direct children of ``die``, skipping grandchildren."""
        if not die.children:
            return
        d = self.data
        u = die.unit
        p = die.end
        while p < u.end:
            code, q = uleb(d, p)
            if code == 0:
                return
            child = self.die(p, u)
            yield child
            p = child.end
            if child.children:
                p = self._skip_subtree(p, u)

    def _skip_subtree(self, p: int, u: Unit) -> int:
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
                code, p = uleb(d, p)
            if code == 0:
                depth -= 1
                continue
            ab = abbrevs[code]
            p = skip(p, ab.plan)
            if ab.children:
                depth += 1
        return p


# What reading malformed DWARF bytes raises (turned into CorruptError at the edges).
BAD_DWARF = (IndexError, KeyError, ValueError, TypeError, struct.error, RecursionError)


def read_debug_info(binary: GoBinary) -> DebugInfo:
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
        return DebugInfo(bytes(info), bytes(abbrev), string)
    except BAD_DWARF as e:
        raise CorruptError(f"{binary.path}: cannot read its DWARF: {e}") from None
