"""Built-in runtime facts for binaries without DWARF (`-ldflags=-s -w`).

Everything here comes from ``layouts_builtin.json``, which ``scripts/gen_layouts.py``
writes from real binaries: for each Go release (keyed by minor version, "1.22") the
toolchain it came from (``"toolchain": "go1.22.10"``) and where the facts were read
(``"source": "DWARF of go1.22.10 linux/amd64 binary"``), then

- ``layouts``: runtime struct layouts flattened as ``godbg.runtime.layouts`` flattens
  DWARF (dotted field paths -> [offset, size]), so a decoder sees the same
  ``StructLayout`` with or without DWARF. On disk a release names each layout by its id
  in the document's shared ``layouts`` table (most structs do not change between
  releases); ``tables()`` puts them back in place;
- ``constants``: the DWARF constants godbg reads (``runtime._G*`` status values);
- ``globals``: how to find runtime globals in code without a symbol table (see
  ``godbg.runtime.globals_stripped``).

One toolchain per minor release stands for all its patch releases. That is an
assumption, measured rather than promised: go1.25.0 and go1.26.0 have every layout of
go1.25.5 and go1.26.6; go1.23.1's runtime.m lacks go1.23.9's ``g0StackAccurate`` (a
bool in padding: only ``m.traceback`` moved, by one byte, and godbg does not read it).
``info`` notes when a binary's patch release is not the recorded one. Only linux/amd64
is recorded: other architectures get None (and so a clear "no layout" error)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from godbg.program.target import Target
    from godbg.runtime.layouts import StructLayout

JSON_PATH = Path(__file__).with_name("layouts_builtin.json")
FORMAT = 2
# The architecture the tables describe.
GOARCH = "amd64"


@lru_cache(maxsize=1)
def tables() -> dict[str, Any]:
    """The whole JSON document (read once per process)."""
    try:
        with open(JSON_PATH, encoding="utf-8") as f:
            doc: dict[str, Any] = json.load(f)
    except (OSError, ValueError):
        return {"format": FORMAT, "releases": {}}
    if doc.get("format") != FORMAT:
        return {"format": FORMAT, "releases": {}}
    return expand(doc)


def expand(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with each release's layout ids replaced by the shared layouts they name."""
    shared = doc.get("layouts", {})
    releases = {key: {**entry, "layouts": {name: shared[ref] for name, ref in entry.get("layouts", {}).items()}}
                for key, entry in doc.get("releases", {}).items()}
    return {k: v for k, v in doc.items() if k != "layouts"} | {"releases": releases}


def release_key(target: Target) -> str:
    major, minor, _patch = target.binary.buildinfo.version_tuple
    return f"{major}.{minor}"


def release_table(target: Target) -> dict[str, Any] | None:
    """This binary's release's entry, or None (another architecture, an unknown release)."""
    if target.goarch != tables().get("goarch", GOARCH):
        return None
    table: dict[str, Any] | None = tables()["releases"].get(release_key(target))
    return table


def builtin_layout(target: Target, name: str) -> StructLayout | None:
    from godbg.runtime.layouts import StructLayout

    table = release_table(target)
    if table is None:
        return None
    entry = table["layouts"].get(name)
    if entry is None:
        return None
    fields = entry["fields"]
    return StructLayout(name, entry["size"], {k: v[0] for k, v in fields.items()},
                        {k: v[1] for k, v in fields.items()})


def builtin_constants(target: Target, prefix: str = "") -> dict[str, int]:
    """The recorded DWARF constants whose names start with ``prefix``."""
    table = release_table(target)
    if table is None:
        return {}
    return {k: v for k, v in table.get("constants", {}).items() if k.startswith(prefix)}


def builtin_globals(target: Target) -> dict[str, Any]:
    table = release_table(target)
    return table.get("globals", {}) if table is not None else {}


def describe(target: Target) -> str | None:
    """Where this binary's built-in facts come from, for notes: "go1.22.10 (DWARF of …)"."""
    table = release_table(target)
    if table is None:
        return None
    return f"{table['toolchain']} ({table['source']})"
