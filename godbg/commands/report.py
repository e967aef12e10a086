"""`report`: the whole postmortem in one go — what happened first, then the evidence:
build and signal, the panic chain or fatal error, the crashing goroutine's frames,
goroutine groups, headroom outliers and the Ms. Each section is another command's
answer; a section that cannot be read becomes a note, not a failed report."""

from __future__ import annotations

import argparse
from typing import Any

from godbg.commands import registry
from godbg.commands.base import Outcome, make_parser, positive_int
from godbg.errors import GodbgError
from godbg.program.target import Target
from godbg.render.jsonout import materialize

NAME = "report"
HELP = ("Everything a postmortem needs in one go: what happened (panic chain or fatal error), Go version "
        "and build, signal and crashing thread, the crashing goroutine's frames, goroutine groups "
        "(largest first), headroom outliers and the Ms.")

DEFAULT_GROUPS = 20
DEFAULT_HEADROOM = 5
# "Who waits for whom": the wait objects with the most waiters.
DEFAULT_WAIT_OBJECTS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--groups", metavar="N", type=positive_int, default=DEFAULT_GROUPS,
                        help=f"show at most N goroutine groups (default {DEFAULT_GROUPS}; 0: all)")
    parser.add_argument("--headroom", metavar="N", type=positive_int, default=DEFAULT_HEADROOM,
                        help=f"show the N goroutines closest to a stack overflow (default {DEFAULT_HEADROOM})")


def _answer(target: Target, name: str, *argv: str) -> Outcome | None:
    """Command ``name``'s answer to ``argv``; None when this build has no such command."""
    module = registry.find(name)
    if module is None:
        return None
    try:
        outcome = module.run(target, make_parser(module, name).parse_args([*argv, "--json"]))
        outcome.data = materialize(outcome.data)  # streamed lists are decoded here, inside the caller's try
    finally:
        _forget_objects(target)
    return outcome


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


def _section(target: Target, notes: list[str], name: str, *argv: str) -> dict[str, Any] | None:
    """Run command ``name`` with ``argv`` and return its JSON document, or None (and a
    note) when this build has no such command or the target cannot answer it."""
    try:
        outcome = _answer(target, name, *argv)
    except GodbgError as e:
        notes.append(f"{name}: {e}")
        return None
    if outcome is None:
        return None
    for w in outcome.warnings:
        if w not in notes:
            notes.append(w)
    return outcome.data


def _signal_text(sig: dict[str, Any]) -> str:
    """Go's lines about a fatal signal as one line: "SIGSEGV: segmentation violation in
    c_deref: PC=0x… m=3 sigcode=1 addr=0x0, signal arrived during cgo execution"."""
    printed = sig.get("printed") or [sig.get("signal", "")]
    where = f" in {sig['function']}" if sig.get("function") else ""
    if sig.get("source") == "goroutine":
        return str(printed[0])
    return f"{printed[0]}{where}: " + ", ".join(printed[1:])


def headline(info: dict[str, Any] | None, panic: dict[str, Any] | None) -> str:
    """One line that says what ended the program."""
    sig = (info or {}).get("fatal_signal")
    # The "[signal …]" line Go adds under a panic or fatal error a fault started.
    sig_suffix = f" {_signal_text(sig)}" if sig and sig.get("source") == "goroutine" else ""
    if panic:
        if panic.get("fatal_error"):
            return f"fatal error: {panic['fatal_error']}{sig_suffix}"
        chain = panic.get("panics") or []
        if chain:
            parts = []
            for p in chain:
                mark = ""
                if p.get("recovered"):
                    mark = " [recovered, repanicked]" if p.get("repanicked") else " [recovered]"
                if p.get("goexit"):
                    mark += " [goexit]"
                parts.append(f"panic: {p['value']}{mark}")
            return " → ".join(parts) + sig_suffix
    if sig:
        return _signal_text(sig)
    if info and info.get("snapshot"):
        stop = f" (stopped by {info['signal']})" if info.get("signal") else ""
        return f"no crash: a snapshot of a running process{stop}, as gdb's gcore takes it"
    if info and info.get("signal"):
        return f"signal {info['signal']}"
    return "no panic, fatal error or fatal signal found (a live program, or a core taken by hand)"


STACK_OVERFLOW = "stack overflow"


def stack_overflow(panic: dict[str, Any] | None, headroom: dict[str, Any] | None) -> dict[str, Any] | None:
    """For a "stack overflow" fatal error: the goroutine that hit the limit (the one
    closest to it), how big its stack was, and what filled it."""
    if not panic or panic.get("fatal_error") != STACK_OVERFLOW or not headroom or not headroom.get("goroutines"):
        return None
    g = headroom["goroutines"][0]
    rep, big = g.get("repeated"), g.get("largest_frame")
    return {
        "goroutine": g["id"],
        "maxstacksize": headroom["maxstacksize"],
        "size": g["size"],
        "used": g["used"],
        "function": rep["function"] if rep else g.get("deepest_function"),
        "depth": rep["times"] if rep else g.get("frames"),
        "frame_bytes": rep.get("frame_bytes") if rep else (big["bytes"] if big else None),
    }


def crashing_goid(target: Target, panic: dict[str, Any] | None, ms: dict[str, Any] | None) -> int | None:
    if panic and panic.get("goroutine") is not None:
        goid: int = panic["goroutine"]
        return goid
    for m in (ms or {}).get("ms", []):
        if m.get("crashing") and m.get("curg") is not None:
            curg: int = m["curg"]
            return curg
    return None


def _with_native_frames(target: Target, notes: list[str], info: dict[str, Any] | None,
                        crashing: dict[str, Any] | None) -> dict[str, Any] | None:
    """A goroutine whose C call took the fatal signal: its M's signal, C and g0 frames
    (`bt --m`) come first, then its own Go frames."""
    sig = (info or {}).get("fatal_signal")
    if not crashing or not sig or not sig.get("in_cgo") or sig.get("m") is None or crashing.get("m") != sig["m"]:
        return crashing
    system = _section(target, notes, "bt", "--m", str(sig["m"]))
    if not system:
        return crashing
    return {**crashing, "frames": system["frames"] + crashing["frames"]}


def run(target: Target, args: argparse.Namespace) -> Outcome:
    notes: list[str] = []
    # Without the basics (a readable runtime) nothing else will work: info's error is the report's.
    basics = _answer(target, "info")
    info = basics.data if basics is not None else None
    notes.extend(basics.warnings if basics is not None else [])
    panic = _section(target, notes, "panic")
    ms = _section(target, notes, "ms")
    goid = crashing_goid(target, panic, ms)
    crashing = _section(target, notes, "bt", str(goid)) if goid is not None else None
    crashing = _with_native_frames(target, notes, info, crashing)
    group_args = ["--group"] + (["--limit", str(args.groups)] if args.groups else [])
    groups = _section(target, notes, "goroutines", *group_args)
    headroom = _section(target, notes, "headroom", "--top", str(args.headroom))
    waits = _section(target, notes, "waits")
    leaks = _section(target, notes, "leaks")
    groups_list = (groups or {}).get("groups")
    if groups_list and goid is not None:
        # The crashing goroutine's group first, then the largest (panicparse style).
        groups_list = sorted(groups_list, key=lambda g: goid not in g["ids"])
    data = {
        "headline": headline(info, panic),
        "stack_overflow": stack_overflow(panic, headroom),
        "binary": target.binary.path,
        "info": info,
        "panic": panic,
        "crashing_goroutine": crashing,
        "groups": groups_list,
        "goroutine_count": (groups or {}).get("total"),
        "group_count": (groups or {}).get("total_groups"),
        "headroom": headroom,
        "ms": (ms or {}).get("ms"),
        "waits": (waits or {}).get("objects", [])[:DEFAULT_WAIT_OBJECTS] if waits is not None else None,
        "leaks": leaks,
        "notes": notes,
    }
    return Outcome(NAME, data)
