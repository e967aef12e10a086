"""Go values from memory: (memory, GoType, address) → JSON-able Python values.

The contract's JSON section, kind by kind: integers and floats → numbers (non-finite floats
→ ``"NaN"``, ``"+Inf"``, ``"-Inf"``); bool; string; struct → object of its fields in
declaration order (blank ``_`` fields left out); array and slice → list; pointer, chan, func,
unsafe.Pointer → ``"0x…"``, nil → null; interface → ``{"type": T, "value": V}`` with T
named from the runtime type pointer through DWARF (nil interface → null); a map →
``{"map": "0x…", "count": N}`` (nil map: ``{"map": null, "count": 0}``); complex →
``"(1+2i)"``.

Speed: every GoType gets one decoder closure, built once per ``ValueDecoder`` and reused,
that decodes a value from an already-read buffer: ``fn(buf, off, depth=0)``. A struct or
array is read with one ``memory.read`` and decoded from the bytes; only strings, slices,
interfaces and maps read further. The map decoders call ``compile(K)``/``compile(V)`` once
and then the closures per entry.

Bounds: ``Limits`` (depth, elements per slice/array, bytes per string). A memory fault
below the top-level value becomes ``"<unreadable 0x…>"`` for that part only; corrupt
headers (negative or huge lengths) become ``"<bad …>"``.
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from godbg.errors import CorruptError, FaultError
from godbg.program import dwarf as dw
from godbg.program.dwarf import GoType
from godbg.values.model import (
    DEFAULT_LIMITS,
    ChanRef,
    FuncRef,
    Iface,
    Limits,
    MapRef,
    Ptr,
    Raw,
    Struct,
    hex_ptr,
    unreadable,
)

if TYPE_CHECKING:
    from godbg.program.dwarf import DwarfInfo
    from godbg.program.memory import Memory
    from godbg.program.target import Target
    from godbg.values.hooks import ValueHooks

Decoder = Callable[..., Any]  # fn(buf, off, depth=0) -> value

# A value bigger than this is not read in one go: arrays are read up to the element
# limit, structs field by field.
BIG_VALUE = 1 << 20
# Implausible lengths for a string or slice header: the header is corrupt.
MAX_LEN = 1 << 40
# What a buffer too short for its type (DWARF that disagrees with itself) raises.
_MISFIT = (struct.error, IndexError)

_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")
_QQ = struct.Struct("<QQ")
_Q_QQ = struct.Struct("<Qqq")  # slice: array, len, cap
_Q_Q = struct.Struct("<Qq")  # string: data, len

_NUMBER_CODES = {
    dw.INT: "q", dw.INT8: "b", dw.INT16: "h", dw.INT32: "i", dw.INT64: "q",
    dw.UINT: "Q", dw.UINT8: "B", dw.UINT16: "H", dw.UINT32: "I", dw.UINT64: "Q", dw.UINTPTR: "Q",
    dw.FLOAT32: "f", dw.FLOAT64: "d",
}

# internal/abi.Type (Go 1.21+): Size_ uintptr, PtrBytes uintptr, Hash uint32, TFlag uint8 @20,
# Align_ @21, FieldAlign_ @22, Kind_ uint8 @23, Equal @24, GCData @32, Str NameOff (int32) @40.
_ABI_TYPE_TFLAG = 20
_ABI_TYPE_KIND = 23
_ABI_TYPE_STR = 40
_ABI_TYPE_HEAD = 44
# "stored directly in the interface word": KindDirectIface (Kind_ bit 5) up to Go 1.25,
# TFlagDirectIface (TFlag bit 5) from Go 1.26; neither bit is used otherwise in the other.
_DIRECT_IFACE_BIT = 1 << 5
_TFLAG_EXTRA_STAR = 1 << 1  # the name in Str has a leading '*' to drop
# itab: {Inter, Type, Hash, Fun} (internal/abi.ITab; runtime.itab {inter, _type, …} before 1.22).
_ITAB_TYPE_DEFAULT = 8


class ValueDecoder:
    """Decodes Go values for one memory (and DWARF). Keep one per command: it caches a
    decoder closure per GoType and the dynamic types of interface values."""

    def __init__(
        self,
        memory: Memory,
        dwarf: DwarfInfo | None = None,
        limits: Limits = DEFAULT_LIMITS,
        types_base: int | None = None,
        hooks: ValueHooks | None = None,
    ) -> None:
        self.memory = memory
        self.dwarf = dwarf
        self.limits = limits
        self.hooks = hooks
        # Pointers being followed right now (a cycle comes back to one) and how many.
        self._path: set[int] = set()
        self._types_base = types_base
        self._compiled: dict[GoType, Decoder] = {}
        self._dynamic: dict[int, tuple[GoType | None, Any, bool]] = {}
        self._itab_type_off: int | None = None

    # --- entry points ---

    def decode(self, t: GoType, address: int) -> Any:
        """The value of type ``t`` at ``address``. A fault reading the value itself raises
        FaultError; faults further down become placeholders."""
        try:
            return self._decode_at(t, address, 0)
        except _MISFIT as e:
            raise CorruptError(f"cannot decode {t.name} at {address:#x}: {e}") from None

    def decode_from(self, buf: bytes | memoryview, off: int, t: GoType, depth: int = 0) -> Any:
        """The value of type ``t`` at ``buf[off:]`` (already read from memory)."""
        try:
            return self.compile(t)(buf, off, depth)
        except _MISFIT as e:
            raise CorruptError(f"cannot decode {t.name} from a buffer at +{off}: {e}") from None

    def compile(self, t: GoType) -> Decoder:
        """The decoder closure for ``t``: ``fn(buf, off, depth=0) -> value``."""
        fn = self._compiled.get(t)
        if fn is None:
            fn = self._build(t)
            self._compiled[t] = fn
        return fn

    # --- reading ---

    def _decode_at(self, t: GoType, address: int, depth: int) -> Any:
        size = t.size
        if size <= 0:
            return self.compile(t)(b"", 0, depth)
        if size <= BIG_VALUE:
            return self.compile(t)(self.memory.read(address, size), 0, depth)
        return self._decode_big(t, address, depth)

    def _decode_big(self, t: GoType, address: int, depth: int) -> Any:
        lim = self.limits
        if depth >= lim.depth:
            return _depth_placeholder(t)
        if t.kind == dw.ARRAY and t.elem is not None:
            elem = t.elem
            n = t.length or 0
            k = min(n, lim.elems)
            out = [self._nested_at(elem, address + i * elem.size, depth + 1) for i in range(k)]
            if k < n:
                out.append(_more(n - k))
            return out
        if t.fields is not None:
            r = Struct()
            for f in t.fields:
                if f.name != "_":
                    r[f.name] = self._nested_at(f.type, address + f.offset, depth + 1)
            return r
        return Raw(f"<{t.name}: {t.size} bytes>")

    def _nested_at(self, t: GoType, address: int, depth: int) -> Any:
        try:
            return self._decode_at(t, address, depth)
        except FaultError:
            return unreadable(address)

    # --- building decoders ---

    def _build(self, t: GoType) -> Decoder:
        kind = t.kind
        if kind in _NUMBER_CODES:
            return _number_decoder(kind)
        if kind == dw.BOOL:
            return lambda buf, off, depth=0: buf[off] != 0
        if self.limits.pointers and kind in (dw.POINTER, dw.FUNC, dw.CHAN):
            return self._rich_decoder(t)
        if kind in dw.POINTER_SHAPED_KINDS and kind != dw.MAP:
            unpack = _U64.unpack_from
            return lambda buf, off, depth=0: hex_ptr(unpack(buf, off)[0])
        if kind == dw.STRING:
            return self._string_decoder()
        if kind == dw.MAP:
            return self._map_decoder(t)
        if kind == dw.SLICE:
            return self._slice_decoder(t)
        if kind == dw.ARRAY:
            return self._array_decoder(t)
        if kind == dw.STRUCT:
            return self._struct_decoder(t)
        if kind == dw.INTERFACE:
            return self._interface_decoder(t)
        if kind in (dw.COMPLEX64, dw.COMPLEX128):
            s = struct.Struct("<ff" if kind == dw.COMPLEX64 else "<dd")
            short = _float32 if kind == dw.COMPLEX64 else float

            def complex_(buf: Any, off: int, depth: int = 0) -> Raw:
                re, im = s.unpack_from(buf, off)
                return Raw(f"({go_float(short(re))}{_signed(go_float(short(im)))}i)")

            return complex_
        placeholder = Raw(f"<{t.kind} {t.name}>")
        return lambda buf, off, depth=0: placeholder

    def _rich_decoder(self, t: GoType) -> Decoder:
        """``print``'s rules: pointers followed, funcs named, channels summarised."""
        unpack = _U64.unpack_from
        memory = self.memory
        lim = self.limits
        hooks = self.hooks
        path = self._path
        kind = t.kind

        def func(buf: Any, off: int, depth: int = 0) -> Any:
            p = unpack(buf, off)[0]
            if not p:
                return None
            try:
                pc = memory.ptr(p)
            except FaultError:
                return FuncRef(func=unreadable(p))
            name = hooks.func_name(pc) if hooks is not None else None
            return FuncRef(func=name if name is not None else Raw(f"<func {pc:#x}>"))

        def chan(buf: Any, off: int, depth: int = 0) -> Any:
            p = unpack(buf, off)[0]
            if not p:
                return None
            qcount, dataqsiz = hooks.chan_offsets() if hooks is not None else (0, 8)
            try:
                n: Any = memory.u64(p + qcount)
                c: Any = memory.u64(p + dataqsiz)
            except FaultError:
                n = c = unreadable(p)
            return ChanRef(chan=hex_ptr(p), len=n, cap=c)

        def pointer(buf: Any, off: int, depth: int = 0) -> Any:
            p = unpack(buf, off)[0]
            if not p:
                return None
            elem = t.elem
            if p in path:
                return Ptr(ptr=hex_ptr(p), cycle=True)
            if elem is None or elem.size <= 0 or len(path) >= lim.pointers:
                return hex_ptr(p)
            path.add(p)
            try:
                return Ptr(ptr=hex_ptr(p), value=self._nested_at(elem, p, depth + 1))
            finally:
                path.discard(p)

        return func if kind == dw.FUNC else chan if kind == dw.CHAN else pointer

    def _string_decoder(self) -> Decoder:
        unpack = _Q_Q.unpack_from
        read = self.memory.read
        limit = self.limits.string

        def string(buf: Any, off: int, depth: int = 0) -> Any:
            data, n = unpack(buf, off)
            if n == 0:
                return ""
            if n < 0 or n > MAX_LEN or not data:
                return Raw(f"<bad string {data:#x} len {n}>")
            k = n if n <= limit else limit
            try:
                raw = read(data, k)
            except FaultError:
                return unreadable(data)
            s = raw.decode("utf-8", errors="replace")
            if k < n:
                s += f"…(+{n - k} bytes)"
            return s

        return string

    def _map_decoder(self, t: GoType) -> Decoder:
        unpack = _U64.unpack_from
        memory = self.memory
        count_off = 0  # hmap.count and maps.Map.used both come first; ask DWARF anyway
        header = t.header
        if header is not None and header.fields:
            for name in ("count", "used"):
                f = header.field(name)
                if f is not None:
                    count_off = f.offset
                    break

        def map_(buf: Any, off: int, depth: int = 0) -> MapRef:
            p = unpack(buf, off)[0]
            if not p:
                return MapRef(map=None, count=0)
            try:
                count: Any = memory.i64(p + count_off)
            except FaultError:
                count = unreadable(p + count_off)
            return MapRef(map=hex_ptr(p), count=count)

        return map_

    def _elements(self, elem: GoType) -> Callable[[Any, int, int, int], list[Any]]:
        """A function decoding ``k`` consecutive ``elem`` values from ``buf`` at ``off``."""
        code = _NUMBER_CODES.get(elem.kind)
        if code is not None and code not in "fd":  # floats need their NaN/Inf/float32 care
            return lambda buf, off, k, depth: list(struct.unpack_from(f"<{k}{code}", buf, off))
        if elem.kind == dw.BOOL:
            return lambda buf, off, k, depth: [b != 0 for b in bytes(buf[off : off + k])]
        size = elem.size
        holder: list[Decoder] = []

        def many(buf: Any, off: int, k: int, depth: int) -> list[Any]:
            if not holder:
                holder.append(self.compile(elem))
            fn = holder[0]
            return [fn(buf, off + i * size, depth) for i in range(k)]

        return many

    def _slice_decoder(self, t: GoType) -> Decoder:
        unpack = _Q_QQ.unpack_from
        read = self.memory.read
        lim = self.limits
        state: dict[str, Any] = {}

        def slice_(buf: Any, off: int, depth: int = 0) -> Any:
            data, n, cap = unpack(buf, off)
            if n == 0:
                return []
            if n < 0 or n > cap or n > MAX_LEN or not data:
                return Raw(f"<bad slice {data:#x} len {n} cap {cap}>")
            if depth >= lim.depth:
                return Raw(f"<{t.name} len {n}>")
            if not state:
                elem = t.elem
                if elem is None:
                    return Raw(f"<{t.name} len {n}>")
                state["elem"] = elem
                state["many"] = self._elements(elem)
            elem = state["elem"]
            k = n if n <= lim.elems else lim.elems
            size = elem.size
            try:
                if size == 0:
                    out = state["many"](b"", 0, k, depth + 1)
                elif size * k > BIG_VALUE:
                    out = [self._nested_at(elem, data + i * size, depth + 1) for i in range(k)]
                else:
                    out = state["many"](read(data, size * k), 0, k, depth + 1)
            except FaultError:
                return unreadable(data)
            if k < n:
                out.append(_more(n - k))
            return out

        return slice_

    def _array_decoder(self, t: GoType) -> Decoder:
        lim = self.limits
        n = t.length or 0
        elem = t.elem
        if elem is None:
            bad = Raw(f"<{t.name}>")
            return lambda buf, off, depth=0: bad
        k = min(n, lim.elems)
        many = self._elements(elem)
        more = _more(n - k) if k < n else None

        def array(buf: Any, off: int, depth: int = 0) -> Any:
            if depth >= lim.depth:
                return _depth_placeholder(t)
            out = many(buf, off, k, depth + 1)
            if more is not None:
                out.append(more)
            return out

        return array

    def _struct_decoder(self, t: GoType) -> Decoder:
        lim = self.limits
        fields = [(f.name, f.offset, self.compile(f.type)) for f in (t.fields or ()) if f.name != "_"]

        def struct_(buf: Any, off: int, depth: int = 0) -> Any:
            if depth >= lim.depth:
                return _depth_placeholder(t)
            d = depth + 1
            r = Struct()
            for name, foff, fn in fields:
                r[name] = fn(buf, off + foff, d)
            return r

        return struct_

    def _interface_decoder(self, t: GoType) -> Decoder:
        unpack = _QQ.unpack_from
        empty = t.empty if t.empty is not None else _looks_empty(t)
        lim = self.limits

        def iface(buf: Any, off: int, depth: int = 0) -> Any:
            word, data = unpack(buf, off)
            if not word:
                return None
            if empty:
                type_addr = word
            else:
                try:
                    type_addr = self.memory.ptr(word + self._itab_type_offset())
                except FaultError:
                    return Iface(type=unreadable(word), value=hex_ptr(data))
            dyn, name, direct = self._dynamic_type(type_addr)
            if dyn is not None and lim.pointers and self.hooks is not None:
                r = iface_value(dyn, name, direct, data, depth)
                text = self.hooks.error_text(type_addr, data)
                if text is not None:
                    r["error"] = text
                return r
            return iface_value(dyn, name, direct, data, depth)

        def iface_value(dyn: GoType | None, name: Any, direct: bool, data: int, depth: int) -> Iface:
            if dyn is None:
                return Iface(type=name, value=hex_ptr(data))
            if depth >= lim.depth:
                return Iface(type=name, value=_depth_placeholder(dyn))
            if direct and dyn.size <= dw.PTR_SIZE:
                return Iface(type=name, value=self.compile(dyn)(_U64.pack(data), 0, depth + 1))
            if dyn.size == 0:
                return Iface(type=name, value=self.compile(dyn)(b"", 0, depth + 1))
            if not data:
                return Iface(type=name, value=Raw("<nil data>"))
            return Iface(type=name, value=self._nested_at(dyn, data, depth + 1))

        return iface

    # --- interfaces: dynamic types ---

    @property
    def types_base(self) -> int | None:
        if self._types_base is None and self.dwarf is not None:
            self._types_base = self.dwarf.types_base
        return self._types_base

    def _itab_type_offset(self) -> int:
        if self._itab_type_off is None:
            off = _ITAB_TYPE_DEFAULT
            found = self.hooks.itab_type_offset() if self.hooks is not None else None
            if found is not None:
                off = found
            elif self.dwarf is not None:
                for sname, fname in (("internal/abi.ITab", "Type"), ("runtime.itab", "_type")):
                    st = self.dwarf.type_by_name(sname)
                    f = st.field(fname) if st is not None else None
                    if f is not None:
                        off = f.offset
                        break
            self._itab_type_off = off
        return self._itab_type_off

    def _dynamic_type(self, type_addr: int) -> tuple[GoType | None, Any, bool]:
        """(GoType or None, its name, stored directly in the interface word?)"""
        hit = self._dynamic.get(type_addr)
        if hit is not None:
            return hit
        if self.hooks is not None:
            hit = self.hooks.dynamic_type(type_addr)
            if hit is not None:
                self._dynamic[type_addr] = hit
                return hit
        dyn = None
        if self.dwarf is not None:
            dyn = self.dwarf.type_by_runtime_type(type_addr, self.types_base)
        head = None
        try:
            head = self.memory.read(type_addr, _ABI_TYPE_HEAD)
        except FaultError:
            pass
        name: Any = dyn.name if dyn is not None else None
        if name is None and head is not None:
            name = self._runtime_type_name(head)
        if name is None:
            name = Raw(f"<type {type_addr:#x}>")
        if head is not None:
            direct = bool((head[_ABI_TYPE_TFLAG] | head[_ABI_TYPE_KIND]) & _DIRECT_IFACE_BIT)
        else:
            direct = dyn is not None and _direct_by_shape(dyn)
        hit = (dyn, name, direct)
        self._dynamic[type_addr] = hit
        return hit

    def _runtime_type_name(self, head: bytes) -> str | None:
        """The name the runtime keeps for a type (abi.Type.Str → abi.Name: flags byte,
        uvarint length, bytes), for types DWARF does not describe."""
        base = self.types_base
        if base is None:
            return None
        str_off = struct.unpack_from("<i", head, _ABI_TYPE_STR)[0]
        try:
            raw = self.memory.read(base + str_off, 1 + 10)
            n = 0
            shift = 0
            i = 1
            while True:
                b = raw[i]
                n |= (b & 0x7F) << shift
                i += 1
                if b < 0x80:
                    break
                shift += 7
                if i >= len(raw):
                    return None
            if n <= 0 or n > 4096:
                return None
            name = self.memory.read(base + str_off + i, n).decode("utf-8", errors="replace")
        except FaultError:
            return None
        if head[_ABI_TYPE_TFLAG] & _TFLAG_EXTRA_STAR and name.startswith("*"):
            name = name[1:]
        return name


# --- module-level conveniences ---


def decode(memory: Memory, t: GoType, address: int, dwarf: DwarfInfo | None = None,
           limits: Limits = DEFAULT_LIMITS) -> Any:
    """One value. For many values, keep a ValueDecoder (it caches decoders)."""
    return ValueDecoder(memory, dwarf, limits).decode(t, address)


def decode_from(buf: bytes | memoryview, off: int, t: GoType, memory: Memory,
                dwarf: DwarfInfo | None = None, limits: Limits = DEFAULT_LIMITS) -> Any:
    return ValueDecoder(memory, dwarf, limits).decode_from(buf, off, t)


def target_decoder(target: Target, limits: Limits = DEFAULT_LIMITS) -> ValueDecoder:
    """The target's ValueDecoder for these limits (memoized per stop, like every decoder's
    state, so its compiled closures are shared by everything that decodes)."""
    from godbg.values.hooks import TargetHooks

    dwarf = target.binary.dwarf if target.binary.has_dwarf else None
    return target.memo(f"values.decoder:{limits}",
                       lambda: ValueDecoder(target.memory, dwarf, limits, hooks=TargetHooks(target)))


# Map keys and elems: strings are kept whole up to 64 KiB (a key cut short would be a
# different key); everything else as for any value.
MAP_ENTRY_LIMITS = Limits(string=1 << 16)


def compile_decoder(target: Target, t: GoType, limits: Limits = MAP_ENTRY_LIMITS) -> Decoder:
    """``fn(buf, off) -> value`` for values of ``t`` (the map decoders' per-entry path)."""
    return target_decoder(target, limits).compile(t)


# --- helpers ---


def _number_decoder(kind: str) -> Decoder:
    code = _NUMBER_CODES[kind]
    unpack = struct.Struct("<" + code).unpack_from
    if kind == dw.FLOAT64:

        def f64(buf: Any, off: int, depth: int = 0) -> Any:
            v = unpack(buf, off)[0]
            return v if math.isfinite(v) else Raw(go_float(v))

        return f64
    if kind == dw.FLOAT32:

        def f32(buf: Any, off: int, depth: int = 0) -> Any:
            v = unpack(buf, off)[0]
            return _float32(v) if math.isfinite(v) else Raw(go_float(v))

        return f32
    return lambda buf, off, depth=0: unpack(buf, off)[0]


def _float32(v: float) -> float:
    """The shortest decimal that reads back as the same float32 (Go prints float32 1.1 as
    1.1, not 1.100000023841858)."""
    if not math.isfinite(v):
        return v
    pack = struct.Struct("<f")
    want = pack.pack(v)
    for digits in range(6, 10):
        cand = float(f"{v:.{digits}g}")
        if pack.pack(cand) == want:
            return cand
    return v


def go_float(v: float) -> str:
    """A float the way Go's %v prints it (strconv 'g', shortest): 1, 1.5, 100000, 1e+06,
    1.234567e+06, 1e-05, NaN, +Inf."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "-0" if math.copysign(1, v) < 0 else "0"
    sign, digits, exponent = Decimal(repr(v)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    exp10 = len(digits) + int(exponent) - 1  # position of the first digit
    neg = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:  # Go: %e when exp < -4 || exp >= eprec (6 for shortest)
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{neg}{mant}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if exp10 < 0:
        return f"{neg}0.{'0' * (-exp10 - 1)}{ds}"
    whole, frac = ds[: exp10 + 1], ds[exp10 + 1 :]
    return f"{neg}{whole.ljust(exp10 + 1, '0')}{'.' + frac if frac else ''}"


def _signed(s: str) -> str:
    return s if s.startswith(("-", "+")) else "+" + s


def _more(n: int) -> Raw:
    return Raw(f"…+{n} more")


def _depth_placeholder(t: GoType) -> Raw:
    return Raw(f"<{t.name or t.kind} …>")


def _looks_empty(t: GoType) -> bool:
    first = t.fields[0].name if t.fields else ""
    return first != "tab" and (t.name in ("interface {}", "any") or first == "_type")


def _direct_by_shape(t: GoType) -> bool:
    """Stored directly in an interface word: one word, and that word a pointer (Go 1.26's
    rule, the same as earlier releases' but for contrived structs)."""
    if t.size != dw.PTR_SIZE:
        return False
    if t.kind in dw.POINTER_SHAPED_KINDS:
        return True
    if t.kind == dw.ARRAY:
        return t.length == 1 and t.elem is not None and _direct_by_shape(t.elem)
    if t.kind == dw.STRUCT and t.fields:
        sized = [f for f in t.fields if f.type.size]
        return len(sized) == 1 and sized[0].offset == 0 and _direct_by_shape(sized[0].type)
    return False
