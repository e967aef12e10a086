"""Text for `chan`."""

from __future__ import annotations

from godbg.render.theme import Theme
from godbg.results.values import Chan
from godbg.values import format_text


def render(chan: Chan, theme: Theme) -> str:
    if chan.address is None:
        return f"{chan.expr}: nil {chan.type or 'channel'}"
    head = (f"{theme.heading(chan.expr)} {chan.type or ''} at {chan.address:#x}: "
            f"len {chan.len}, cap {chan.cap}" + (", " + theme.bad("closed") if chan.closed else ""))
    lines = [head]
    for i, v in enumerate(chan.buffer):
        lines.append(f"  [{i}] {format_text(v)}")
    recv = chan.recv_waiters
    lines.append(f"receivers ({len(recv)}): " + (", ".join(str(g) for g in recv) or "none"))
    send = chan.send_waiters
    lines.append(f"senders ({len(send)}):" + ("" if send else " none"))
    for s in send:
        lines.append(f"  goroutine {s.goroutine} sends {format_text(s.value)}")
    return "\n".join(lines)
