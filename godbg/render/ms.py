"""Text for `ms`: one row per M with its thread, goroutine and stack use."""

from __future__ import annotations

from collections.abc import Iterable

from godbg.render.table import human_bytes, table
from godbg.render.theme import Theme
from godbg.results.ms import M
from godbg.results.stacks import StackFigures


def _use(st: StackFigures) -> str:
    if st.used is None:
        return f"-/{human_bytes(st.size)}"
    return f"{human_bytes(st.used)}/{human_bytes(st.size)}"


def render(ms: Iterable[M], theme: Theme) -> str:
    rows = []
    for m in ms:
        notes = []
        if m.crashing:
            notes.append(theme.bad("crashing"))
        if m.in_signal_handler:
            notes.append("in signal handler")
        rows.append([
            theme.number(str(m.id)),
            str(m.thread) if m.thread is not None else "-",
            str(m.curg) if m.curg is not None else "-",
            _use(m.g0),
            f"{m.g0.sp:#x}" if m.g0.sp is not None else "-",
            human_bytes(m.g0.guard_headroom) if m.g0.guard_headroom is not None else "-",
            _use(m.gsignal),
            ", ".join(notes),
        ])
    header = ("M", "THREAD", "CURG", "G0 USED", "G0 SP", "G0 HEADROOM", "GSIGNAL USED", "")
    return table(rows, header=[theme.heading(h) for h in header], right=(0, 1, 2))
