"""Text for `map`: a header line, one `key: value` line per entry (Go-like literals),
what was left out, and with --stats the structure."""

from __future__ import annotations

from typing import Any

from godbg.render.table import table
from godbg.render.theme import Theme
from godbg.values.text import format_text

# Keys and values are cut after this many characters on an entry line.
MAX_VALUE_CHARS = 200


def render(data: dict[str, Any], theme: Theme) -> str:
    count = data["count"]
    header = (f"{theme.heading(data['expr'])}  {data['type']}  "
              f"({data['impl']}, {theme.number(str(count))} {'entry' if count == 1 else 'entries'}"
              f"{', at ' + data['address'] if data.get('address') else ', nil'})")
    lines = [header]
    rows = [(theme.func(format_text(k, MAX_VALUE_CHARS)) + ":", format_text(v, MAX_VALUE_CHARS))
            for k, v in data["entries"]]
    if rows:
        lines.append(table(rows))
    shown = len(data["entries"])
    if data.get("truncated"):
        lines.append(theme.location(f"… {max(count - shown, 0) or 'more'} more not shown (--limit 0 shows all)"))
    stats = data.get("stats")
    if stats:
        lines.append(render_stats(stats, theme))
    return "\n".join(lines)


def render_stats(stats: dict[str, Any], theme: Theme) -> str:
    rows: list[tuple[str, str]] = []
    tables = stats.get("tables")
    for key, value in stats.items():
        if key == "tables":
            continue
        rows.append((theme.location(key), _stat(value)))
    out = [theme.heading("structure"), table(rows)]
    if tables:
        head = ["table", "capacity", "used", "growth_left", "local_depth", "tombstones"]
        trows = [[t.get("address", "?"), *(str(t.get(h, "")) for h in head[1:])] for t in tables]
        out.append(table(trows, header=head, right=(1, 2, 3, 4, 5)))
    return "\n".join(out)


def _stat(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
    return str(value)
