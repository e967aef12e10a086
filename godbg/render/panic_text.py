"""Text for `panic`: the panic lines the way Go prints them, the fatal error, the
deferred calls with their state, and the frames with their Go source line (pygments,
plain when the theme is off)."""

from __future__ import annotations

import os
from functools import lru_cache

from godbg.render.frames import paint_function
from godbg.render.table import table
from godbg.render.theme import Theme
from godbg.results.frames import Frame
from godbg.results.info import SOURCE_FRAME, SOURCE_G
from godbg.results.panic import Panic, PanicPath, ReplayEnd

# Source files larger than this are not read for a one-line excerpt.
MAX_SOURCE_BYTES = 8 << 20
STATE_STYLE = {"pending": "warn", "running": "bad", "ran": "location"}


def render(answer: PanicPath | ReplayEnd, theme: Theme) -> str:
    if isinstance(answer, ReplayEnd):
        # `panic replay` wrote its events as they happened; nothing is left to print.
        return ""
    lines: list[str] = []
    goroutine = answer.goroutine
    if answer.fatal_error is not None:
        head = theme.bad("fatal error: " + answer.fatal_error)
        if answer.fatal_function:
            head += theme.location(f"  (thrown by {answer.fatal_function})")
        lines.append(head)
    sig = answer.fatal_signal
    if goroutine is None and not answer.panics and answer.fatal_error is None and sig is None:
        return "no goroutine is panicking and no fatal error was thrown"
    if sig is not None and sig.source == SOURCE_FRAME and answer.fatal_error is None:
        # A signal death: Go's own lines ("SIGSEGV: segmentation violation", "PC=…").
        lines.extend(theme.bad(line) for line in sig.go_lines())
    for i, p in enumerate(answer.panics):
        lines.append(("\t" if i else "") + panic_line(p, theme))
    if sig is not None and sig.source == SOURCE_G:
        lines.extend(theme.bad(line) for line in sig.go_lines())
    if goroutine is not None:
        lines.append("")
        lines.append(theme.heading(f"goroutine {goroutine}" + (f" on m{answer.m}" if answer.m is not None else "")))
    if answer.defers:
        lines.append("")
        lines.append(theme.heading("deferred calls"))
        rows = []
        for d in answer.defers:
            style = getattr(theme, STATE_STYLE.get(d.state, "location"))
            rows.append((style(d.state), paint_function(d.function, theme),
                         theme.location("deferred by ") + paint_function(d.frame, theme), theme.location(d.kind)))
        lines.append(table(rows))
    if answer.frames:
        lines.append("")
        lines.append(theme.heading("frames"))
        frames, hidden = _from_panic_site(answer.frames)
        if hidden:
            lines.append(theme.location(f"  ({hidden} frames of the crash handler above the panic hidden; "
                                        f"`bt {goroutine}` or --json shows them)"))
        if answer.elided:
            half = len(frames) // 2
            lines.extend(frame_lines(frames[:half], theme))
            lines.append(theme.warn(f"  ...{answer.elided} frames elided..."))
            lines.extend(frame_lines(frames[half:], theme))
        else:
            lines.extend(frame_lines(frames, theme))
    return "\n".join(lines)


# The innermost frame people care about: where the panic was raised.
PANIC_FUNCTION = "runtime.gopanic"


def _from_panic_site(frames: tuple[Frame, ...]) -> tuple[tuple[Frame, ...], int]:
    """Frames from the (innermost) gopanic out, and how many crash-handler frames above
    it (raise, dieFromSignal, fatalpanic, the signal stack) were left out."""
    for i, f in enumerate(frames):
        if f.function == PANIC_FUNCTION:
            return frames[i:], i
    return frames, 0


def panic_line(p: Panic, theme: Theme) -> str:
    text = p.text.replace("\n", "\n\t")  # printindented
    marks = ""
    if p.recovered and p.repanicked:
        marks = " [recovered, repanicked]"
    elif p.recovered:
        marks = " [recovered]"
    if p.goexit:
        marks += " [goexit]"
    kind = theme.location(f"  ({p.type})") if p.type else ""
    return f"panic: {theme.bad(text)}{marks}{kind}"


def frame_lines(frames: tuple[Frame, ...], theme: Theme) -> list[str]:
    """Two lines a frame, and a third with its Go source line when the file is here."""
    out = []
    for f in frames:
        tags = [t for t in ("inlined" if f.inlined else "", f.stack, "C" if f.object else "") if t]
        suffix = theme.location(" [" + ", ".join(tags) + "]") if tags else ""
        out.append(f"  {paint_function(f.function, theme)}{suffix}")
        where = theme.path(f.file) + ":" + str(f.line) if f.file else f"in {f.object or None}"
        out.append(f"      {theme.location(where)}")
        src = source_line(f.file, f.line)
        if src is not None:
            out.append(f"      {theme.location(str(f.line).rjust(5))}  {highlight(src, theme)}")
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
