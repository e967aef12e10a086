"""A command's answer -> what is printed: JSON for scripts, text for people. Each command has
a text renderer module ``godbg.render.<command>`` with ``render(result, theme) -> str`` over
its typed answer (``godbg.results``). A --json document may hold
:class:`~godbg.render.jsonout.Stream` lists, written as they are produced."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from godbg.render.jsonout import Stream, write_document, write_lines
from godbg.render.theme import Theme
from godbg.results.base import Result


def write_json(data: dict[str, Any], sink: Callable[[str], None], warnings: Callable[[], list[str]]) -> None:
    """The --json document, streamed to ``sink``: the same bytes as
    ``json.dumps(document, ensure_ascii=False)``. ``warnings()`` is asked once the rest
    is written, so warnings found while streaming still end up in its "warnings" key."""

    def tail() -> dict[str, Any]:
        found = warnings()
        return {"warnings": found} if found else {}

    write_document(data, sink, tail)


def write_jsonl(items: Any, sink: Callable[[str], None]) -> int:
    """--jsonl: the items of a list (or Stream), one JSON text a line; how many."""
    return write_lines(items if isinstance(items, Stream) else Stream.of(items), sink)


def to_text(command: str, result: Result, theme: Theme) -> str:
    """The text of a command's typed answer, by its renderer ``godbg.render.<command>``."""
    module_name = {"map": "map_text", "panic": "panic_text"}.get(command, command)
    module = importlib.import_module(f"godbg.render.{module_name}")
    text: str = module.render(result, theme)
    return text


def warning_lines(warnings: Sequence[str], theme: Theme) -> list[str]:
    return [theme.warn(f"warning: {w}") for w in warnings]
