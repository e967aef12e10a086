"""The list of godbg commands, in the order `help go` and the docs show them.
Explicit, so that importing a module never registers anything by side effect."""

from __future__ import annotations

import importlib
import importlib.util

from godbg.commands.base import CommandModule

# module name under godbg.commands -> command name (the module's NAME)
COMMAND_MODULES = (
    "info",
    "goroutines",
    "bt",
    "ms",
    "headroom",
    "map",
    "print",
    "panic",
    "report",
    "check",
    "chan",
    "waits",
    "leaks",
)


def available() -> list[CommandModule]:
    """The command modules that exist in this build, in display order."""
    out: list[CommandModule] = []
    for name in COMMAND_MODULES:
        try:
            out.append(importlib.import_module(f"godbg.commands.{_module_name(name)}"))
        except ModuleNotFoundError as e:
            if e.name != f"godbg.commands.{_module_name(name)}":
                raise
    return out


def names() -> list[str]:
    """The command names of this build, in display order, without importing the commands
    (start-up of `godbg core … goroutines` imports only what goroutines needs)."""
    return [n for n in COMMAND_MODULES if importlib.util.find_spec(f"godbg.commands.{_module_name(n)}")]


def find(name: str) -> CommandModule | None:
    if name not in COMMAND_MODULES:
        return None
    try:
        module: CommandModule = importlib.import_module(f"godbg.commands.{_module_name(name)}")
        return module
    except ModuleNotFoundError as e:
        if e.name != f"godbg.commands.{_module_name(name)}":
            raise
        return None


def _module_name(name: str) -> str:
    # `map` and `panic` are fine module names, but avoid shadowing the builtin in imports.
    return {"map": "map_cmd", "panic": "panic_cmd", "print": "print_cmd", "chan": "chan_cmd"}.get(name, name)
