"""What decoded Go values are made of.

Plain JSON types (None, bool, int, float, str, list, dict) plus a few subclasses that
serialize exactly like their base (``json.dumps`` sees a str or a dict) but let
``format_text`` print them the Go way:

- ``Raw``: text to print as is, never quoted: pointers (``"0xc000012345"``), placeholders
  (``"<unreadable 0x…>"``), complex numbers, non-finite floats.
- ``Struct``: a struct's fields in declaration order.
- ``Iface``: an interface value, ``{"type": T, "value": V}``.
- ``MapRef``: a map nested in a value, ``{"map": "0x…", "count": N}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Raw(str):
    """A string shown verbatim by format_text (hex pointers, placeholders)."""

    __slots__ = ()


class Struct(dict[str, Any]):
    __slots__ = ()


class Iface(dict[str, Any]):
    __slots__ = ()


class MapRef(dict[str, Any]):
    __slots__ = ()


class Ptr(dict[str, Any]):
    """A pointer followed: ``{"ptr": "0x…", "value": V}`` (or ``"cycle": true``)."""

    __slots__ = ()


class FuncRef(dict[str, Any]):
    """A func value: ``{"func": "main.handler"}``."""

    __slots__ = ()


class ChanRef(dict[str, Any]):
    """A channel summarised: ``{"chan": "0x…", "len": n, "cap": c}``."""

    __slots__ = ()


def hex_ptr(p: int) -> Raw | None:
    """A pointer word as the contract spells it: ``"0x…"``, nil → None."""
    return Raw(f"{p:#x}") if p else None


def unreadable(address: int) -> Raw:
    return Raw(f"<unreadable {address:#x}>")


@dataclass(frozen=True)
class Limits:
    """Bounds on one decoded value.

    depth: nesting of composite values (struct, array, slice, interface) below the top;
    deeper ones become a placeholder. elems: elements listed per slice or array, the rest
    summarised by a trailing ``"…+N more"``. string: bytes read per string."""

    depth: int = 8
    elems: int = 100
    string: int = 1024
    # Pointer hops followed (``print --depth``); 0 keeps pointers as "0x…" words. With
    # hops > 0 funcs are named, channels summarised and error values rendered too.
    pointers: int = 0


DEFAULT_LIMITS = Limits()
