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
from godbg.target.target import Target

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


def _section(target: Target, notes: list[str], name: str, *argv: str) -> dict[str, Any] | None:
    """Run command ``name`` with ``argv`` and return its JSON document, or None (and a
    note) when this build has no such command or the target cannot answer it."""
    module = registry.find(name)
    if module is None:
        return None
    try:
        args = make_parser(module, name).parse_args([*argv, "--json"])
        outcome = module.run(target, args)
    except GodbgError as e:
        notes.append(f"{name}: {e}")
        return None
    for w in outcome.warnings:
        if w not in notes:
            notes.append(w)
    return outcome.data


def headline(info: dict | None, panic: dict | None) -> str:
    """One line that says what ended the program."""
    if panic:
        if panic.get("fatal_error"):
            return f"fatal error: {panic['fatal_error']}"
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
            return " → ".join(parts)
    if info and info.get("signal"):
        return f"signal {info['signal']}"
    return "no panic, fatal error or fatal signal found (a live program, or a core taken by hand)"


STACK_OVERFLOW = "stack overflow"


def stack_overflow(panic: dict | None, headroom: dict | None) -> dict | None:
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


def crashing_goid(target: Target, panic: dict | None, ms: dict | None) -> int | None:
    if panic and panic.get("goroutine") is not None:
        return panic["goroutine"]
    for m in (ms or {}).get("ms", []):
        if m.get("crashing") and m.get("curg") is not None:
            return m["curg"]
    return None


def run(target: Target, args: argparse.Namespace) -> Outcome:
    notes: list[str] = []
    info = _section(target, notes, "info")
    if info is None:
        # Without the basics (supported Go, readable runtime) nothing else will work.
        module = registry.find("info")
        assert module is not None
        module.run(target, make_parser(module, "info").parse_args([]))
    panic = _section(target, notes, "panic")
    ms = _section(target, notes, "ms")
    goid = crashing_goid(target, panic, ms)
    crashing = _section(target, notes, "bt", str(goid)) if goid is not None else None
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
