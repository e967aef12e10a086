"""Runtime linked lists (`_panic.link`, `_defer.link`, `m.alllink`), walked bounded and
cycle-safe: corrupt memory can loop a list or make it absurdly long."""

from __future__ import annotations

from godbg.errors import CorruptError
from godbg.program.target import Target


def follow(target: Target, head: int, link_offset: int, what: str, limit: int) -> list[int]:
    """Node addresses from ``head`` along the pointer at ``link_offset``. A cycle ends the
    walk with a warning (the nodes before it are real); more than ``limit`` distinct nodes
    is not a list the runtime could have made."""
    out: list[int] = []
    seen: set[int] = set()
    node = head
    while node:
        if node in seen:
            target.warn(f"{what} loops back to {node:#x}; showing the entries before it")
            break
        if len(out) >= limit:
            raise CorruptError(f"{what} from {head:#x} is longer than {limit}: corrupt")
        seen.add(node)
        out.append(node)
        node = target.memory.ptr(node + link_offset)
    return out
