"""Everything godbg installs into gdb, in one call from gdbinit.py."""

from __future__ import annotations

import importlib

_registered = False


def install() -> None:
    global _registered
    if _registered:
        return
    from godbg.backends.gdb import commands, gdbtarget

    gdbtarget.connect_events()
    commands.register()
    # Optional parts (pretty-printers, the goroutine frame unwinder) register themselves
    # when present in this build.
    for name in ("godbg.backends.gdb.printers", "godbg.backends.gdb.chan_printer", "godbg.backends.gdb.unwinder",
                 "godbg.backends.gdb.replay"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        module.register()
    _registered = True
