"""Text for `goroutines`: one aligned row per goroutine, or with --group one block per
distinct stack, largest first (panicparse-style)."""

from __future__ import annotations

from typing import Any

from godbg.render.frames import frame_lines, paint_function
from godbg.render.table import human_bytes, table
from godbg.render.theme import Theme
from godbg.render.waits import describe_wait

# How many ids a group header lists before "…".
GROUP_IDS_SHOWN = 12
NANOS_PER_MINUTE = 60_000_000_000


def _state(doc: dict[str, Any], theme: Theme) -> str:
    state: str = doc["wait_reason"] or doc["status"]
    if doc["status"].startswith(("running", "syscall")):
        return theme.good(state)
    if doc.get("locked_to_thread"):
        state += ", locked"
    return state


def render(data: dict[str, Any], theme: Theme) -> str:
    if "groups" in data:
        return _groups(data, theme)
    rows = []
    for g in data["goroutines"]:
        st = g["stack"]
        rows.append([
            theme.number(str(g["id"])),
            _state(g, theme),
            "-" if g["m"] is None else str(g["m"]),
            paint_function(g["user_function"] or g["function"], theme),
            theme.location(theme.path(g["location"]) if g["location"] else "-"),
            human_bytes(st["used"]) + "/" + human_bytes(st["size"]) if st["used"] is not None else "-",
            paint_function(g["created_by"], theme) if g["created_by"] else "-",
        ])
    out = table(rows, header=[theme.heading(h) for h in ("ID", "STATE", "M", "FUNCTION", "LOCATION", "STACK",
                                                          "CREATED BY")], right=(0,))
    shown = len(data["goroutines"])
    footer = f"{shown} goroutines" if shown == data["total"] else f"{shown} of {data['total']} goroutines"
    return out + "\n" + theme.location(footer)


def _groups(data: dict[str, Any], theme: Theme) -> str:
    blocks = []
    for grp in data["groups"]:
        ids = grp["ids"]
        shown = ", ".join(str(i) for i in ids[:GROUP_IDS_SHOWN]) + (", …" if len(ids) > GROUP_IDS_SHOWN else "")
        state = grp["wait_reason"] or grp["status"]
        head = f"{theme.number(str(len(ids)))} goroutine{'s' if len(ids) != 1 else ''} [{state}]: {shown}"
        lines = [theme.heading(head) if not theme.enabled else head]
        if grp.get("waiting_on"):
            lines.append("  waiting on " + describe_wait(grp["waiting_on"]))
        if grp.get("labels"):
            lines.append("  labels " + ", ".join(f"{k}={v}" for k, v in sorted(grp["labels"].items())))
        lines += frame_lines(grp["frames"], theme)
        if grp.get("created_by"):
            lines.append(f"  created by {paint_function(grp['created_by'], theme)}")
        blocks.append("\n".join(lines))
    footer = f"{data['total']} goroutines in {data['total_groups']} groups"
    if len(data["groups"]) < data["total_groups"]:
        footer += f" ({len(data['groups'])} shown)"
    return "\n\n".join(blocks + [theme.location(footer)])
