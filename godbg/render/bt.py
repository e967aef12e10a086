"""Text for `bt`: Go's traceback layout, function over file:line, with pc and sp."""

from __future__ import annotations

from godbg.render.frames import frame_lines
from godbg.render.theme import Theme
from godbg.render.waits import describe_wait
from godbg.results.bt import Backtrace


def render(bt: Backtrace, theme: Theme) -> str:
    if bt.goroutine is not None:
        state = bt.wait_reason or bt.status or ""
        head = f"goroutine {bt.goroutine} [{state}]"
        if bt.m is not None:
            head += f" on m{bt.m}"
    else:
        head = f"m{bt.m} (thread {bt.thread}) system stack"
        if bt.curg is not None:
            head += f", running goroutine {bt.curg}"
    frames = bt.frames
    lines = [theme.heading(head + ":")]
    if bt.labels:
        lines.append("labels: " + ", ".join(f"{k}={v}" for k, v in sorted(bt.labels.items())))
    if bt.waiting_on is not None:
        lines.append("waiting on: " + describe_wait(bt.waiting_on))
    if bt.elided:
        half = len(frames) // 2
        lines += frame_lines(frames[:half], theme)
        lines.append(theme.warn(f"  ...{bt.elided} frames elided..."))
        lines += frame_lines(frames[half:], theme)
    else:
        lines += frame_lines(frames, theme)
    if bt.created_by:
        where = f" in goroutine {bt.parent_goid}" if bt.parent_goid else ""
        lines.append(f"created by {bt.created_by}{where}")
    if not frames:
        lines.append(theme.warn(f"  (no frames: {bt.stop})"))
    return "\n".join(lines)
