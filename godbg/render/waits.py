"""Text for `waits`, and the one-line description of what a goroutine waits on that
`bt`, `goroutines` and `report` share."""

from __future__ import annotations

from collections.abc import Sequence

from godbg.render.theme import Theme
from godbg.results.waits import (
    ChanState,
    CondState,
    MutexState,
    RWMutexState,
    SemaphoreState,
    WaitGroupState,
    WaitingOn,
    WaitObject,
    Waits,
    WaitState,
)

# How many waiter ids a line lists before "…".
WAITERS_SHOWN = 10


def describe_wait(w: WaitingOn) -> str:
    """"chan receive on main.jobs (0xc000080060)"."""
    if w.kind == "select":
        chans = ", ".join(f"{c.dir or '?'} {c.object or f'{c.address:#x}'}" for c in w.channels or ())
        return f"select on {chans}" if chans else "select with no cases"
    address = f"{w.address:#x}" if w.address else None
    what = w.object or address
    out = f"{w.kind} on {what}" if what else w.kind
    if w.object and address:
        out += f" ({address})"
    return out


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _mutex(m: MutexState) -> str:
    return f"locked={_bool(m.locked)} woken={_bool(m.woken)} starving={_bool(m.starving)} waiters={m.waiters}"


def state_text(state: WaitState) -> str:
    """"len=0 cap=0 closed=false": the state's fields as its JSON names them."""
    if isinstance(state, ChanState):
        return f"len={state.len} cap={state.cap} closed={_bool(state.closed)}"
    if isinstance(state, MutexState):
        return _mutex(state)
    if isinstance(state, RWMutexState):
        out = f"writer={{{_mutex(state.writer)}}}"
        if state.reader_count is not None:
            out += f" reader_count={state.reader_count}"
        if state.reader_wait is not None:
            out += f" reader_wait={state.reader_wait}"
        return out
    if isinstance(state, WaitGroupState):
        return f"counter={state.counter} waiters={state.waiters}"
    if isinstance(state, CondState):
        return f"waiters={state.waiters}"
    if isinstance(state, SemaphoreState):
        return f"value={state.value}"
    return f"unreadable={state.unreadable}"


def object_lines(objects: Sequence[WaitObject], theme: Theme) -> list[str]:
    lines = []
    for o in objects:
        ids = o.waiters
        shown = ", ".join(str(i) for i in ids[:WAITERS_SHOWN]) + (", …" if len(ids) > WAITERS_SHOWN else "")
        address = f"{o.address:#x}"
        lines.append(f"{theme.number(str(len(ids)))} waiting on {o.kind} {theme.func(o.object or address)} ({address})"
                     f" [{state_text(o.state)}]: {shown}")
    return lines


def render(waits: Waits, theme: Theme) -> str:
    if not waits.objects:
        return "no goroutine waits on a channel, mutex, WaitGroup, Cond or semaphore"
    return "\n".join(object_lines(waits.objects, theme))
