"""Text for `panic`: the panic lines the way Go prints them, the fatal error, the
deferred calls with their state, and the frames with their Go source line (pygments,
plain when the theme is off)."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from godbg.render.frames import paint_function
from godbg.render.table import table
from godbg.render.theme import Theme

# Source files larger than this are not read for a one-line excerpt.
MAX_SOURCE_BYTES = 8 << 20
STATE_STYLE = {"pending": "warn", "running": "bad", "ran": "location"}


def render(data: dict[str, Any], theme: Theme) -> str:
    if data.get("replay"):
        # `panic replay` wrote its events as they happened; nothing is left to print.
        return ""
    lines: list[str] = []
    goroutine = data.get("goroutine")
    if data.get("fatal_error") is not None:
        head = theme.bad("fatal error: " + data["fatal_error"])
        if data.get("fatal_function"):
            head += theme.location(f"  (thrown by {data['fatal_function']})")
        lines.append(head)
    sig = data.get("fatal_signal")
    if goroutine is None and not data.get("panics") and data.get("fatal_error") is None and not sig:
        return "no goroutine is panicking and no fatal error was thrown"
    if sig and sig.get("source") == "signal frame" and data.get("fatal_error") is None:
        # A signal death: Go's own lines ("SIGSEGV: segmentation violation", "PC=…").
        lines.extend(theme.bad(line) for line in sig.get("printed", []))
    for i, p in enumerate(data.get("panics", [])):
        lines.append(("\t" if i else "") + panic_line(p, theme))
    if sig and sig.get("source") == "goroutine":
        lines.extend(theme.bad(line) for line in sig.get("printed", []))
    if goroutine is not None:
        lines.append("")
        lines.append(theme.heading(f"goroutine {goroutine}" + (f" on m{data['m']}" if data.get("m") is not None
                                                                else "")))
    defers = data.get("defers", [])
    if defers:
        lines.append("")
        lines.append(theme.heading("deferred calls"))
        rows = []
        for d in defers:
            style = getattr(theme, STATE_STYLE.get(d["state"], "location"))
            rows.append((style(d["state"]), paint_function(d["function"], theme),
                         theme.location("deferred by ") + paint_function(d["frame"], theme),
                         theme.location(d.get("kind", ""))))
        lines.append(table(rows))
    frames = data.get("frames", [])
    if frames:
        lines.append("")
        lines.append(theme.heading("frames"))
        frames, hidden = _from_panic_site(frames)
        if hidden:
            lines.append(theme.location(f"  ({hidden} frames of the crash handler above the panic hidden; "
                                        f"`bt {goroutine}` or --json shows them)"))
        elided = data.get("elided", 0)
        if elided:
            half = len(frames) // 2
            lines.extend(frame_lines(frames[:half], theme))
            lines.append(theme.warn(f"  ...{elided} frames elided..."))
            lines.extend(frame_lines(frames[half:], theme))
        else:
            lines.extend(frame_lines(frames, theme))
    return "\n".join(lines)


# The innermost frame people care about: where the panic was raised.
PANIC_FUNCTION = "runtime.gopanic"


def _from_panic_site(frames: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Frames from the (innermost) gopanic out, and how many crash-handler frames above
    it (raise, dieFromSignal, fatalpanic, the signal stack) were left out."""
    for i, f in enumerate(frames):
        if f.get("function") == PANIC_FUNCTION:
            return frames[i:], i
    return frames, 0


def panic_line(p: dict[str, Any], theme: Theme) -> str:
    text = p.get("text")
    if text is None:
        v = p.get("value")
        text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    text = text.replace("\n", "\n\t")  # printindented
    marks = ""
    if p.get("recovered") and p.get("repanicked"):
        marks = " [recovered, repanicked]"
    elif p.get("recovered"):
        marks = " [recovered]"
    if p.get("goexit"):
        marks += " [goexit]"
    kind = theme.location(f"  ({p['type']})") if p.get("type") else ""
    return f"panic: {theme.bad(text)}{marks}{kind}"


def frame_lines(frames: list[dict[str, Any]], theme: Theme) -> list[str]:
    out = []
    for f in frames:
        tags = [t for t in ("inlined" if f.get("inlined") else "", f.get("stack", ""),
                            "C" if f.get("object") else "") if t]
        suffix = theme.location(" [" + ", ".join(tags) + "]") if tags else ""
        out.append(f"  {paint_function(f['function'], theme)}{suffix}")
        where = theme.path(f["file"]) + ":" + str(f["line"]) if f.get("file") else f"in {f.get('object')}"
        out.append(f"      {theme.location(where)}")
        src = source_line(f.get("file", ""), f.get("line", 0))
        if src is not None:
            out.append(f"      {theme.location(str(f['line']).rjust(5))}  {highlight(src, theme)}")
    return out


@lru_cache(maxsize=64)
def _read_lines(path: str) -> tuple[str, ...] | None:
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > MAX_SOURCE_BYTES:
            return None
        with open(path, encoding="utf-8", errors="replace") as fh:
            return tuple(fh.read().splitlines())
    except OSError:
        return None


def source_line(path: str, line: int) -> str | None:
    """The Go source line, when the file is on this machine."""
    if not path or line <= 0:
        return None
    lines = _read_lines(path)
    if lines is None or line > len(lines):
        return None
    return lines[line - 1].strip()


def highlight(code: str, theme: Theme) -> str:
    if not theme.enabled:
        return code
    try:
        from pygments import highlight as pyg_highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import GoLexer
    except ImportError:
        return code
    text: str = pyg_highlight(code, GoLexer(), TerminalFormatter())
    return text.rstrip("\n")
