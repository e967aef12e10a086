"""`goroutines`: every goroutine with its status, wait reason, location, creator, M and
stack figures; `--group` buckets goroutines whose stacks are the same (panicparse-style)."""

from __future__ import annotations

import argparse
import re

from godbg.commands.base import Outcome, positive_int
from godbg.errors import BadInputError
from godbg.runtime import goroutines as rg
from godbg.target.target import Target

NAME = "goroutines"
HELP = ("Every goroutine: id, status, wait reason, innermost and user frame, creator, M and thread, "
        "stack size and headroom. Dead goroutines are left out unless --status dead asks for them.")

DEAD = "dead"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--status", metavar="S", action="append",
                        help="only goroutines with this status (waiting, running, syscall, runnable, dead, …) "
                             "or wait reason (\"chan receive\"); repeat or separate with commas for several")
    parser.add_argument("--function", metavar="RE",
                        help="only goroutines with a frame whose function matches this regular expression")
    parser.add_argument("--group", action="store_true",
                        help="one entry per distinct stack (function, file, line of every frame), largest first")
    parser.add_argument("--limit", metavar="N", type=positive_int,
                        help="list at most N goroutines (or N groups); 0 means all")


def _statuses(args: argparse.Namespace) -> set[str]:
    out: set[str] = set()
    for s in args.status or []:
        out.update(part.strip() for part in s.split(",") if part.strip())
    return out


def _matches_status(doc: dict, wanted: set[str]) -> bool:
    if not wanted:
        return True
    status = doc["status"]
    return status in wanted or status.split("+")[0] in wanted or (doc["wait_reason"] or "") in wanted


def run(target: Target, args: argparse.Namespace) -> Outcome:
    wanted = _statuses(args)
    pattern = None
    if args.function:
        try:
            pattern = re.compile(args.function)
        except re.error as e:
            raise BadInputError(f"--function: bad regular expression {args.function!r}: {e}") from None
    # Full stacks are needed to group and to match a function anywhere in the stack.
    full = bool(args.group or pattern)
    records = rg.goroutines(target, include_dead=DEAD in wanted, full=full)
    picked = []
    for rec, doc in records:
        if not _matches_status(doc, wanted):
            continue
        if pattern is not None and not any(pattern.search(f.function) for f in rec.frames):
            continue
        picked.append((rec, doc))
    limit = args.limit or 0
    if args.group:
        groups = group(picked)
        total = len(groups)
        if limit:
            groups = groups[:limit]
        return Outcome(NAME, {"groups": groups, "total_groups": total, "total": len(picked)})
    docs = [doc for _rec, doc in picked]
    total = len(docs)
    if limit:
        docs = docs[:limit]
    return Outcome(NAME, {"goroutines": docs, "total": total})


def group(picked: list[tuple[rg.GoroutineRecord, dict]]) -> list[dict]:
    """Goroutines whose frames (function, file, line) are identical, largest group first
    (ties: by the smallest goroutine id)."""
    buckets: dict[tuple, dict] = {}
    for rec, doc in picked:
        frames = tuple((f.function, f.file, f.line) for f in rec.frames if not f.stack)
        key = (frames, doc["status"], doc["wait_reason"])
        entry = buckets.get(key)
        if entry is None:
            entry = buckets[key] = {
                "ids": [],
                "status": doc["status"],
                "wait_reason": doc["wait_reason"],
                "created_by": doc["created_by"],
                "user_function": doc["user_function"],
                "frames": [{"function": f, "file": file, "line": line} for f, file, line in frames],
            }
        entry["ids"].append(doc["id"])
    out = list(buckets.values())
    out.sort(key=lambda e: (-len(e["ids"]), min(e["ids"])))
    return out
