"""The runtime's goroutine and M lists: `runtime.allgs` (a []*g) and `runtime.allm`
(linked through m.alllink). Bulk reads, bounded walks."""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Sequence

from godbg.errors import CorruptError
from godbg.program.target import Target
from godbg.runtime.layouts import layout
from godbg.runtime.linked import follow

# Sanity bounds: beyond these the list is corrupt, not big.
MAX_GOROUTINES = 50_000_000
MAX_MS = 1_000_000


def allgs(target: Target) -> Sequence[int]:
    """Addresses of every g the runtime knows, dead ones included, in allgs order (an
    array of 8-byte words: a million goroutines' list stays 8 MB)."""

    def compute() -> Sequence[int]:
        base = target.symbol_address("runtime.allgs")
        data, length, cap = struct.unpack("<QQQ", target.memory.read(base, 24))
        if length > cap or length > MAX_GOROUTINES:
            raise CorruptError(f"runtime.allgs has an implausible length {length} (cap {cap})")
        if length == 0:
            return array("Q")
        out = array("Q", target.memory.read(data, 8 * length))
        if sys.byteorder != "little":
            out.byteswap()
        return out

    return target.memo("allgs", compute)


def allm(target: Target) -> list[int]:
    """Addresses of every M, newest first (the order of runtime.allm)."""

    def compute() -> list[int]:
        head = target.memory.ptr(target.symbol_address("runtime.allm"))
        return follow(target, head, layout(target, "runtime.m").off("alllink"), "runtime.allm", MAX_MS)

    return target.memo("allm", compute)
