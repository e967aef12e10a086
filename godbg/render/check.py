"""`check` for people: one finding a line, then one line that sums up."""

from __future__ import annotations

from typing import Any

from godbg.render.theme import Theme


def render(data: dict[str, Any], theme: Theme) -> str:
    lines = [f"{f['rule']}: {f['message']}" for f in data["findings"]]
    rules = data.get("rules", [])
    failed = [r["rule"] for r in rules if not r["passed"]]
    if failed:
        lines.append(theme.bad(f"check failed: {', '.join(failed)} ({len(data['findings'])} findings)"))
    else:
        lines.append(theme.good(f"check passed: {', '.join(r['rule'] for r in rules)}"))
    return "\n".join(lines)
