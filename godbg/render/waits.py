"""Text for `waits`, and the one-line description of what a goroutine waits on that
`bt`, `goroutines` and `report` share."""

from __future__ import annotations

from typing import Any

from godbg.render.theme import Theme
from godbg.results.waits import WaitingOn

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


def _state(state: dict[str, Any]) -> str:
    parts = []
    for k, v in state.items():
        if isinstance(v, dict):
            v = "{" + _state(v) + "}"
        parts.append(f"{k}={str(v).lower() if isinstance(v, bool) else v}")
    return " ".join(parts)


def object_lines(objects: list[dict[str, Any]], theme: Theme) -> list[str]:
    lines = []
    for o in objects:
        ids = o["waiters"]
        shown = ", ".join(str(i) for i in ids[:WAITERS_SHOWN]) + (", …" if len(ids) > WAITERS_SHOWN else "")
        name = o["object"] or o["address"]
        lines.append(f"{theme.number(str(len(ids)))} waiting on {o['kind']} {theme.func(name)} ({o['address']})"
                     f" [{_state(o['state'])}]: {shown}")
    return lines


def render(data: dict[str, Any], theme: Theme) -> str:
    if not data["objects"]:
        return "no goroutine waits on a channel, mutex, WaitGroup, Cond or semaphore"
    return "\n".join(object_lines(data["objects"], theme))
