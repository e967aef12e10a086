"""Text for `goroutines`: one aligned row per goroutine, or with --group one block per
distinct stack, largest first (panicparse-style)."""

from __future__ import annotations

from godbg.render.frames import frame_lines, paint_function
from godbg.render.table import human_bytes, table
from godbg.render.theme import Theme
from godbg.render.waits import describe_wait
from godbg.results.goroutines import Goroutine, GoroutineGroups, Goroutines

# How many ids a group header lists before "…".
GROUP_IDS_SHOWN = 12


def _state(g: Goroutine, theme: Theme) -> str:
    state = g.wait_reason or g.status
    if g.status.startswith(("running", "syscall")):
        return theme.good(state)
    if g.locked_to_thread:
        state += ", locked"
    return state


def render(result: Goroutines | GoroutineGroups, theme: Theme) -> str:
    if isinstance(result, GoroutineGroups):
        return _groups(result, theme)
    rows = []
    for g in result:
        st = g.stack
        rows.append([
            theme.number(str(g.id)),
            _state(g, theme),
            "-" if g.m is None else str(g.m),
            paint_function(g.user_function or g.function, theme),
            theme.location(theme.path(g.location) if g.location else "-"),
            human_bytes(st.used) + "/" + human_bytes(st.size) if st.used is not None else "-",
            paint_function(g.created_by, theme) if g.created_by else "-",
        ])
    out = table(rows, header=[theme.heading(h) for h in ("ID", "STATE", "M", "FUNCTION", "LOCATION", "STACK",
                                                          "CREATED BY")], right=(0,))
    shown = len(result)
    footer = f"{shown} goroutines" if shown == result.total else f"{shown} of {result.total} goroutines"
    return out + "\n" + theme.location(footer)


def _groups(result: GoroutineGroups, theme: Theme) -> str:
    blocks = []
    for grp in result:
        ids = grp.ids
        shown = ", ".join(str(i) for i in ids[:GROUP_IDS_SHOWN]) + (", …" if len(ids) > GROUP_IDS_SHOWN else "")
        state = grp.wait_reason or grp.status
        head = f"{theme.number(str(len(ids)))} goroutine{'s' if len(ids) != 1 else ''} [{state}]: {shown}"
        lines = [theme.heading(head) if not theme.enabled else head]
        if grp.waiting_on is not None:
            lines.append("  waiting on " + describe_wait(grp.waiting_on))
        if grp.labels:
            lines.append("  labels " + ", ".join(f"{k}={v}" for k, v in sorted(grp.labels.items())))
        lines += frame_lines(grp.frames, theme)
        if grp.created_by:
            lines.append(f"  created by {paint_function(grp.created_by, theme)}")
        blocks.append("\n".join(lines))
    footer = f"{result.total} goroutines in {result.total_groups} groups"
    if len(result) < result.total_groups:
        footer += f" ({len(result)} shown)"
    return "\n\n".join(blocks + [theme.location(footer)])
