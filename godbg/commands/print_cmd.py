"""`print EXPR`: a Go value — a global, a local of a goroutine's frame, or 0xADDR --type T —
with selectors, map index, len/cap; pointers followed to --depth; where it lives."""

from __future__ import annotations

import argparse

from godbg.answers.values import DEFAULT_DEPTH, DEFAULT_JSON_ELEMENTS, DEFAULT_TEXT_ELEMENTS, value
from godbg.commands.base import Outcome, positive_int
from godbg.program.target import Target

NAME = "print"
HELP = ("A Go value: a global (main.cfg), a local or argument of a goroutine's frame, or 0xADDR --type T; "
        "selectors .field, [i], [\"key\"], *p, len(x), cap(x). Pointers are followed to --depth, "
        "and `location` says where the value lives (global, stack, heap).")


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


def run(target: Target, args: argparse.Namespace) -> Outcome:
    n = args.max_elements
    if n is None:
        n = DEFAULT_JSON_ELEMENTS if args.json else DEFAULT_TEXT_ELEMENTS
    return Outcome(NAME, value(target, args.expr, type_name=args.type_name, goroutine=args.goroutine,
                               frame=args.frame, depth=args.depth, max_elements=n))


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
