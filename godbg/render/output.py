"""A command's answer -> what is printed: JSON for scripts, text for people. Each command has
a text renderer module ``godbg.render.<command>`` with ``render(data, theme) -> str``."""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from typing import Any

from godbg.render.theme import Theme


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False)


def to_text(command: str, data: dict[str, Any], theme: Theme) -> str:
    module_name = {"map": "map_text", "panic": "panic_text"}.get(command, command)
    try:
        module = importlib.import_module(f"godbg.render.{module_name}")
    except ModuleNotFoundError:
        return json.dumps(data, indent=2, ensure_ascii=False)
    text: str = module.render(data, theme)
    return text


def warning_lines(warnings: Sequence[str], theme: Theme) -> list[str]:
    return [theme.warn(f"warning: {w}") for w in warnings]
