"""`info`: the program's Go, build and crash at a glance."""

from __future__ import annotations

from godbg.program.target import Target
from godbg.results.info import Info
from godbg.runtime import allgs as rt
from godbg.runtime import version
from godbg.runtime.globals_stripped import is_stripped, stripped_notes
from godbg.runtime.goroutines import iter_live_gs
from godbg.runtime.signals import fatal_signal, is_snapshot
from godbg.runtime.stack import stack_guard
from godbg.runtime.stacklimits import read_limits


def info(target: Target) -> Info:
    rel = version.release(target)
    guard = stack_guard(target)
    return Info(
        go_version=rel.version,
        goarch=target.goarch,
        map_impl=version.map_impl(target),
        goexperiments=tuple(rel.experiments),
        # the goroutines Go's own crash traceback lists: every one but the dead
        goroutines=sum(1 for _g in iter_live_gs(target)),
        ms=len(rt.allm(target)),
        maxstacksize=read_limits(target, guard).maxstacksize,
        stack_guard=guard,
        signal=target.signal.name if target.signal else None,
        crash_thread=target.crash_thread,
        # the signal that started the crash as Go saw it (not the SIGABRT it re-raised)
        fatal_signal=fatal_signal(target),
        snapshot=is_snapshot(target),
        load_bias=target.binary.load_bias,
        # -ldflags='-s -w': no symbol table or no DWARF; the notes say what godbg does instead.
        stripped=is_stripped(target.binary) or not target.binary.has_dwarf,
        notes=tuple(stripped_notes(target)),
    )
