"""Text for `print`: the expression, its type and where it lives, then the value the way
Go would write it."""

from __future__ import annotations

from godbg.render.theme import Theme
from godbg.results.values import GLOBAL, HEAP, STACK, Location, Value
from godbg.values.text import format_text

# A value's text is cut after this many characters.
MAX_VALUE_CHARS = 1 << 16


def render(value: Value, theme: Theme) -> str:
    at = f" at {value.address:#x}  ({_where(value.location)})" if value.address is not None else ""
    head = f"{theme.heading(value.expr)}  {value.type}{at}"
    return head + "\n" + format_text(value.value, MAX_VALUE_CHARS)


def _where(loc: Location) -> str:
    if loc.kind == GLOBAL and loc.symbol:
        return f"global {loc.symbol}"
    if loc.kind == STACK:
        return f"stack of goroutine {loc.goroutine}" + (f", frame {loc.frame}" if loc.frame else "")
    if loc.kind == HEAP and loc.object is not None:
        return f"heap object {loc.object:#x} ({loc.elemsize} bytes)"
    return loc.kind
