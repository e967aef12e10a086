"""`map EXPR [--limit N] [--stats]`: a map's entries and its internal structure."""

from __future__ import annotations

import argparse
import re
from typing import Any

from godbg.commands.base import Outcome, add_jsonl_flag, positive_int, wants_json
from godbg.errors import BadInputError
from godbg.program.dwarf import MAP, GoType
from godbg.program.target import Target
from godbg.render.jsonout import Emitter, Stream
from godbg.runtime import maps, version
from godbg.runtime.maps_common import MapContents
from godbg.values.decode import MAP_ENTRY_LIMITS
from godbg.values.model import Limits

NAME = "map"
HELP = ("A map's entries and its internal structure (classic buckets or swiss tables). EXPR is a Go "
        "global (main.cache), a local of the selected frame (gdb, delve), or 0xADDR --type 'map[K]V' "
        "where ADDR is the map's header (the pointer a map variable holds).")

DOC = """
## JSON Lines

`--jsonl` prints one `[key, value]` a line and nothing else on stdout: each entry exactly as it
appears in the `--json` document's `entries`, in the same order, written a group array (swiss) or a
bucket (classic) at a time as the map is decoded, so that a map of ten million entries needs no more
memory than one of ten. `--limit` applies (default: all); `--stats` needs `--json`; warnings (a
header count that does not match the entries found, say) go to stderr.
"""

DEFAULT_TEXT_LIMIT = 100
_ADDRESS = re.compile(r"^0[xX][0-9a-fA-F]+$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expr", metavar="EXPR", help="main.cache, a local variable, or 0xADDR with --type")
    parser.add_argument("--type", dest="map_type", metavar="'map[K]V'",
                        help="the map's Go type, required with an address")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help=f"at most N entries; 0 means all (default {DEFAULT_TEXT_LIMIT}, all with --json)")
    parser.add_argument("--stats", action="store_true",
                        help="add the internal structure: buckets or tables, load, growth, tombstones")
    add_jsonl_flag(parser, "each entry as [key, value] (in the order --json lists them)")


def run(target: Target, args: argparse.Namespace) -> Outcome:
    address, mtype = resolve(target, args.expr, args.map_type)
    limit = args.limit
    if limit is None:
        limit = 0 if wants_json(args) else DEFAULT_TEXT_LIMIT
    if args.jsonl:
        return _lines(target, args, address, mtype, limit)
    contents = (maps.read_map(target, address, mtype, limit or None, value_limits(wants_json(args)))
                if address else None)
    data = document(args.expr, mtype, version.map_impl(target), contents, args.stats)
    return Outcome(NAME, data)


def _lines(target: Target, args: argparse.Namespace, address: int, mtype: GoType, limit: int) -> Outcome:
    """--jsonl: the entries written a batch (a group array, a bucket) at a time as they
    are decoded, none kept: a ten-million-entry map in bounded memory."""
    if args.stats:
        raise BadInputError("--stats goes with --json (--jsonl prints only the entries)")

    def produce(emit: Emitter) -> None:
        if address:
            maps.read_map(target, address, mtype, limit or None, value_limits(True), on_entries=emit.many)

    return Outcome(NAME, {"expr": args.expr, "entries": Stream(produce)}, lines="entries")


def value_limits(json_output: bool) -> Limits:
    """print's value rules for map elems: pointers followed two deep, funcs named."""
    from godbg.commands.print_cmd import DEFAULT_DEPTH, DEFAULT_JSON_ELEMENTS, DEFAULT_TEXT_ELEMENTS, MAX_NESTING

    return Limits(depth=MAX_NESTING, elems=DEFAULT_JSON_ELEMENTS if json_output else DEFAULT_TEXT_ELEMENTS,
                  string=MAP_ENTRY_LIMITS.string, pointers=DEFAULT_DEPTH)


def document(expr: str, mtype: GoType, impl: str, contents: MapContents | None, stats: bool) -> dict[str, Any]:
    """The contract's JSON; a nil map is an empty one with ``"address": null``."""
    data: dict[str, Any] = {
        "expr": expr,
        "type": mtype.name,
        "impl": impl,
        "address": f"{contents.address:#x}" if contents else None,
        "count": contents.count if contents else 0,
        "entries": contents.entries if contents else [],  # (key, value) tuples: JSON arrays
        "truncated": contents.truncated if contents else False,
    }
    if stats:
        data["stats"] = contents.stats if contents else {"nil": True}
    return data


def resolve(target: Target, expr: str, type_name: str | None) -> tuple[int, GoType]:
    """(header address, map type) for EXPR; a nil map has address 0."""
    if _ADDRESS.match(expr):
        if not type_name:
            raise BadInputError(f"{expr} is an address: say which map it is with --type 'map[K]V'")
        return int(expr, 16), maps.map_type(target, type_name)
    if type_name is not None:
        mtype = maps.map_type(target, type_name)
    else:
        mtype = None
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
