"""`waits` and `leaks`: who waits for whom, and the goroutines that can never run again."""

from __future__ import annotations

from godbg.program.target import Target
from godbg.results.waits import Leaks, Waits
from godbg.runtime.goroutines import all_stacks, iter_live_gs
from godbg.runtime.leaks import find_leaks
from godbg.runtime.waitobjects import wait_objects
from godbg.runtime.waits import streamed_waits


def waits(target: Target, *, min_waiters: int = 1) -> Waits:
    """Every object goroutines block on with at least ``min_waiters`` waiters, most waiters first."""
    # A goroutine at a time (in chunks): nothing is kept per goroutine but its id.
    objects = wait_objects(target, streamed_waits(target, iter_live_gs(target), all_stacks(target)))
    return Waits(tuple(o for o in objects if len(o.waiters) >= min_waiters))


def leaks(target: Target) -> Leaks:
    """The goroutines that can never run again, and whether the program is deadlocked."""
    # The heap scan is the costly part: once per stop (`report` and the API may both ask).
    return target.memo("leaks:report", lambda: find_leaks(target))
