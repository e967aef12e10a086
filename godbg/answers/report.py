"""`report`: the whole postmortem in one go, each section another answer. A section the
target cannot give becomes a note, not a failed report (only `info`'s error, without which
nothing else works, is the report's)."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, TypeVar

from godbg.answers.bt import backtrace, m_backtrace
from godbg.answers.goroutines import goroutine_groups
from godbg.answers.headroom import headroom
from godbg.answers.info import info
from godbg.answers.panic import panic
from godbg.answers.waits import leaks, waits
from godbg.errors import GodbgError
from godbg.program.target import Target
from godbg.results.bt import Backtrace
from godbg.results.headroom import Headroom
from godbg.results.info import SOURCE_G, FatalSignal, Info
from godbg.results.ms import Ms
from godbg.results.panic import PanicPath
from godbg.results.report import Report, StackOverflow
from godbg.runtime.ms import ms

DEFAULT_GROUPS = 20
DEFAULT_HEADROOM = 5
# "Who waits for whom": the wait objects with the most waiters.
DEFAULT_WAIT_OBJECTS = 10
STACK_OVERFLOW = "stack overflow"

_T = TypeVar("_T")

# Per-stop memo entries of single runtime objects (a g, a sudog, a channel, a walk, a
# name). A section that read every goroutine's would leave them all to the next one:
# the report's peak memory would be the sum of its sections' instead of the largest.
_PER_OBJECT_MEMO = frozenset({"g", "sudog", "hchan", "stacks:gstack", "place", "labels", "framename",
                              "stackshape", "objnames:stacks"})


def _forget_objects(target: Target) -> None:
    cache = target.cache
    for key in [k for k in cache if type(k) is tuple and k and k[0] in _PER_OBJECT_MEMO]:
        del cache[key]
    cache.pop("waits:extras", None)


def _section(target: Target, notes: list[str], name: str, answer: Callable[[], _T]) -> _T | None:
    """``answer()``, or None (and a note) when the target cannot give it."""
    try:
        return answer()
    except GodbgError as e:
        notes.append(f"{name}: {e}")
        return None
    finally:
        _forget_objects(target)


def report(target: Target, *, groups: int = DEFAULT_GROUPS, headroom_top: int = DEFAULT_HEADROOM) -> Report:
    """``groups``: at most that many goroutine groups (0: all); ``headroom_top``: the
    goroutines closest to a stack overflow."""
    notes: list[str] = []
    try:
        basics = info(target)
    finally:
        _forget_objects(target)
    path = _section(target, notes, "panic", lambda: panic(target))
    threads = _section(target, notes, "ms", lambda: ms(target))
    goid = crashing_goid(path, threads)
    crashing = _section(target, notes, "bt", lambda: backtrace(target, goid)) if goid is not None else None
    crashing = _with_native_frames(target, notes, basics, crashing)
    grouped = _section(target, notes, "goroutines", lambda: goroutine_groups(target, limit=groups))
    if grouped is not None and goid is not None:
        # The crashing goroutine's group first, then the largest (panicparse style).
        grouped = replace(grouped, groups=tuple(sorted(grouped.groups, key=lambda g: goid not in g.ids)))
    closest = _section(target, notes, "headroom", lambda: headroom(target, top=headroom_top or None))
    blocked = _section(target, notes, "waits", lambda: waits(target))
    if blocked is not None:
        blocked = replace(blocked, objects=blocked.objects[:DEFAULT_WAIT_OBJECTS])
    leaked = _section(target, notes, "leaks", lambda: leaks(target))
    return Report(
        headline=headline(basics, path),
        stack_overflow=stack_overflow(path, closest),
        binary=target.binary.path,
        info=basics,
        panic=path,
        crashing_goroutine=crashing,
        groups=grouped,
        headroom=closest,
        ms=threads,
        waits=blocked,
        leaks=leaked,
        notes=tuple(notes),
    )


def headline(info: Info, panic: PanicPath | None) -> str:
    """One line that says what ended the program."""
    sig = info.fatal_signal
    # The "[signal …]" line Go adds under a panic or fatal error a fault started.
    sig_suffix = f" {_signal_text(sig)}" if sig is not None and sig.source == SOURCE_G else ""
    if panic is not None:
        if panic.fatal_error:
            return f"fatal error: {panic.fatal_error}{sig_suffix}"
        if panic.panics:
            parts = []
            for p in panic.panics:
                mark = ""
                if p.recovered:
                    mark = " [recovered, repanicked]" if p.repanicked else " [recovered]"
                if p.goexit:
                    mark += " [goexit]"
                parts.append(f"panic: {p.value}{mark}")
            return " → ".join(parts) + sig_suffix
    if sig is not None:
        return _signal_text(sig)
    if info.snapshot:
        stop = f" (stopped by {info.signal})" if info.signal else ""
        return f"no crash: a snapshot of a running process{stop}, as gdb's gcore takes it"
    if info.signal:
        return f"signal {info.signal}"
    return "no panic, fatal error or fatal signal found (a live program, or a core taken by hand)"


def _signal_text(sig: FatalSignal) -> str:
    """Go's lines about a fatal signal as one line: "SIGSEGV: segmentation violation in
    c_deref: PC=0x… m=3 sigcode=1 addr=0x0, signal arrived during cgo execution"."""
    printed = sig.go_lines()
    if sig.source == SOURCE_G:
        return printed[0]
    where = f" in {sig.function}" if sig.function else ""
    return f"{printed[0]}{where}: " + ", ".join(printed[1:])


def stack_overflow(panic: PanicPath | None, closest: Headroom | None) -> StackOverflow | None:
    """For a "stack overflow" fatal error: the goroutine closest to the limit."""
    if panic is None or panic.fatal_error != STACK_OVERFLOW or closest is None or not closest.goroutines:
        return None
    g = closest.goroutines[0]
    rep, big = g.repeated, g.largest_frame
    return StackOverflow(
        goroutine=g.id, maxstacksize=closest.maxstacksize, size=g.size, used=g.used,
        function=rep.function if rep is not None else g.deepest_function,
        depth=rep.times if rep is not None else g.frames,
        frame_bytes=rep.frame_bytes if rep is not None else (big.bytes if big is not None else None))


def crashing_goid(panic: PanicPath | None, threads: Ms | None) -> int | None:
    if panic is not None and panic.goroutine is not None:
        return panic.goroutine
    for m in threads.ms if threads is not None else ():
        if m.crashing and m.curg is not None:
            return m.curg
    return None


def _with_native_frames(target: Target, notes: list[str], info: Info, crashing: Backtrace | None) -> Backtrace | None:
    """A goroutine whose C call took the fatal signal: its M's signal, C and g0 frames
    (`bt --m`) come first, then its own Go frames."""
    sig = info.fatal_signal
    if crashing is None or sig is None or not sig.in_cgo or sig.m is None or crashing.m != sig.m:
        return crashing
    mid = sig.m
    system = _section(target, notes, "bt", lambda: m_backtrace(target, mid))
    if system is None:
        return crashing
    return replace(crashing, frames=system.frames + crashing.frames)
