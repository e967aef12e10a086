"""Text for `bt`: Go's traceback layout, function over file:line, with pc and sp."""

from __future__ import annotations

from typing import Any

from godbg.render.frames import frame_lines
from godbg.render.theme import Theme
from godbg.render.waits import describe_wait


def render(data: dict[str, Any], theme: Theme) -> str:
    if data.get("goroutine") is not None:
        state = data.get("wait_reason") or data.get("status") or ""
        head = f"goroutine {data['goroutine']} [{state}]"
        if data.get("m") is not None:
            head += f" on m{data['m']}"
    else:
        head = f"m{data['m']} (thread {data.get('thread')}) system stack"
        if data.get("curg") is not None:
            head += f", running goroutine {data['curg']}"
    frames = data["frames"]
    lines = [theme.heading(head + ":")]
    if data.get("labels"):
        lines.append("labels: " + ", ".join(f"{k}={v}" for k, v in sorted(data["labels"].items())))
    if data.get("waiting_on"):
        lines.append("waiting on: " + describe_wait(data["waiting_on"]))
    elided = data.get("elided", 0)
    if elided:
        half = len(frames) // 2
        lines += frame_lines(frames[:half], theme)
        lines.append(theme.warn(f"  ...{elided} frames elided..."))
        lines += frame_lines(frames[half:], theme)
    else:
        lines += frame_lines(frames, theme)
    if data.get("created_by"):
        where = f" in goroutine {data['parent_goid']}" if data.get("parent_goid") else ""
        lines.append(f"created by {data['created_by']}{where}")
    if not frames:
        lines.append(theme.warn(f"  (no frames: {data.get('stop')})"))
    return "\n".join(lines)
