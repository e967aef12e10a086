"""Reading chosen fields of a runtime struct by name, with one struct.unpack_from per
record; a field the release lacks is an UnsupportedError, never a zero."""

from __future__ import annotations

import operator
import struct
from typing import Callable

from godbg.errors import UnsupportedError
from godbg.runtime.layouts import StructLayout


class FieldReader:
    """Decodes the chosen fields of a struct with one ``struct.unpack_from`` per
    instance. A field this release lacks (under its name or its fallback's) is an
    UnsupportedError naming it, never a silent 0."""

    def __init__(self, lay: StructLayout, spec: dict[str, tuple[str, str]], fallbacks: dict[str, str]) -> None:
        present: list[tuple[int, str, str]] = []
        missing: list[str] = []
        for alias, (path, fmt) in spec.items():
            if not lay.has(path) and alias in fallbacks and lay.has(fallbacks[alias]):
                path = fallbacks[alias]
            if lay.has(path):
                present.append((lay.off(path), alias, fmt))
            else:
                missing.append(path)
        if missing:
            raise UnsupportedError(f"{lay.name} has no field {', '.join(map(repr, missing))} in this Go release; "
                                   "godbg cannot read it")
        present.sort()
        fmt = "<"
        pos = 0
        self.names: list[str] = []
        for off, alias, code in present:
            if off < pos:
                continue  # overlapping paths (a struct and its first field): keep the first
            if off > pos:
                fmt += f"{off - pos}x"
            fmt += code
            pos = off + struct.calcsize("<" + code)
            self.names.append(alias)
        self.struct = struct.Struct(fmt)
        self.size = self.struct.size

    def getter(self, names: tuple[str, ...]) -> Callable[[bytes, int], tuple[int, ...]]:
        """A decoder straight to a tuple of ``names`` in that order."""
        index = [self.names.index(n) for n in names]
        pick = operator.itemgetter(*index)
        unpack = self.struct.unpack_from

        def decode(data: bytes, offset: int = 0) -> tuple[int, ...]:
            fields: tuple[int, ...] = pick(unpack(data, offset))
            return fields

        return decode

    def decode(self, data: bytes, offset: int = 0) -> dict[str, int]:
        return dict(zip(self.names, self.struct.unpack_from(data, offset)))
