"""`print m` for any `map[K]V` in gdb, built on godbg's map decoder: one bulk read per
bucket array or group array instead of runtime-gdb.py's one gdb value access per field,
swiss maps included (runtime-gdb.py's printer knows only the classic layout).

Registered first in every objfile's printer list, so it wins over runtime-gdb.py's when
both are loaded (gdb asks objfile printers in list order)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import gdb

from godbg.answers.maps import value_limits
from godbg.backends.gdb.commands import run_guarded
from godbg.backends.gdb.gdbtarget import SESSION
from godbg.errors import GodbgError
from godbg.program.dwarf import POINTER
from godbg.runtime import maps
from godbg.runtime.maps_common import DecodedMap
from godbg.values.model import Ptr
from godbg.values.text import format_text

NAME = "godbg-map"
# gdb prints at most `print elements` children; decode a little more than that.
DEFAULT_ELEMENTS = 200


def _limit() -> int | None:
    try:
        n = gdb.parameter("print elements")
    except (gdb.error, RuntimeError):
        return DEFAULT_ELEMENTS
    return None if n in (None, 0) else int(n)


def _child(value: Any) -> Any:
    """A child gdb can print: numbers and strings as they are, the rest as Go-like text."""
    if isinstance(value, bool) or value is None:
        return "nil" if value is None else ("true" if value else "false")
    if isinstance(value, str):
        # Quoted text, like Go's %q: a gdb.Value made from a str would be a char array,
        # which gdb (and runtime-gdb.py's printers) may try to copy into the inferior.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return value
    return format_text(value)  # printed as is: Go-like text of a struct, array, pointer …


def _pointed_to(value: Any, pointee: Any) -> Any:
    """A followed pointer elem as the struct it points to, printed by gdb itself
    (``{Name = "a", …}``), instead of a quoted string."""
    if pointee is None or not isinstance(value, Ptr) or "value" not in value:
        return None
    try:
        return gdb.Value(int(value["ptr"], 16)).cast(pointee.pointer()).dereference()
    except (gdb.error, RuntimeError, ValueError):
        return None


class MapPrinter:
    def __init__(self, val: gdb.Value) -> None:
        self.val = val
        self.type_name = str(val.type)
        self.contents: DecodedMap | None = None
        self.address = int(val)

    def _decode(self) -> DecodedMap | None:
        if self.contents is None and self.address:
            target = SESSION.target()
            mtype = maps.map_type(target, self.type_name)
            limits = value_limits(json_output=False)
            self.contents = run_guarded(lambda: maps.read_map(target, self.address, mtype, _limit(), limits))
        return self.contents

    def to_string(self) -> str:
        if not self.address:
            return f"{self.type_name} nil"
        c = self._decode()
        if c is None:
            return f"{self.type_name} nil"
        more = f", showing {len(c.entries)}" if c.truncated else ""
        return f"{self.type_name} with {c.count} entries ({c.impl}{more})"

    def children(self) -> Iterator[tuple[str, Any]]:
        c = self._decode() if self.address else None
        if c is None:
            return
        pointee = self._pointee_type()
        for i, (k, v) in enumerate(c.entries):
            yield f"[{2 * i}]", _child(k)
            yield f"[{2 * i + 1}]", _pointed_to(v, pointee) or _child(v)

    def _pointee_type(self) -> Any:
        """The gdb type a pointer elem points to (map[int]*Item: Item), or None."""
        try:
            mtype = maps.map_type(SESSION.target(), self.type_name)
            elem = mtype.elem
            if elem is None or elem.kind != POINTER or elem.elem is None:
                return None
            return gdb.lookup_type(elem.elem.name)
        except (gdb.error, RuntimeError, GodbgError):
            return None

    def display_hint(self) -> str:
        return "map"


def lookup(val: gdb.Value) -> MapPrinter | None:
    try:
        name = val.type.name or str(val.type)
    except (gdb.error, RuntimeError):
        return None
    if not name or not name.startswith("map["):
        return None
    if val.type.strip_typedefs().code != gdb.TYPE_CODE_PTR:
        return None
    return MapPrinter(val)


lookup.name = NAME  # type: ignore[attr-defined]
lookup.enabled = True  # type: ignore[attr-defined]


def _install(objfile: gdb.Objfile) -> None:
    printers = objfile.pretty_printers
    printers[:] = [p for p in printers if getattr(p, "name", None) != NAME]
    printers.insert(0, lookup)


def _on_new_objfile(event: Any) -> None:
    _install(event.new_objfile)


def register() -> None:
    for objfile in gdb.objfiles():
        _install(objfile)
    gdb.events.new_objfile.connect(_on_new_objfile)
