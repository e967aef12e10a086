"""`print` and `chan`: a Go value with its type, address and where it lives; a channel with
its buffer and waiters. Also the value rules (how deep, how many elements) that `map` and
`bt --full` share with `print`."""

from __future__ import annotations

import re
from typing import Any

from godbg import types
from godbg.errors import BadInputError, FaultError, GodbgError
from godbg.program.dwarf import CHAN, POINTER, GoType
from godbg.program.target import Target
from godbg.results.values import UNKNOWN, Chan, ChanSender, Location, Value
from godbg.runtime.chans import Hchan, read_hchan
from godbg.runtime.g import read_g
from godbg.values.evaluate import Evaluator, LocalResolver, Place, read_value
from godbg.values.location import locate
from godbg.values.model import Limits

DEFAULT_DEPTH = 2
DEFAULT_TEXT_ELEMENTS = 100
DEFAULT_JSON_ELEMENTS = 10_000
# Nesting of composite values below the top (pointers followed count too).
MAX_NESTING = 32
# Bytes of one string shown.
MAX_STRING = 1 << 16
# Funcs named and channels summarised, but no pointer followed (Limits.pointers counts hops
# allowed; a path already holding this many is not extended, and none is this long).
_NO_HOPS = -1
_ADDRESS = re.compile(r"^0[xX][0-9a-fA-F]+$")


def element_limits(json_output: bool, string: int | None = None) -> Limits:
    """print's rules for values inside another answer (map elements, `bt --full`'s
    arguments and locals): pointers followed two deep, funcs named, as many elements as
    print shows in JSON or in text; ``string`` bytes of a string (None: Limits' default)."""
    elems = DEFAULT_JSON_ELEMENTS if json_output else DEFAULT_TEXT_ELEMENTS
    if string is None:
        return Limits(depth=MAX_NESTING, elems=elems, pointers=DEFAULT_DEPTH)
    return Limits(depth=MAX_NESTING, elems=elems, string=string, pointers=DEFAULT_DEPTH)


def print_limits(depth: int = DEFAULT_DEPTH, max_elements: int = DEFAULT_JSON_ELEMENTS) -> Limits:
    """print's value rules: pointers followed ``depth`` deep, ``max_elements`` per slice,
    array or map (0: all)."""
    # pointers=0 would mean "old rules": depth 0 keeps the rich rules but follows nothing.
    return Limits(depth=MAX_NESTING, elems=max_elements or 1 << 62, string=MAX_STRING, pointers=depth or _NO_HOPS)


def value(target: Target, expr: str, *, type_name: str | None = None, goroutine: int | None = None,
          frame: int | None = None, depth: int = DEFAULT_DEPTH, max_elements: int = DEFAULT_JSON_ELEMENTS) -> Value:
    """The value of ``expr``: a global, a local (of frame ``frame`` of ``goroutine``, else of
    the selected frame in gdb or delve), or 0xADDR with ``type_name``."""
    limits = print_limits(depth, max_elements)
    resolver = _locals(target, goroutine, frame)
    result = Evaluator(target, limits, type_name, resolver).run(expr)
    if isinstance(result, Place):
        return Value(expr, result.type.name, result.address, locate(target, result.address, result.symbol),
                     read_value(target, result, limits))
    return Value(expr, result.type_name, None, Location(UNKNOWN), result.value)


def _locals(target: Target, goroutine: int | None, frame: int | None) -> LocalResolver:
    if goroutine is None and frame is None:
        local_resolver = target.local_resolver
        if local_resolver is None:
            return None

        def selected(name: str) -> Any:
            found = local_resolver(name)
            if found is None:
                return None
            t = types.type_by_name(target, found[1])
            return (found[0], t) if t is not None else None

        return selected
    if goroutine is None:
        raise BadInputError("print: --frame needs --goroutine in this mode")
    from godbg.values.frames import frame_locals_resolver

    return frame_locals_resolver(target, goroutine, frame or 0)


def chan(target: Target, expr: str) -> Chan:
    """The channel ``expr`` names: a global, a field path inside one, a local of the selected
    frame (gdb, delve), or 0xADDR (its hchan)."""
    addr, ctype = _chan_address(target, expr)
    if not addr:
        return Chan(expr, ctype.name if ctype else None, None, 0, 0, False, None, (), (), ())
    try:
        ch = read_hchan(target, addr)
    except FaultError as e:
        raise BadInputError(f"{expr}: no channel at {addr:#x} ({e})") from None
    return decoded_chan(target, expr, ctype, ch)


def decoded_chan(target: Target, expr: str, ctype: GoType | None, ch: Hchan) -> Chan:
    """``ch`` with its values decoded; ``ctype``: the channel's type when known."""
    elem = ctype.elem if ctype is not None else None
    if elem is None and target.binary.has_dwarf and ch.elemtype:
        elem = target.binary.dwarf.type_by_runtime_type(ch.elemtype)
    return Chan(
        expr=expr,
        type=ctype.name if ctype is not None else (f"chan {ch.elem_type_name}" if ch.elem_type_name else None),
        address=ch.addr,
        len=ch.qcount,
        cap=ch.dataqsiz,
        closed=ch.closed,
        elem_type=elem.name if elem is not None else ch.elem_type_name,
        buffer=tuple(_element(target, elem, a) for a in ch.slot_addresses()),
        recv_waiters=tuple(_goid(target, s.g) for s in ch.recvq),
        send_waiters=tuple(ChanSender(_goid(target, s.g), _element(target, elem, s.elem)) for s in ch.sendq),
    )


def _element(target: Target, elem: GoType | None, addr: int) -> Any:
    """One channel element as `print` shows values (godbg.values)."""
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


def _chan_address(target: Target, expr: str) -> tuple[int, GoType | None]:
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
