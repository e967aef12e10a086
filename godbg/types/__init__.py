"""One Go type system with two sources: DWARF where the binary has it, and the runtime's
own type descriptors (``godbg.types.descriptors``) where it does not, or where DWARF does
not describe a type (the dynamic type of an interface value).

    from godbg import types
    t = types.type_by_name(target, "map[string]int")   # GoType, or None
    t = types.type_of_descriptor(target, rtype_addr)   # an eface _type word / itab.Type

``GoType`` is the same class for both sources (kind, name, size, fields with offsets,
elem/key lazily); DWARF names packages by import path (``io/fs.PathError``) where the
runtime names them by package name (``fs.PathError``): a name is looked up in both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from godbg.errors import FaultError, GodbgError
from godbg.program.dwarf import Field, GoType
from godbg.types.descriptors import DescriptorTypes, descriptor_types

if TYPE_CHECKING:
    from godbg.program.target import Target

__all__ = ["DescriptorTypes", "Field", "GoType", "descriptor_types", "type_by_name", "type_of_descriptor"]


def type_by_name(target: Target, name: str) -> GoType | None:
    """The type named ``name``: DWARF first, then the runtime's descriptors."""
    if target.binary.has_dwarf:
        t = target.binary.dwarf.type_by_name(name)
        if t is not None:
            return t
    d = descriptor_types(target)
    if d is None:
        return None
    try:
        return d.by_name(name)
    except (GodbgError, FaultError):
        return None


def type_of_descriptor(target: Target, address: int) -> GoType | None:
    """The type whose runtime descriptor is at ``address``: DWARF's (which has the same
    names as the rest of the program's DWARF) when DWARF describes it, else the
    descriptor's own; None when ``address`` is not a readable descriptor."""
    if not address:
        return None
    if target.binary.has_dwarf:
        dwarf = target.binary.dwarf
        base = _runtime_types_base(target)
        t = dwarf.type_by_runtime_type(address, base)
        if t is not None:
            return t
    d = descriptor_types(target)
    if d is None:
        return None
    try:
        return d.type_at(address)
    except (GodbgError, FaultError):
        return None


def _runtime_types_base(target: Target) -> int | None:
    d = descriptor_types(target)
    if d is not None:
        return d.lo
    return target.binary.dwarf.types_base if target.binary.has_dwarf else None
