"""Text for `chan`."""

from __future__ import annotations

from typing import Any

from godbg.render.theme import Theme
from godbg.values import format_text


def render(data: dict[str, Any], theme: Theme) -> str:
    if data["address"] is None:
        return f"{data['expr']}: nil {data['type'] or 'channel'}"
    head = (f"{theme.heading(data['expr'])} {data['type'] or ''} at {data['address']}: "
            f"len {data['len']}, cap {data['cap']}" + (", " + theme.bad("closed") if data["closed"] else ""))
    lines = [head]
    for i, v in enumerate(data["buffer"]):
        lines.append(f"  [{i}] {format_text(v)}")
    recv = data["recv_waiters"]
    lines.append(f"receivers ({len(recv)}): " + (", ".join(str(g) for g in recv) or "none"))
    send = data["send_waiters"]
    lines.append(f"senders ({len(send)}):" + ("" if send else " none"))
    for s in send:
        lines.append(f"  goroutine {s['goroutine']} sends {format_text(s['value'])}")
    return "\n".join(lines)
