"""The base of every typed answer: a frozen dataclass whose ``to_json()`` builds the
contract's JSON document from its fields (the one place JSON is made)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
"""A JSON object as the json module reads and writes it."""


@dataclass(frozen=True)
class Result(ABC):
    """What a command answers and the Python API returns. Subclasses add typed fields, in
    the order of their JSON keys, and ``to_json`` (a result class without one cannot be made)."""

    @abstractmethod
    def to_json(self) -> JSON:
        """The command's JSON document, as `--json` prints it."""


def hex_or_none(value: int | None) -> str | None:
    """Addresses in JSON are "0x…" strings; None stays null."""
    return f"{value:#x}" if value is not None else None
