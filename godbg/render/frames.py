"""Frames for people, panicparse-style: the function coloured by where its code lives
(the program, a dependency, the standard library / runtime), its location dimmed."""

from __future__ import annotations

from collections.abc import Sequence

from godbg.program.pclntab import package_of
from godbg.render.theme import Theme
from godbg.results.frames import Frame, SourceFrame


def paint_function(function: str | None, theme: Theme) -> str:
    if not function:
        return "-"
    pkg = package_of(function)
    if pkg == "main" or (theme.main_module and (pkg == theme.main_module
                                                 or pkg.startswith(theme.main_module + "/"))):
        return theme.main_func(function)
    if "." in pkg.split("/", 1)[0]:
        return theme.dep_func(function)
    return theme.func(function)


def frame_lines(frames: Sequence[Frame | SourceFrame], theme: Theme, indent: str = "  ") -> list[str]:
    """Two lines a frame, as Go prints them: the function, then its file:line."""
    lines = []
    for f in frames:
        name = paint_function(f.function, theme)
        tags = []
        full = f if isinstance(f, Frame) else None
        if full is not None and full.inlined:
            tags.append("inlined")
        if full is not None and full.stack:
            tags.append(full.stack)
        if full is not None and full.object:
            tags.append("C")  # native code, unwound by its CFI
        suffix = theme.location(" [" + ", ".join(tags) + "]") if tags else ""
        lines.append(f"{indent}{name}{suffix}")
        if f.file:
            where = f"{theme.path(f.file)}:{f.line}"
        else:
            where = f"in {(full.object if full is not None else '') or '?'}"
        extra = ""
        if full is not None and not full.inlined:
            extra = f"  pc={full.pc:#x} sp={full.sp:#x}"
        lines.append(f"{indent}    {theme.location(where)}{theme.location(extra)}")
    return lines
