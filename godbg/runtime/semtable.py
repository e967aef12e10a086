"""The semaphore table (runtime/sema.go): ``semtable`` is an array of semaRoots, each a
treap of sudogs keyed by the address of the sema word they wait on (``sudog.elem``),
with the other waiters on the same address chained through ``waitlink``. sync.Mutex,
RWMutex and WaitGroup waiters park here; their sema word lies inside the object."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from godbg.errors import FaultError
from godbg.program.target import Target
from godbg.runtime.layouts import layout
from godbg.runtime.sudog import MAX_WAIT_LIST, follow_sudogs, read_sudog

SEMTABLE = "runtime.semtable"
# runtime/sema.go semTabSize (stable 1.22-1.27); the DWARF constant wins where present.
SEM_TAB_SIZE = 251


@dataclass(frozen=True)
class SemaWaiter:
    g: int  # the waiting g's address
    sema: int  # the address of the sema word
    sudog: int
    ticket: int


def _roots(target: Target) -> list[int]:
    """The treap root of every semaRoot in the table."""
    base = target.symbol_address(SEMTABLE)
    size = target.symbol_size(SEMTABLE) or 0
    count = target.binary.dwarf.constant("runtime.semTabSize") if target.binary.has_dwarf else None
    count = count or SEM_TAB_SIZE
    if size < count * 8:
        return []
    stride = size // count
    treap = layout(target, "runtime.semaRoot").off("treap")
    raw = target.memory.read(base, size)
    return [struct.unpack_from("<Q", raw, i * stride + treap)[0] for i in range(count)]


def sema_waiters(target: Target) -> dict[int, SemaWaiter]:
    """Every goroutine parked in the semaphore table, by its g's address."""

    def compute() -> dict[int, SemaWaiter]:
        out: dict[int, SemaWaiter] = {}
        try:
            roots = _roots(target)
        except FaultError as e:
            target.warn(f"runtime.semtable is unreadable: {e}")
            return out
        seen: set[int] = set()
        for root in roots:
            stack = [root] if root else []
            while stack and len(seen) < MAX_WAIT_LIST:
                node = stack.pop()
                if not node or node in seen:
                    continue
                seen.add(node)
                try:
                    head = read_sudog(target, node)
                    chain = follow_sudogs(target, node, "waitlink")
                except FaultError:
                    target.warn(f"a semaphore treap node at {node:#x} is unreadable")
                    continue
                for s in chain:
                    out.setdefault(s.g, SemaWaiter(s.g, head.elem, s.addr, s.ticket))
                # In the treap, prev and next are the left and right children.
                stack.extend((head.prev, head.next))
        return out

    return target.memo("semtable:waiters", compute)
