"""Built-in runtime struct layouts for binaries without DWARF (`-ldflags=-s -w`).

Each table names the Go releases it holds for and where its facts come from. Empty
until the stripped-binary work lands: until then a stripped binary gets a clear error."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from godbg.runtime.layouts import StructLayout
    from godbg.target.target import Target


def builtin_layout(target: Target, name: str) -> StructLayout | None:
    return None
