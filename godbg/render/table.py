"""Aligned columns for people. Width is measured on the plain text so colour codes
do not break alignment."""

from __future__ import annotations

import re
from collections.abc import Sequence

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


def table(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None, right: Sequence[int] = ()) -> str:
    """Columns separated by two spaces; columns listed in ``right`` are right-aligned."""
    all_rows = ([list(header)] if header else []) + [list(r) for r in rows]
    if not all_rows:
        return ""
    ncols = max(len(r) for r in all_rows)
    widths = [0] * ncols
    for r in all_rows:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], visible_len(cell))
    lines = []
    for r in all_rows:
        cells = []
        for i, cell in enumerate(r):
            pad = widths[i] - visible_len(cell)
            last = i == len(r) - 1
            if i in right:
                cells.append(" " * pad + cell)
            else:
                cells.append(cell if last else cell + " " * pad)
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            text = f"{value:.1f}".rstrip("0").rstrip(".")
            return f"{sign}{text} {unit}"
    return f"{sign}{n} B"
