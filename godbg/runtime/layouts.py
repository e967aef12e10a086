"""Struct layouts of runtime types: field offsets by dotted path, found from DWARF by
name. Decoders ask ``layout(target, "runtime.g").off("sched.sp")`` and never hard-code
an offset; binaries without DWARF get built-in per-release tables (layouts_builtin)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from godbg.errors import UnsupportedError
from godbg.program.target import Target

if TYPE_CHECKING:
    from godbg.program.dwarf import GoType

# How deep nested struct fields are flattened into dotted paths ("sched.sp",
# "atomicstatus.value", "groups.data").
_FLATTEN_DEPTH = 3


@dataclass(frozen=True)
class StructLayout:
    name: str
    size: int
    offsets: dict[str, int]
    sizes: dict[str, int]

    def off(self, path: str) -> int:
        try:
            return self.offsets[path]
        except KeyError:
            raise UnsupportedError(f"{self.name} has no field {path!r} in this Go release") from None

    def has(self, path: str) -> bool:
        return path in self.offsets

    def size_of(self, path: str) -> int:
        return self.sizes[path]


def layout(target: Target, name: str) -> StructLayout:
    """The layout of runtime struct ``name`` (e.g. "runtime.g"), cached per target."""
    key = f"layout:{name}"
    found = target.cache.get(key)
    if found is None:
        found = _load(target, name)
        # Cheap to rebuild after a stop: the DWARF index behind it lives on the binary.
        target.cache[key] = found
    return found


def has_layout(target: Target, name: str) -> bool:
    """Whether the runtime of this target has struct ``name`` (probe before branching)."""
    try:
        layout(target, name)
    except UnsupportedError:
        return False
    return True


def _load(target: Target, name: str) -> StructLayout:
    if target.binary.has_dwarf:
        t = target.binary.dwarf.type_by_name(name)
        if t is not None and getattr(t, "fields", None) is not None:
            offsets: dict[str, int] = {}
            sizes: dict[str, int] = {}
            _flatten(t, "", 0, offsets, sizes, _FLATTEN_DEPTH)
            return StructLayout(name, t.size, offsets, sizes)
    from godbg.runtime.layouts_builtin import builtin_layout

    found = builtin_layout(target, name)
    if found is None:
        raise UnsupportedError(f"no layout for {name}: the binary has no DWARF for it and godbg has no "
                               f"built-in layout for {target.binary.buildinfo.go_version}")
    return found


def _flatten(t: GoType, prefix: str, base: int, offsets: dict[str, int], sizes: dict[str, int], depth: int) -> None:
    for f in t.fields or ():
        path = prefix + f.name
        offsets[path] = base + f.offset
        sizes[path] = f.type.size if f.type is not None else 0
        ft = f.type
        if depth > 1 and ft is not None and getattr(ft, "fields", None):
            _flatten(ft, path + ".", base + f.offset, offsets, sizes, depth - 1)
