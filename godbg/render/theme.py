"""Colour for people: on a terminal only, never with NO_COLOR, never when gdb's
`set style enabled off`. The backend decides ``enabled``; renderers just call it."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TextIO

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


@dataclass(frozen=True)
class Theme:
    enabled: bool = False
    # The program's main module path (build info), to tell its code from dependencies.
    main_module: str = ""
    # The toolchain's GOROOT as the binary's file table spells it, shown as $GOROOT.
    goroot: str = ""

    def path(self, file: str) -> str:
        """A source path for people: the toolchain's tree shortened to $GOROOT."""
        if self.goroot and file.startswith(self.goroot + "/"):
            return "$GOROOT" + file[len(self.goroot):]
        return file

    def paint(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles or not text:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    # Roles, so renderers say what a thing is rather than what colour it has.
    def heading(self, text: str) -> str:
        return self.paint(text, "bold")

    def func(self, text: str) -> str:
        return self.paint(text, "cyan")

    def main_func(self, text: str) -> str:
        return self.paint(text, "bold", "green")

    def dep_func(self, text: str) -> str:
        return self.paint(text, "yellow")

    def location(self, text: str) -> str:
        return self.paint(text, "dim")

    def number(self, text: str) -> str:
        return self.paint(text, "magenta")

    def bad(self, text: str) -> str:
        return self.paint(text, "bold", "red")

    def warn(self, text: str) -> str:
        return self.paint(text, "yellow")

    def good(self, text: str) -> str:
        return self.paint(text, "green")


def terminal_theme(stream: TextIO | None = None) -> Theme:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return Theme(False)
    isatty = getattr(stream, "isatty", None)
    return Theme(bool(isatty and isatty()))


PLAIN = Theme(False)
