"""`map`: a map's entries and, when asked, its internal structure; or its entries handed
over a batch at a time as they are decoded, for a map of any size in bounded memory."""

from __future__ import annotations

import re
from typing import Callable

from godbg.answers.values import element_limits
from godbg.errors import BadInputError
from godbg.program.dwarf import MAP, GoType
from godbg.program.target import Target
from godbg.results.maps import MapContents, NilMapStats
from godbg.runtime import maps, version
from godbg.runtime.maps_common import OnEntries
from godbg.values.decode import MAP_ENTRY_LIMITS
from godbg.values.model import Limits

_ADDRESS = re.compile(r"^0[xX][0-9a-fA-F]+$")
# Decodes a map, handing its entries to the function it is given a batch at a time.
EntryWalk = Callable[[OnEntries], None]


def value_limits(json_output: bool) -> Limits:
    """print's value rules for map elements (strings cut as map entries' are)."""
    return element_limits(json_output, MAP_ENTRY_LIMITS.string)


def map_contents(target: Target, expr: str, *, map_type: str | None = None, limit: int = 0, stats: bool = False,
                 json_limits: bool = True) -> MapContents:
    """The map ``expr`` names (a global, a local of the selected frame in gdb or delve, or 0xADDR
    with ``map_type``): up to ``limit`` entries (0: all), with its structure when ``stats``.
    ``json_limits``: elems shown under print's --json element limit, else its text one."""
    address, mtype = resolve(target, expr, map_type)
    impl = version.map_impl(target)
    if not address:
        return MapContents(expr, mtype.name, impl, None, 0, (), False, NilMapStats() if stats else None)
    found = maps.read_map(target, address, mtype, limit or None, value_limits(json_limits))
    return MapContents(expr, mtype.name, impl, found.address, found.count, tuple(found.entries), found.truncated,
                       found.stats if stats else None)


def map_entries(target: Target, expr: str, *, map_type: str | None = None,
                limit: int = 0) -> EntryWalk:
    """The map ``expr`` names, found now (a bad EXPR fails here); the function returned decodes
    it, handing up to ``limit`` entries (0: all) to its argument a batch (a group array, a
    bucket) at a time, none kept. Elems under print's --json element limit."""
    address, mtype = resolve(target, expr, map_type)

    def walk(on_entries: OnEntries) -> None:
        if address:
            maps.read_map(target, address, mtype, limit or None, value_limits(True), on_entries=on_entries)

    return walk


def resolve(target: Target, expr: str, type_name: str | None) -> tuple[int, GoType]:
    """(header address, map type) for EXPR; a nil map has address 0."""
    if _ADDRESS.match(expr):
        if not type_name:
            raise BadInputError(f"{expr} is an address: say which map it is with --type 'map[K]V'")
        return int(expr, 16), maps.map_type(target, type_name)
    mtype = maps.map_type(target, type_name) if type_name is not None else None
    var_address, var_type = _variable(target, expr)
    if mtype is None:
        mtype = var_type
    if mtype is None or mtype.kind != MAP:
        what = mtype.name if mtype is not None else "of unknown type"
        raise BadInputError(f"{expr} is {what}, not a map")
    return maps.header_address(target, var_address), mtype


def _variable(target: Target, expr: str) -> tuple[int, GoType | None]:
    dwarf = target.binary.dwarf
    var = dwarf.variable(expr)
    if var is not None:
        return var.address, var.type
    if target.local_resolver is not None:
        local = target.local_resolver(expr)
        if local is not None:
            addr, tname = local
            return addr, dwarf.type_by_name(tname)
        raise BadInputError(f"no Go global or local variable named {expr!r} in the selected frame")
    if "." not in expr:
        raise BadInputError(f"no Go global named {expr!r}: locals need a selected frame (gdb or delve), "
                            "which a core file alone does not have; use the package-qualified name "
                            "(main.cache) or 0xADDR --type 'map[K]V'")
    raise BadInputError(f"no Go global named {expr!r} in {target.binary.path}")
