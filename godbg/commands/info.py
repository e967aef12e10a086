"""`info`: which Go, which map implementation, how many goroutines and Ms, the stack
limits, and for a core the signal and the crashing thread."""

from __future__ import annotations

import argparse

from godbg.commands.base import Outcome
from godbg.runtime import allgs as rt
from godbg.runtime import version
from godbg.runtime.globals_stripped import is_stripped, stripped_notes
from godbg.runtime.goroutines import live_gs
from godbg.runtime.signals import fatal_signal, is_snapshot
from godbg.runtime.stacklimits import read_limits
from godbg.runtime.stacks import stack_guard
from godbg.target.target import Target

NAME = "info"
HELP = ("Go version, GOARCH, map implementation, GOEXPERIMENTs, goroutine and M counts, maxstacksize, "
        "the stack guard, for a core the signal and the crashing thread, the signal Go handled first, whether the "
        "core is a snapshot of a process that had not crashed, and whether the binary is stripped "
        "(no DWARF or no symbol table) with what that costs.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(target: Target, args: argparse.Namespace) -> Outcome:
    rel = version.check_supported(target)
    guard = stack_guard(target)
    fatal = fatal_signal(target)
    data = {
        "go_version": rel.version,
        "goarch": target.goarch,
        "map_impl": version.map_impl(target),
        "goexperiments": list(rel.experiments),
        # the goroutines Go's own crash traceback lists: every one but the dead
        "goroutines": len(live_gs(target)),
        "ms": len(rt.allm(target)),
        "maxstacksize": read_limits(target, guard).maxstacksize,
        "stack_guard": guard,
        "signal": target.signal.name if target.signal else None,
        "crash_thread": target.crash_thread,
        # the signal that started the crash as Go saw it (not the SIGABRT it re-raised)
        "fatal_signal": fatal.to_json() if fatal is not None else None,
        "snapshot": is_snapshot(target),
        # -ldflags='-s -w': no symbol table or no DWARF; the notes say what godbg does instead.
        "stripped": is_stripped(target.binary) or not target.binary.has_dwarf,
        "notes": stripped_notes(target),
    }
    return Outcome(NAME, data)

