"""Outcome -> what is printed: JSON for scripts, text for people. Each command has a
text renderer module ``godbg.render.<command>`` with ``render(data, theme) -> str``."""

from __future__ import annotations

import importlib
import json
from typing import Any, Callable

from godbg.commands.base import Outcome
from godbg.render.jsonout import Stream, materialize, write_document, write_lines
from godbg.render.theme import Theme


def to_json(outcome: Outcome) -> str:
    parts: list[str] = []
    write_json(outcome, parts.append, lambda: [])
    return "".join(parts)


def write_json(outcome: Outcome, sink: Callable[[str], None], late_warnings: Callable[[], list[str]]) -> None:
    """The --json document, streamed to ``sink``: the same bytes as
    ``json.dumps(document, ensure_ascii=False)``. Warnings gathered while it is written
    (``late_warnings()``) still end up in its "warnings" key."""

    def tail() -> dict[str, Any]:
        warnings = list(dict.fromkeys(outcome.warnings + late_warnings()))
        return {"warnings": warnings} if warnings else {}

    write_document(outcome.data, sink, tail)


def write_jsonl(outcome: Outcome, sink: Callable[[str], None]) -> int:
    """--jsonl: the items of the outcome's list, one JSON text a line."""
    if outcome.lines is None:
        raise ValueError(f"{outcome.command} has no --jsonl list")
    items = outcome.data[outcome.lines]
    return write_lines(items if isinstance(items, Stream) else Stream.of(items), sink)


def to_text(outcome: Outcome, theme: Theme) -> str:
    outcome.data = materialize(outcome.data)
    module_name = {"map": "map_text", "panic": "panic_text"}.get(outcome.command, outcome.command)
    try:
        module = importlib.import_module(f"godbg.render.{module_name}")
    except ModuleNotFoundError:
        return json.dumps(outcome.data, indent=2, ensure_ascii=False)
    return module.render(outcome.data, theme)


def warning_lines(outcome: Outcome, theme: Theme) -> list[str]:
    return [theme.warn(f"warning: {w}") for w in outcome.warnings]
