"""Evaluate a ``print`` expression (``godbg.values.expr``) against a Target.

A step works on a *place* (an address and a type: globals, fields, elements, what a
pointer points to) as long as there is one; a map index yields a decoded value without an
address, and the selectors after it walk that decoded value (fields, elements, followed
pointers). Nothing runs in the inferior; every length and index is checked."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from godbg import types
from godbg.errors import BadInputError, FaultError
from godbg.program import dwarf as dw
from godbg.program.dwarf import GoType
from godbg.values import expr as ex
from godbg.values.decode import MAX_LEN, target_decoder
from godbg.values.model import Limits, Ptr

if TYPE_CHECKING:
    from godbg.program.target import Target

_ADDR_WORDS = struct.Struct("<Qqq")  # slice: data, len, cap (a string: data, len)
_INT = GoType(dw.INT, "int", dw.PTR_SIZE)

# Resolves a local name to (address, type) for the frame in context, or None.
LocalResolver = Any


@dataclass(frozen=True)
class Place:
    address: int
    type: GoType
    symbol: str | None = None  # the global the expression started from


@dataclass(frozen=True)
class Computed:
    """A value without an address (a map element, len())."""

    type_name: str
    value: Any


Result = Union[Place, Computed]


class Evaluator:
    def __init__(self, target: Target, limits: Limits, type_name: str | None = None,
                 locals_: LocalResolver = None) -> None:
        self.target = target
        self.limits = limits
        self.type_name = type_name
        self.locals = locals_

    def run(self, text: str) -> Result:
        return self.eval(ex.parse(text))

    def eval(self, node: ex.Node) -> Result:
        if isinstance(node, ex.Root):
            return self.root(node.text)
        if isinstance(node, ex.Field):
            return self.field(self.eval(node.of), node.name)
        if isinstance(node, ex.Index):
            return self.index(self.eval(node.of), node.key, node.quoted)
        if isinstance(node, ex.Deref):
            return self.deref(self.eval(node.of))
        return self.builtin(node.name, self.eval(node.of))

    # --- roots ---

    def root(self, text: str) -> Result:
        if text[:2].lower() == "0x":
            if not self.type_name:
                raise BadInputError(f"print: {text} is an address: say what is there with --type T")
            t = types.type_by_name(self.target, self.type_name)
            if t is None:
                raise BadInputError(f"print: no type {self.type_name!r} in the binary (DWARF or type descriptors)")
            return Place(int(text, 16), t)
        parts = text.split(".")
        for n in range(len(parts), 0, -1):
            name = ".".join(parts[:n])
            found = self._variable(name)
            if found is not None:
                r: Result = found
                for f in parts[n:]:
                    r = self.field(r, f)
                return r
        if self.type_name and self.locals is None:
            raise BadInputError(f"print: --type goes with 0xADDR, not with {text!r}")
        raise BadInputError(f"print: no Go global or local variable named {parts[0] if len(parts) == 1 else text!r}")

    def _variable(self, name: str) -> Place | None:
        if self.locals is not None:
            found = self.locals(name)
            if found is not None:
                return Place(found[0], found[1])
        if self.target.binary.has_dwarf:
            var = self.target.binary.dwarf.variable(name)
            if var is not None and var.type is not None:
                return Place(var.address, var.type, symbol=name)
        return None

    # --- selectors ---

    def _auto_deref(self, r: Place) -> Place:
        """Go's selectors see through one pointer: p.f is (*p).f."""
        if r.type.kind == dw.POINTER and r.type.elem is not None:
            p = self.target.memory.ptr(r.address)
            if not p:
                raise BadInputError(f"print: nil pointer ({r.type.name}) dereferenced")
            return Place(p, r.type.elem)
        return r

    def field(self, r: Result, name: str) -> Result:
        if isinstance(r, Computed):
            return Computed("?", _json_field(r.value, name))
        r = self._auto_deref(r)
        f = r.type.field(name) if r.type.kind == dw.STRUCT else None
        if f is None:
            raise BadInputError(f"print: {r.type.name} has no field {name!r}")
        return Place(r.address + f.offset, f.type)

    def deref(self, r: Result) -> Result:
        if isinstance(r, Computed):
            v = r.value
            if isinstance(v, Ptr) and "value" in v:
                return Computed("?", v["value"])
            raise BadInputError("print: cannot dereference that value")
        if r.type.kind != dw.POINTER or r.type.elem is None:
            raise BadInputError(f"print: {r.type.name} is not a pointer")
        p = self.target.memory.ptr(r.address)
        if not p:
            raise BadInputError(f"print: nil pointer ({r.type.name}) dereferenced")
        return Place(p, r.type.elem)

    def index(self, r: Result, key: ex.Key, quoted: bool) -> Result:
        if isinstance(r, Computed):
            return Computed("?", _json_index(r.value, key))
        if r.type.kind == dw.POINTER and r.type.elem is not None and r.type.elem.kind == dw.ARRAY:
            r = self._auto_deref(r)
        t = r.type
        if t.kind == dw.MAP:
            return self._map_index(r, key)
        if quoted or not isinstance(key, int) or isinstance(key, bool):
            raise BadInputError(f"print: {t.name} takes an integer index, not {key!r}")
        mem = self.target.memory
        if t.kind == dw.ARRAY and t.elem is not None:
            n, base, elem = t.length or 0, r.address, t.elem
        elif t.kind == dw.SLICE and t.elem is not None:
            base, n, _cap = _ADDR_WORDS.unpack(mem.read(r.address, 24))
            elem = t.elem
        elif t.kind == dw.STRING:
            base, n = struct.unpack("<Qq", mem.read(r.address, 16))
            elem = GoType(dw.UINT8, "uint8", 1)
        else:
            raise BadInputError(f"print: cannot index {t.name}")
        if n < 0 or n > MAX_LEN:
            raise BadInputError(f"print: {t.name} has a corrupt length {n}")
        if not 0 <= key < n:
            raise BadInputError(f"print: index {key} out of range [0:{n}]")
        return Place(base + key * elem.size, elem)

    def _map_index(self, r: Place, key: ex.Key) -> Result:
        from godbg.runtime import maps

        header = self.target.memory.ptr(r.address)
        t = r.type
        if not header:
            elem = t.elem
            zero = self._zero(elem) if elem is not None else None
            return Computed(elem.name if elem is not None else "?", zero)
        contents = maps.read_map(self.target, header, t, None, self.limits)
        for k, v in contents.entries:
            if _same_key(k, key):
                return Computed(t.elem.name if t.elem is not None else "?", v)
        raise BadInputError(f"print: key {key!r} is not in the map ({contents.count} entries)")

    def _zero(self, t: GoType) -> Any:
        return target_decoder(self.target, self.limits).decode_from(bytes(t.size), 0, t) if t.size else None

    def builtin(self, name: str, r: Result) -> Result:
        if isinstance(r, Computed):
            v = r.value
            if isinstance(v, (list, str)) and name == "len":
                return Computed("int", len(v))
            raise BadInputError(f"print: {name}() of that value is not known")
        t = r.type
        mem = self.target.memory
        if t.kind == dw.POINTER and t.elem is not None and t.elem.kind == dw.ARRAY:
            t = t.elem
        if t.kind == dw.ARRAY:
            return Computed("int", t.length or 0)
        if t.kind == dw.SLICE:
            _p, n, c = _ADDR_WORDS.unpack(mem.read(r.address, 24))
            return Computed("int", n if name == "len" else c)
        if t.kind == dw.STRING and name == "len":
            return Computed("int", struct.unpack("<Qq", mem.read(r.address, 16))[1])
        if t.kind in (dw.MAP, dw.CHAN):
            p = mem.ptr(r.address)
            if not p:
                return Computed("int", 0)
            if t.kind == dw.MAP:
                if name != "len":
                    raise BadInputError("print: cap() of a map is not defined")
                return Computed("int", mem.i64(p))  # hmap.count and maps.Map.used come first
            from godbg.values.hooks import TargetHooks

            qcount, dataqsiz = TargetHooks(self.target).chan_offsets()
            return Computed("int", mem.u64(p + (qcount if name == "len" else dataqsiz)))
        raise BadInputError(f"print: {name}() of {t.name} is not defined")


def _same_key(k: Any, key: ex.Key) -> bool:
    if isinstance(key, bool) or isinstance(k, bool):
        return isinstance(key, bool) and isinstance(k, bool) and k == key
    if isinstance(key, str):
        return isinstance(k, str) and k == key
    return isinstance(k, (int, float)) and not isinstance(k, bool) and k == key


def _json_field(v: Any, name: str) -> Any:
    if isinstance(v, Ptr):
        v = v.get("value")
    if isinstance(v, dict) and name in v:
        return v[name]
    raise BadInputError(f"print: no field {name!r} in that value")


def _json_index(v: Any, key: ex.Key) -> Any:
    if isinstance(v, Ptr):
        v = v.get("value")
    if isinstance(v, list) and isinstance(key, int) and 0 <= key < len(v):
        return v[key]
    raise BadInputError(f"print: no element {key!r} in that value")


def read_value(target: Target, place: Place, limits: Limits) -> Any:
    """The value at ``place`` under ``limits``; a fault reading it is one line."""
    try:
        return target_decoder(target, limits).decode(place.type, place.address)
    except FaultError as e:
        raise BadInputError(f"print: cannot read {place.type.name} at {place.address:#x}: {e}") from None
