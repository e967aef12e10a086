"""Frames for people, panicparse-style: the function coloured by where its code lives
(the program, a dependency, the standard library / runtime), its location dimmed."""

from __future__ import annotations

from typing import Any

from godbg.program.pclntab import package_of
from godbg.render.theme import Theme


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


def frame_lines(frames: list[dict[str, Any]], theme: Theme, indent: str = "  ") -> list[str]:
    """Two lines a frame, as Go prints them: the function, then its file:line."""
    lines = []
    for f in frames:
        name = paint_function(f["function"], theme)
        tags = []
        if f.get("inlined"):
            tags.append("inlined")
        if f.get("stack"):
            tags.append(f["stack"])
        if f.get("object"):
            tags.append("C")  # native code, unwound by its CFI
        suffix = theme.location(" [" + ", ".join(tags) + "]") if tags else ""
        lines.append(f"{indent}{name}{suffix}")
        if f.get("file"):
            where = f"{theme.path(f['file'])}:{f['line']}"
        else:
            where = f"in {f.get('object') or '?'}"
        extra = ""
        if "pc" in f and not f.get("inlined"):
            extra = f"  pc={f['pc']} sp={f['sp']}"
        lines.append(f"{indent}    {theme.location(where)}{theme.location(extra)}")
    return lines
