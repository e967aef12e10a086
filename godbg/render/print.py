"""Text for `print`: the expression, its type and where it lives, then the value the way
Go would write it."""

from __future__ import annotations

from typing import Any

from godbg.render.theme import Theme
from godbg.values.text import format_text

# A value's text is cut after this many characters.
MAX_VALUE_CHARS = 1 << 16


def render(data: dict[str, Any], theme: Theme) -> str:
    loc = data.get("location") or {}
    where = loc.get("kind", "unknown")
    if where == "global" and loc.get("symbol"):
        where = f"global {loc['symbol']}"
    elif where == "stack":
        where = f"stack of goroutine {loc.get('goroutine')}" + (f", frame {loc['frame']}" if loc.get("frame") else "")
    elif where == "heap" and loc.get("object"):
        where = f"heap object {loc['object']} ({loc.get('elemsize')} bytes)"
    at = f" at {data['address']}  ({where})" if data.get("address") else ""
    head = f"{theme.heading(data['expr'])}  {data['type']}{at}"
    return head + "\n" + format_text(data.get("value"), MAX_VALUE_CHARS)
