"""Go types from the runtime's own type descriptors (`internal/abi.Type` and the record of
each kind), for binaries without DWARF and for the dynamic types of interface values.

Every type a program uses at run time has a descriptor in ``[moduledata.types, etypes)``:
its size, kind and name (``Str``, a NameOff from ``moduledata.types``), and per kind the
rest — struct fields with names and offsets (``StructType.Fields``), the element of a
pointer, slice, array or channel, a map's key, elem and bucket/group type, an interface's
method count. Record layouts come from ``godbg.runtime.layouts`` (DWARF, else the built-in
per-release tables), never hard-coded.

A type is found by name the way the runtime would print it: every descriptor's ``Str``
points at an ``abi.Name`` (flags byte, uvarint length, bytes), so the name's bytes are
searched in the type data and the descriptor whose ``Str`` holds that offset is taken.
Named types whose name is stored with an extra leading ``*`` (TFlagExtraStar) are found
through that spelling too.

Facts (internal/abi/type.go, Go 1.22-1.27): the kind is the low five bits of ``Kind_``;
``abi.Name`` flag bit 3 marks an embedded field; ``InterfaceType.Methods`` is empty for
``interface {}``; map records are ``MapType`` (classic, 1.22-1.23, ``Bucket``),
``SwissMapType`` (1.24-1.25, ``Group``) and ``MapType`` again with ``Group`` (1.26+).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING

from godbg.errors import CorruptError, FaultError, GodbgError, UnsupportedError
from godbg.program import dwarf as dw
from godbg.program.dwarf import Field, GoType
from godbg.runtime.layouts import StructLayout, has_layout, layout

if TYPE_CHECKING:
    from godbg.program.target import Target

TFLAG_UNCOMMON = 1 << 0
TFLAG_EXTRA_STAR = 1 << 1
KIND_MASK = 0x1F
# "Stored directly in the interface word": a Kind_ flag before Go 1.26, a TFlag bit from
# 1.26 on (the other encoding leaves that bit clear, so either one tells).
DIRECT_IFACE_BIT = 1 << 5
NAME_EMBEDDED = 1 << 3
# Bounds that tell a corrupt descriptor from a big one.
MAX_NAME = 1 << 16
MAX_FIELDS = 1 << 14
MAX_TYPE_SIZE = 1 << 40
# Nested value types (struct in struct in array...) deeper than this are corrupt.
MAX_NESTING = 64
# abi.Type descriptors are pointer aligned.
ALIGN = 8
# Matches of a name's bytes, and of its offset, tried per lookup.
MAX_CANDIDATES = 64
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")

ABI_TYPE = "internal/abi.Type"
MAP_RECORDS = ("internal/abi.SwissMapType", "internal/abi.MapType", "internal/abi.OldMapType")


class DescriptorTypes:
    """GoTypes built from one target's type descriptors, cached by descriptor address."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.memory = target.memory
        md = target.symbol_address("runtime.firstmoduledata")
        lay = layout(target, "runtime.moduledata")
        self.lo = self.memory.ptr(md + lay.off("types"))
        self.hi = self.memory.ptr(md + lay.off("etypes"))
        if not 0 < self.lo < self.hi or self.hi - self.lo > MAX_TYPE_SIZE:
            raise CorruptError(f"moduledata.types [{self.lo:#x}, {self.hi:#x}) is not a type section")
        self.abi = layout(target, ABI_TYPE)
        self._by_addr: dict[int, GoType] = {}
        self._building: set[int] = set()
        self._by_name: dict[str, GoType | None] = {}
        self._blob: bytes | None = None
        self._map_record: StructLayout | None = None
        self._depth = 0

    # --- lookups ---

    def contains(self, address: int) -> bool:
        return self.lo <= address < self.hi

    def type_at(self, address: int) -> GoType:
        """The type whose descriptor is at ``address``."""
        t = self._by_addr.get(address)
        if t is not None:
            return t
        if not self.contains(address) or address % ALIGN:
            raise CorruptError(f"{address:#x} is not a type descriptor (outside moduledata.types)")
        if address in self._building or self._depth > MAX_NESTING:
            raise CorruptError(f"type descriptor at {address:#x} contains itself")
        self._building.add(address)
        self._depth += 1
        try:
            t = self._build(address)
        finally:
            self._depth -= 1
            self._building.discard(address)
        self._by_addr[address] = t
        return t

    def by_name(self, name: str) -> GoType | None:
        """The type the runtime names ``name`` (``main.T``, ``map[string]int``), or None."""
        if name in self._by_name:
            return self._by_name[name]
        found = None
        for addr in self.candidates(name):
            try:
                t = self.type_at(addr)
            except (CorruptError, FaultError):
                continue  # four bytes that only looked like a name offset
            if t.name == name:
                found = t
                break
        self._by_name[name] = found
        return found

    def candidates(self, name: str) -> Iterator[int]:
        """Addresses of descriptors whose ``Str`` names ``name`` (to be checked by parsing)."""
        blob = self._types_blob()
        raw = name.encode()
        str_at = self.abi.off("Str")
        tflag_at = self.abi.off("TFlag")
        for spelled, extra_star in ((raw, False), (b"*" + raw, True)):
            needle = _uvarint(len(spelled)) + spelled
            i = blob.find(needle)
            for _ in range(MAX_CANDIDATES):
                if i < 1:
                    break
                pat = _I32.pack(i - 1)  # the name starts at its flags byte, before the length
                j = blob.find(pat)
                for _ in range(MAX_CANDIDATES):
                    if j < 0:
                        break
                    start = j - str_at
                    if (start >= 0 and start % ALIGN == 0
                            and bool(blob[start + tflag_at] & TFLAG_EXTRA_STAR) == extra_star):
                        yield self.lo + start
                    j = blob.find(pat, j + 1)
                i = blob.find(needle, i + 1)

    def _types_blob(self) -> bytes:
        if self._blob is None:
            self._blob = self.memory.read(self.lo, self.hi - self.lo)
        return self._blob

    # --- reading descriptors ---

    def name_at(self, address: int) -> tuple[str, int]:
        """An ``abi.Name`` at ``address``: (text, flags)."""
        head = self.memory.read(address, 1 + 10)
        n = shift = 0
        pos = 1
        while pos < len(head):
            b = head[pos]
            pos += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if n > MAX_NAME:
            raise CorruptError(f"type name at {address:#x} claims {n} bytes")
        text = self.memory.read(address + pos, n).decode("utf-8", errors="replace") if n else ""
        return text, head[0]

    def _ptr(self, raw: bytes, off: int) -> int:
        return int(_U64.unpack_from(raw, off)[0])

    def _build(self, address: int) -> GoType:
        abi = self.abi
        head = self.memory.read(address, abi.size)
        size = self._ptr(head, abi.off("Size_"))
        tflag = head[abi.off("TFlag")]
        kind_raw = head[abi.off("Kind_")]
        kind_no = kind_raw & KIND_MASK
        if not 0 < kind_no < len(dw.GO_KINDS) or size > MAX_TYPE_SIZE:
            raise CorruptError(f"type descriptor at {address:#x}: kind {kind_no}, size {size}")
        kind = dw.GO_KINDS[kind_no]
        assert kind is not None
        str_off = _I32.unpack_from(head, abi.off("Str"))[0]
        name, _flags = self.name_at(self.lo + str_off)
        if tflag & TFLAG_EXTRA_STAR and name.startswith("*"):
            name = name[1:]
        rt = address - self.lo
        if kind in (dw.POINTER, dw.SLICE):
            rec = layout(self.target, "internal/abi.PtrType" if kind == dw.POINTER else "internal/abi.SliceType")
            elem = self._ptr(self.memory.read(address, rec.size), rec.off("Elem"))
            return GoType(kind, name, size, elem=self._lazy(elem), runtime_type=rt)
        if kind == dw.CHAN:
            rec = layout(self.target, "internal/abi.ChanType")
            elem = self._ptr(self.memory.read(address, rec.size), rec.off("Elem"))
            return GoType(kind, name, size, elem=self._lazy(elem), runtime_type=rt)
        if kind == dw.ARRAY:
            rec = layout(self.target, "internal/abi.ArrayType")
            raw = self.memory.read(address, rec.size)
            length = self._ptr(raw, rec.off("Len"))
            elem_t = self.type_at(self._ptr(raw, rec.off("Elem")))
            if length > MAX_TYPE_SIZE or elem_t.size * length != size:
                raise CorruptError(f"array type at {address:#x}: {length} × {elem_t.size} ≠ {size}")
            return GoType(kind, name, size, elem=elem_t, length=length, runtime_type=rt)
        if kind == dw.MAP:
            rec = self.map_record()
            raw = self.memory.read(address, rec.size)
            header = None
            for f in ("Group", "Bucket"):
                if rec.has(f):
                    header = self._ptr(raw, rec.off(f))
            return GoType(kind, name, size, key=self._lazy(self._ptr(raw, rec.off("Key"))),
                          elem=self._lazy(self._ptr(raw, rec.off("Elem"))),
                          group=self._lazy(header) if header else None, runtime_type=rt)
        if kind == dw.INTERFACE:
            rec = layout(self.target, "internal/abi.InterfaceType")
            raw = self.memory.read(address, rec.size)
            n = _I64(raw, rec.off("Methods.len"))
            return GoType(kind, name, size, empty=n == 0, fields=_iface_fields(n == 0), runtime_type=rt)
        if kind == dw.STRUCT:
            return GoType(kind, name, size, fields=self._struct_fields(address, size), runtime_type=rt)
        if kind == dw.STRING:
            return GoType(kind, name, size, fields=_string_fields(), runtime_type=rt)
        return GoType(kind, name, size, runtime_type=rt)

    def _struct_fields(self, address: int, size: int) -> list[Field]:
        rec = layout(self.target, "internal/abi.StructType")
        fl = layout(self.target, "internal/abi.StructField")
        raw = self.memory.read(address, rec.size)
        arr = self._ptr(raw, rec.off("Fields.array"))
        n = _I64(raw, rec.off("Fields.len"))
        if n < 0 or n > MAX_FIELDS:
            raise CorruptError(f"struct type at {address:#x} claims {n} fields")
        table = self.memory.read(arr, n * fl.size) if n else b""
        fields = []
        for i in range(n):
            base = i * fl.size
            fname, flags = self.name_at(self._ptr(table, base + fl.off("Name")))
            ftype = self.type_at(self._ptr(table, base + fl.off("Typ")))
            off = self._ptr(table, base + fl.off("Offset"))
            if off + ftype.size > size:
                raise CorruptError(f"struct type at {address:#x}: field {fname} past its end")
            fields.append(Field(fname, off, ftype, bool(flags & NAME_EMBEDDED)))
        return fields

    def _lazy(self, address: int):  # type: ignore[no-untyped-def]
        if not address:
            return None
        return lambda: self.type_at(address)

    def map_record(self) -> StructLayout:
        """The map type record of this release and map implementation."""
        if self._map_record is None:
            from godbg.runtime import version

            want = "Bucket" if version.map_impl(self.target) == version.MAP_CLASSIC else "Group"
            for name in MAP_RECORDS:
                if has_layout(self.target, name) and layout(self.target, name).has(want):
                    self._map_record = layout(self.target, name)
                    break
            else:
                raise UnsupportedError(f"no map type record with {want} in this Go release")
        return self._map_record


def _I64(raw: bytes, off: int) -> int:
    return int(struct.unpack_from("<q", raw, off)[0])


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


_UINTPTR = GoType(dw.UINTPTR, "uintptr", dw.PTR_SIZE)
_INT = GoType(dw.INT, "int", dw.PTR_SIZE)
_UNSAFE = GoType(dw.UNSAFE_POINTER, "unsafe.Pointer", dw.PTR_SIZE)


def _string_fields() -> list[Field]:
    return [Field("str", 0, _UNSAFE), Field("len", 8, _INT)]


def _iface_fields(empty: bool) -> list[Field]:
    return [Field("_type" if empty else "tab", 0, _UNSAFE), Field("data", 8, _UNSAFE)]


def descriptor_types(target: Target) -> DescriptorTypes | None:
    """The target's descriptor reader (one per stop), None when moduledata cannot be read."""

    def make() -> DescriptorTypes | None:
        try:
            return DescriptorTypes(target)
        except (GodbgError, FaultError):
            return None

    result: DescriptorTypes | None = target.memo("types:descriptors", make)
    return result
