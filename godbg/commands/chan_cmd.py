"""`chan EXPR`: a channel decoded — length, capacity, closed, element type, the buffered
values oldest first, the goroutines waiting to receive, and those waiting to send with
the value each sends."""

from __future__ import annotations

import argparse
import re
from typing import Any

from godbg.commands.base import Outcome
from godbg.errors import BadInputError, FaultError, GodbgError
from godbg.program.dwarf import CHAN, POINTER, GoType
from godbg.program.target import Target
from godbg.runtime.chans import Hchan, read_hchan
from godbg.runtime.g import read_g

NAME = "chan"
HELP = ("A channel decoded: len, cap, closed, element type, the buffered values oldest first, the "
        "goroutines waiting to receive and those waiting to send with the value each sends. EXPR is a "
        "Go global (main.jobs), a field path inside one (main.srv.jobs), a local of the selected frame "
        "(gdb, delve), or 0xADDR (the hchan a channel value points to).")
_ADDRESS = re.compile(r"^0[xX][0-9a-fA-F]+$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expr", metavar="EXPR", help="main.jobs, main.srv.jobs, a local variable, or 0xADDR")


def run(target: Target, args: argparse.Namespace) -> Outcome:
    addr, ctype = resolve(target, args.expr)
    if not addr:
        return Outcome(NAME, {"expr": args.expr, "type": ctype.name if ctype else None, "address": None,
                              "len": 0, "cap": 0, "closed": False, "elem_type": None, "buffer": [],
                              "recv_waiters": [], "send_waiters": []})
    try:
        ch = read_hchan(target, addr)
    except FaultError as e:
        raise BadInputError(f"{args.expr}: no channel at {addr:#x} ({e})") from None
    return Outcome(NAME, document(target, args.expr, ctype, ch))


def document(target: Target, expr: str, ctype: GoType | None, ch: Hchan) -> dict[str, Any]:
    elem = ctype.elem if ctype is not None else None
    if elem is None and target.binary.has_dwarf and ch.elemtype:
        elem = target.binary.dwarf.type_by_runtime_type(ch.elemtype)
    return {
        "expr": expr,
        "type": ctype.name if ctype is not None else (f"chan {ch.elem_type_name}" if ch.elem_type_name else None),
        "address": f"{ch.addr:#x}",
        "len": ch.qcount,
        "cap": ch.dataqsiz,
        "closed": ch.closed,
        "elem_type": elem.name if elem is not None else ch.elem_type_name,
        "buffer": [element_value(target, elem, a) for a in ch.slot_addresses()],
        "recv_waiters": [_goid(target, s.g) for s in ch.recvq],
        "send_waiters": [{"goroutine": _goid(target, s.g), "value": element_value(target, elem, s.elem)}
                         for s in ch.sendq],
    }


def element_value(target: Target, elem: GoType | None, addr: int) -> Any:
    """One channel element as `print` shows values (godbg.values); the one place this
    command touches value rendering."""
    if elem is None or not addr:
        return None
    if elem.size == 0:
        return {}
    from godbg.values import target_decoder

    try:
        return target_decoder(target).decode(elem, addr)
    except (FaultError, GodbgError):
        return f"<unreadable {addr:#x}>"


def _goid(target: Target, g: int) -> int | None:
    try:
        return read_g(target, g).goid
    except FaultError:
        return None


def resolve(target: Target, expr: str) -> tuple[int, GoType | None]:
    """(hchan address, the channel's type when known) for EXPR; 0 for a nil channel."""
    if _ADDRESS.match(expr):
        return int(expr, 16), None
    dwarf = target.binary.dwarf
    var_addr, t = None, None
    if target.local_resolver is not None and "." not in expr:
        local = target.local_resolver(expr)
        if local is not None:
            var_addr, t = local[0], dwarf.type_by_name(local[1])
    if var_addr is None:
        var_addr, t = _global_path(target, expr)
    if t is None or t.kind != CHAN:
        raise BadInputError(f"{expr} is {t.name if t is not None else 'of unknown type'}, not a channel")
    return target.memory.ptr(var_addr), t


def _global_path(target: Target, expr: str) -> tuple[int, GoType | None]:
    """A global, or a field path inside one (through pointers): main.srv.jobs."""
    dwarf = target.binary.dwarf
    parts = expr.split(".")
    for cut in range(len(parts), 1, -1):
        var = dwarf.variable(".".join(parts[:cut]))
        if var is None:
            continue
        addr, t = var.address, var.type
        for name in parts[cut:]:
            while t is not None and t.kind == POINTER and t.elem is not None:
                addr, t = target.memory.ptr(addr), t.elem
            f = t.field(name) if t is not None else None
            if f is None:
                raise BadInputError(f"{expr}: {t.name if t else '?'} has no field {name!r}")
            addr, t = addr + f.offset, f.type
        return addr, t
    raise BadInputError(f"no Go global named {expr!r}" + ("" if "." in expr else
                        ": locals need a selected frame (gdb or delve); use main.name or 0xADDR"))


DOC = """
## JSON

```json
{"expr": "main.jobs", "type": "chan string", "address": "0xc000096120", "len": 4, "cap": 4,
 "closed": false, "elem_type": "string", "buffer": ["a", "b", "c", "d"],
 "recv_waiters": [], "send_waiters": [{"goroutine": 14, "value": "e"}]}
```

`buffer` holds the buffered values oldest first (the next receive gets the first), in the value
rules of `print`; `recv_waiters` the goroutines blocked receiving (a select counts), in queue order;
`send_waiters` the goroutines blocked sending, each with the value it sends.
"""
