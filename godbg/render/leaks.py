"""Text for `leaks`."""

from __future__ import annotations

from typing import Any

from godbg.render.theme import Theme
from godbg.render.waits import describe_wait


def leak_lines(data: dict[str, Any], theme: Theme) -> list[str]:
    lines = []
    if data["deadlock"]:
        lines.append(theme.bad("deadlock: no goroutine can ever run again"))
    for lk in data["leaked"]:
        on = describe_wait(lk["waiting_on"]) if lk["waiting_on"] else lk["reason"]
        lines.append(f"goroutine {theme.number(str(lk['goroutine']))} leaked: {on}")
    return lines


def render(data: dict[str, Any], theme: Theme) -> str:
    lines = leak_lines(data, theme)
    n = len(data["leaked"])
    lines.append(theme.location(f"{n} leaked goroutine{'s' if n != 1 else ''}"))
    return "\n".join(lines)
