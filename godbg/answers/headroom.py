"""`headroom`: how far each goroutine's stack is from a fatal stack overflow."""

from __future__ import annotations

from dataclasses import replace

from godbg.program.target import Target
from godbg.results.headroom import Headroom
from godbg.runtime.headroom import Rows
from godbg.runtime.headroom import headroom as read_headroom


def headroom(target: Target, top: int | None = None, check: int | None = None) -> Headroom:
    """Every goroutine, closest to the limit first (only the ``top`` closest when given);
    with ``check`` (bytes), ``.check`` lists those whose limit_headroom is below it."""
    answer, goroutines = headroom_listing(target, top, check)
    return replace(answer, goroutines=tuple(goroutines))


def headroom_listing(target: Target, top: int | None = None, check: int | None = None) -> tuple[Headroom, Rows]:
    """headroom() with its goroutines apart, as Rows: each GoroutineHeadroom is made as it
    is iterated, so a listing of a million goroutines never holds a million of them."""
    return read_headroom(target, top=top, below=check)
