"""`print EXPR`: a Go value — a global, a local of a goroutine's frame, or 0xADDR --type T —
with selectors, map index, len/cap; pointers followed to --depth; where it lives."""

from __future__ import annotations

import argparse
from typing import Any

from godbg.commands.base import Outcome, positive_int
from godbg.errors import BadInputError
from godbg.program.target import Target
from godbg.values.evaluate import Evaluator, Place, read_value
from godbg.values.location import Location, locate
from godbg.values.model import Limits

NAME = "print"
HELP = ("A Go value: a global (main.cfg), a local or argument of a goroutine's frame, or 0xADDR --type T; "
        "selectors .field, [i], [\"key\"], *p, len(x), cap(x). Pointers are followed to --depth, "
        "and `location` says where the value lives (global, stack, heap).")

DEFAULT_DEPTH = 2
DEFAULT_TEXT_ELEMENTS = 100
DEFAULT_JSON_ELEMENTS = 10_000
# Nesting of composite values below the top (pointers followed count too).
MAX_NESTING = 32
# Bytes of one string shown.
MAX_STRING = 1 << 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expr", metavar="EXPR", help="main.cfg.Owner, m[\"k\"], len(main.items), 0xADDR with --type")
    parser.add_argument("--type", dest="type_name", metavar="T", help="the Go type at 0xADDR")
    parser.add_argument("--goroutine", type=positive_int, metavar="G",
                        help="look locals up in this goroutine (gdb, delve: the selected one)")
    parser.add_argument("--frame", type=positive_int, metavar="K", default=None,
                        help="frame K of that goroutine, 0 innermost (default 0)")
    parser.add_argument("--depth", type=positive_int, default=DEFAULT_DEPTH, metavar="N",
                        help=f"follow pointers N deep (default {DEFAULT_DEPTH}); 0 prints them as addresses")
    parser.add_argument("--max-elements", type=positive_int, default=None, metavar="N",
                        help=f"elements shown per slice, array or map; 0 means all (default {DEFAULT_TEXT_ELEMENTS}, "
                             f"{DEFAULT_JSON_ELEMENTS} with --json)")


def limits_for(args: argparse.Namespace) -> Limits:
    n = args.max_elements
    if n is None:
        n = DEFAULT_JSON_ELEMENTS if args.json else DEFAULT_TEXT_ELEMENTS
    if n == 0:
        n = 1 << 62
    # pointers=0 would mean "old rules": --depth 0 keeps the rich rules but follows nothing.
    return Limits(depth=MAX_NESTING, elems=n, string=MAX_STRING, pointers=args.depth or _NO_HOPS)


# Funcs named and channels summarised, but no pointer followed (Limits.pointers counts hops
# allowed; a path already holding this many is not extended, and none is this long).
_NO_HOPS = -1


def run(target: Target, args: argparse.Namespace) -> Outcome:
    limits = limits_for(args)
    resolver = _locals(target, args)
    ev = Evaluator(target, limits, args.type_name, resolver)
    result = ev.run(args.expr)
    data: dict[str, Any] = {"expr": args.expr}
    if isinstance(result, Place):
        data["type"] = result.type.name
        data["address"] = f"{result.address:#x}"
        data["location"] = locate(target, result.address, result.symbol).to_json()
        data["value"] = read_value(target, result, limits)
    else:
        data["type"] = result.type_name
        data["address"] = None
        data["location"] = Location("unknown").to_json()
        data["value"] = result.value
    return Outcome(NAME, data)


def _locals(target: Target, args: argparse.Namespace) -> Any:
    if args.goroutine is None and args.frame is None:
        if target.local_resolver is None:
            return None
        from godbg import types

        def selected(name: str) -> Any:
            assert target.local_resolver is not None
            found = target.local_resolver(name)
            if found is None:
                return None
            t = types.type_by_name(target, found[1])
            return (found[0], t) if t is not None else None

        return selected
    if args.goroutine is None:
        raise BadInputError("print: --frame needs --goroutine in this mode")
    from godbg.values.frames import frame_locals_resolver

    return frame_locals_resolver(target, args.goroutine, args.frame or 0)


DOC = """
## JSON

```json
{"expr": "main.cfg.Owner", "type": "*main.Item", "address": "0x5a3f10",
 "location": {"kind": "global", "symbol": "main.cfg"},
 "value": {"ptr": "0xc000012340", "value": {"Name": "owner", "Next": null}}}
```

- Values follow the contract's JSON rules, plus: a pointer followed within `--depth` is
  `{"ptr": "0x…", "value": V}` (a pointer back to one being followed: `{"ptr": "0x…", "cycle": true}`;
  beyond the depth, or nil: `"0x…"` / null); a func value is `{"func": "main.handler"}`; a channel
  `{"chan": "0x…", "len": n, "cap": c}`; an interface holding an error godbg can render without
  running code also carries `"error": "text"`.
- `location.kind`: `global` (with `symbol`), `stack` (with `goroutine` and `frame`), `heap`
  (with `object`, the start of the heap object that holds it, and its span's `elemsize`),
  `unknown`. A map element or `len()` has no address: `"address": null`.
"""
