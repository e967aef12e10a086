"""Outcome -> what is printed: JSON for scripts, text for people. Each command has a
text renderer module ``godbg.render.<command>`` with ``render(data, theme) -> str``."""

from __future__ import annotations

import importlib
import json

from godbg.commands.base import Outcome
from godbg.render.theme import Theme


def to_json(outcome: Outcome) -> str:
    return json.dumps(outcome.json_document(), ensure_ascii=False)


def to_text(outcome: Outcome, theme: Theme) -> str:
    module_name = {"map": "map_text", "panic": "panic_text"}.get(outcome.command, outcome.command)
    try:
        module = importlib.import_module(f"godbg.render.{module_name}")
    except ModuleNotFoundError:
        return json.dumps(outcome.data, indent=2, ensure_ascii=False)
    text: str = module.render(outcome.data, theme)
    return text


def warning_lines(outcome: Outcome, theme: Theme) -> list[str]:
    return [theme.warn(f"warning: {w}") for w in outcome.warnings]
