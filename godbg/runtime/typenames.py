"""Runtime type records (`internal/abi.Type`): the name and kind of the dynamic type
behind an interface, read from the binary's type data the way the runtime itself
prints it (`rtype.string()`), so it needs no DWARF and matches Go's own output.

Facts (internal/abi/type.go, Go 1.22-1.27): `Str` is a NameOff from
`moduledata.types`; a name is a flags byte, a uvarint length and the bytes;
TFlagExtraStar means the stored name has a leading '*' to drop; the kind is the low
five bits of `Kind_` (the upper bits held flags before Go 1.26)."""

from __future__ import annotations

from dataclasses import dataclass

from godbg.errors import CorruptError, FaultError
from godbg.program.target import Target
from godbg.runtime.layouts import layout

TFLAG_UNCOMMON = 1 << 0
TFLAG_EXTRA_STAR = 1 << 1
TFLAG_NAMED = 1 << 2
KIND_MASK = 0x1F
# "Stored directly in the interface word": a Kind_ flag before Go 1.26, a TFlag bit
# from 1.26 on (the other encoding leaves that bit clear, so either one tells).
KIND_DIRECT_IFACE = 1 << 5
TFLAG_DIRECT_IFACE = 1 << 5

# internal/abi.Kind values (stable 1.22-1.27).
KIND_NAMES = (
    "invalid", "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16",
    "uint32", "uint64", "uintptr", "float32", "float64", "complex64", "complex128", "array",
    "chan", "func", "interface", "map", "ptr", "slice", "string", "struct", "unsafe.Pointer",
)
KIND_BOOL = 1
KIND_INT = 2
KIND_UINTPTR = 12
KIND_FLOAT32 = 13
KIND_FLOAT64 = 14
KIND_COMPLEX64 = 15
KIND_COMPLEX128 = 16
KIND_STRING = 24

# A type name longer than this is corrupt, not long.
MAX_NAME = 1 << 16


@dataclass(frozen=True)
class RType:
    address: int
    name: str
    kind: int
    size: int
    tflag: int
    direct: bool  # the eface data word is the value itself, not a pointer to it


def types_range(target: Target) -> tuple[int, int]:
    """[moduledata.types, moduledata.etypes) of the main module."""

    def compute() -> tuple[int, int]:
        md = target.symbol_address("runtime.firstmoduledata")
        lay = layout(target, "runtime.moduledata")
        return target.memory.ptr(md + lay.off("types")), target.memory.ptr(md + lay.off("etypes"))

    return target.memo("rtype:types_range", compute)


def is_type_address(target: Target, address: int) -> bool:
    try:
        lo, hi = types_range(target)
    except (FaultError, CorruptError):
        return False
    return lo <= address < hi


def read_name(target: Target, address: int) -> str:
    """An `abi.Name`: flags byte, uvarint length, bytes."""
    head = target.memory.read(address, 1 + 10)
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
    return target.memory.read(address + pos, n).decode("utf-8", errors="replace") if n else ""


def rtype(target: Target, address: int) -> RType:
    """The runtime type record at ``address`` (an eface `_type` word)."""
    key = f"rtype:{address:#x}"
    found: RType | None = target.cache.get(key)
    if found is not None:
        return found
    if not is_type_address(target, address):
        raise CorruptError(f"{address:#x} is not a runtime type (outside moduledata.types)")
    lay = layout(target, "internal/abi.Type")
    raw = target.memory.read(address, lay.size)
    size = int.from_bytes(raw[lay.off("Size_") : lay.off("Size_") + 8], "little")
    tflag = raw[lay.off("TFlag")]
    kind_raw = raw[lay.off("Kind_")]
    kind = kind_raw & KIND_MASK
    direct = bool(kind_raw & KIND_DIRECT_IFACE or tflag & TFLAG_DIRECT_IFACE)
    str_off = int.from_bytes(raw[lay.off("Str") : lay.off("Str") + 4], "little", signed=True)
    base, _end = types_range(target)
    name = read_name(target, base + str_off)
    if tflag & TFLAG_EXTRA_STAR and name.startswith("*"):
        name = name[1:]
    found = RType(address, name, kind, size, tflag, direct)
    target.cache[key] = found
    return found


def type_name(target: Target, address: int) -> str | None:
    """The Go name of the runtime type at ``address``, None for nil or unreadable."""
    if not address:
        return None
    try:
        return rtype(target, address).name
    except (FaultError, CorruptError):
        return None


# The struct that follows abi.Type for each kind: the UncommonType comes right after it
# (abi.Type.Uncommon). Maps are left out: their record changes with the map implementation.
_KIND_RECORDS = {
    17: "internal/abi.ArrayType",
    18: "internal/abi.ChanType",
    19: "internal/abi.FuncType",
    20: "internal/abi.InterfaceType",
    22: "internal/abi.PtrType",
    23: "internal/abi.SliceType",
    25: "internal/abi.StructType",
}
KIND_MAP = 21
# A type with more methods than this is corrupt.
MAX_METHODS = 1 << 14


def method_names(target: Target, address: int) -> list[str] | None:
    """Names of the methods in the type's method set (from its UncommonType), [] when it
    has none, None when godbg cannot tell (maps, unreadable records)."""
    try:
        rt = rtype(target, address)
        if not rt.tflag & TFLAG_UNCOMMON:
            return []
        if rt.kind == KIND_MAP:
            return None
        record = _KIND_RECORDS.get(rt.kind)
        head = layout(target, record).size if record else layout(target, "internal/abi.Type").size
        ulay = layout(target, "internal/abi.UncommonType")
        mlay = layout(target, "internal/abi.Method")
        uncommon = address + head
        raw = target.memory.read(uncommon, ulay.size)
        mcount = int.from_bytes(raw[ulay.off("Mcount") : ulay.off("Mcount") + 2], "little")
        moff = int.from_bytes(raw[ulay.off("Moff") : ulay.off("Moff") + 4], "little")
        if mcount > MAX_METHODS:
            return None
        base, _end = types_range(target)
        names = []
        table = target.memory.read(uncommon + moff, mlay.size * mcount) if mcount else b""
        for i in range(mcount):
            off = int.from_bytes(table[i * mlay.size + mlay.off("Name") :][:4], "little", signed=True)
            names.append(read_name(target, base + off))
        return names
    except (FaultError, CorruptError):
        return None
