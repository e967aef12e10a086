"""Text for `leaks`."""

from __future__ import annotations

from godbg.render.theme import Theme
from godbg.render.waits import describe_wait
from godbg.results.waits import Leaks


def leak_lines(leaks: Leaks, theme: Theme) -> list[str]:
    lines = []
    if leaks.deadlock:
        lines.append(theme.bad("deadlock: no goroutine can ever run again"))
    for lk in leaks.leaked:
        on = describe_wait(lk.waiting_on) if lk.waiting_on is not None else lk.reason
        lines.append(f"goroutine {theme.number(str(lk.goroutine))} leaked: {on}")
    return lines


def render(leaks: Leaks, theme: Theme) -> str:
    lines = leak_lines(leaks, theme)
    n = len(leaks.leaked)
    lines.append(theme.location(f"{n} leaked goroutine{'s' if n != 1 else ''}"))
    return "\n".join(lines)
