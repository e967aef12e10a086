"""Go's DWARF: types, package-level variables and constants, by name.

How it is read, and why:
- Go's linker puts every type, global and constant at the top level of a compile unit
  (types all in one unit), and never emits ``DW_AT_sibling``. A pyelftools DIE walk must
  therefore parse every DIE of every function (~14 µs each: 0.7 s for a 2 MB binary,
  10 s for a 37 MB one). Instead, one pass over the decompressed ``.debug_info``
  (``godbg.program.dwarfraw``) records only what the top-level DIEs name: type name →
  DIE offset, runtime type offset → DIE offset, global → (address, type), constant → value.
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

import hashlib
import marshal
import os
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Union

from godbg.errors import CorruptError, UnsupportedError
from godbg.program.dwarfraw import (
    BAD_DWARF,
    TYPE_TAGS,
    DebugInfo,
    Die,
    DW_AT_byte_size,
    DW_AT_const_value,
    DW_AT_count,
    DW_AT_data_member_location,
    DW_AT_encoding,
    DW_AT_go_elem,
    DW_AT_go_embedded_field,
    DW_AT_go_key,
    DW_AT_go_kind,
    DW_AT_go_runtime_type,
    DW_AT_location,
    DW_AT_type,
    DW_AT_upper_bound,
    DW_ATE_boolean,
    DW_ATE_complex_float,
    DW_ATE_float,
    DW_ATE_signed,
    DW_ATE_signed_char,
    DW_OP_addr,
    DW_TAG_array_type,
    DW_TAG_base_type,
    DW_TAG_constant,
    DW_TAG_member,
    DW_TAG_pointer_type,
    DW_TAG_structure_type,
    DW_TAG_subrange_type,
    DW_TAG_subroutine_type,
    DW_TAG_typedef,
    DW_TAG_unspecified_type,
    DW_TAG_variable,
    read_debug_info,
    uleb,
)

if TYPE_CHECKING:
    from godbg.program.binary import GoBinary

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

_Lazy = Union["GoType", Callable[[], Union["GoType", None]], None]


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
                 "_elem", "_key", "_header", "_group", "__weakref__")

    def __init__(
        self,
        kind: str,
        name: str,
        size: int,
        *,
        elem: _Lazy = None,
        key: _Lazy = None,
        header: _Lazy = None,
        group: _Lazy = None,
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
        self._group = group

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

    @property
    def group(self) -> GoType | None:
        """A map's bucket (classic) or group (swiss) type, where the type came from the
        runtime's descriptor (DWARF finds them by name instead)."""
        g = self._group
        if g is not None and not isinstance(g, GoType):
            g = self._group = g()
        return g

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


# --- the index -----------------------------------------------------------------------

_INDEX_FORMAT = 3
_CACHE_MAGIC = "godbg-dwarf-index"
# How many binaries' indexes the cache keeps (the oldest go first).
CACHE_KEEP = 64


@dataclass
class _Index:
    types: dict[str, int]  # type name -> DIE offset (first seen)
    rtypes: dict[int, int]  # DW_AT_go_runtime_type offset -> DIE offset
    variables: dict[str, tuple[int, int]]  # name -> (address or -1, type DIE offset or -1)
    constants: dict[str, int]

    def to_tuple(self) -> tuple[Any, ...]:
        return (self.types, self.rtypes, self.variables, self.constants)

    @classmethod
    def from_tuple(cls, t: Any) -> _Index:
        types, rtypes, variables, constants = t
        if not all(isinstance(x, dict) for x in (types, rtypes, variables, constants)):
            raise ValueError("bad index")
        return cls(types, rtypes, variables, constants)


def _build_index(info: DebugInfo) -> _Index:
    """One pass over every unit: parse top-level DIEs we index, skip everything else."""
    d = info.data
    types: dict[str, int] = {}
    rtypes: dict[int, int] = {}
    variables: dict[str, tuple[int, int]] = {}
    constants: dict[str, int] = {}
    wanted = TYPE_TAGS | {DW_TAG_variable, DW_TAG_constant}
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
                code, p = uleb(d, p)
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


def _index_die(die: Die, types: dict[str, int], rtypes: dict[int, int],
               variables: dict[str, tuple[int, int]], constants: dict[str, int]) -> None:
    a = die.attrs
    name = die.name
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
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the new one
        _prune(os.path.dirname(path), CACHE_KEEP)
    except Exception:  # read-only home, full disk: run without a cache
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _prune(directory: str, keep: int) -> None:
    """Keep the ``keep`` most recently written indexes (every rebuilt binary makes one)."""
    entries = []
    for name in os.listdir(directory):
        if name.endswith(".idx"):
            full = os.path.join(directory, name)
            try:
                entries.append((os.stat(full).st_mtime_ns, full))
            except OSError:
                continue
    if len(entries) <= keep:
        return
    entries.sort()
    for _, full in entries[: len(entries) - keep]:
        try:
            os.unlink(full)
        except OSError:
            pass


# --- the public face -----------------------------------------------------------------


class DwarfInfo:
    """Types, globals and constants of a Go binary, from its DWARF."""

    def __init__(self, binary: GoBinary | None, index: _Index,
                 info_loader: Callable[[], DebugInfo], types_base: int | None = None) -> None:
        self.binary = binary
        self._index = index
        self._info_loader = info_loader
        self._info: DebugInfo | None = None
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
        loaded: list[DebugInfo] = []

        def load_info() -> DebugInfo:
            if not loaded:
                loaded.append(read_debug_info(binary))
            return loaded[0]

        if index is None:
            source = "built"
            try:
                index = _build_index(load_info())
            except BAD_DWARF as e:
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
        try:
            di = DebugInfo(info, abbrev, lambda form, off: "")
            index = _build_index(di)
        except BAD_DWARF as e:
            raise CorruptError(f"cannot read this DWARF: {e!r}") from None
        return cls(None, index, lambda: di, types_base)

    @property
    def _debug_info(self) -> DebugInfo:
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
        return Variable(name, addr + self._bias, toff if toff >= 0 else None, self.type_at)

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
        """Link-time address of ``moduledata.types`` (the ``runtime.types`` symbol): the
        base that ``DW_AT_go_runtime_type`` offsets are relative to (R_ADDROFF relocations
        resolve to an offset from the start of the linker's type section, where
        ``runtime.types`` sits)."""
        if self._types_base is None and self.binary is not None:
            self._types_base = _types_base(self.binary)
        return None if self._types_base is None else self._types_base + self._bias

    @property
    def _bias(self) -> int:
        """The binary's load bias: DWARF holds link-time addresses."""
        return self.binary.load_bias if self.binary is not None else 0

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
            except BAD_DWARF as e:
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
        if die.tag not in TYPE_TAGS:
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
            k = _int_attr(c, DW_AT_go_kind)
            if k:
                go_kind = k
                kind_die = c
                break
        rt = 0
        for c in chain:
            rt = _int_attr(c, DW_AT_go_runtime_type)
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
        # Fields (and array elements) are values inside this one, so they are built now, and
        # the type is registered only when complete: a type that contains itself by value
        # (impossible in Go, possible in corrupt DWARF) hits the re-entry guard in type_at.
        # Pointers, slices, maps and chans resolve lazily, so a type may point to itself.
        t = GoType(kind, name, size, **kwargs)
        if kind == ARRAY:
            t.length = _array_length(info, u, size, t)
        elif u.tag == DW_TAG_structure_type:
            fields = []
            for m in info.children(u):
                if m.tag != DW_TAG_member:
                    continue
                loc = m.attrs.get(DW_AT_data_member_location, 0)
                if isinstance(loc, bytes):  # DWARF 2 style: DW_OP_plus_uconst N
                    loc = uleb(loc, 1)[0] if loc[:1] == b"\x23" else 0
                mt = m.attrs.get(DW_AT_type)
                ftype = self.type_at(mt) if isinstance(mt, int) else None
                if ftype is None:
                    ftype = GoType(UNSAFE_POINTER, "?", 0)
                fields.append(Field(m.name or "", int(loc), ftype, bool(m.attrs.get(DW_AT_go_embedded_field))))
            t.fields = tuple(fields)
        self._types_by_off[offset] = t
        return t


def _int_attr(die: Die, at: int) -> int:
    v = die.attrs.get(at, 0)
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _kind_from_die(u: Die, name: str) -> str:
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


def _is_empty_interface(chain: list[Die]) -> bool:
    for c in chain:
        n = c.name
        if n in ("runtime.eface", "interface {}", "any"):
            return True
        if n == "runtime.iface":
            return False
    return chain[0].name == "interface {}"


def _array_length(info: DebugInfo, u: Die, size: int, t: GoType) -> int:
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




def _types_base(binary: GoBinary) -> int | None:
    """Link-time address of moduledata.types."""
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
            return s.addr - binary.load_bias
    return None


_ELF64_SYM = struct.Struct("<IBBHQQ")


def _symbol_value(binary: GoBinary, name: str) -> int | None:
    """One symbol's link-time value straight from .symtab/.strtab bytes: milliseconds,
    where reading the whole table through pyelftools (GoBinary.symbols) takes most of a
    second on a big binary."""
    cached = binary.__dict__.get("symbols")  # GoBinary.symbols already loaded: use it
    if cached is not None:
        sym = cached.get(name)
        return sym.addr - binary.load_bias if sym is not None else None
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
            address: int = value
            return address
    return None
