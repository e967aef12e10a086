"""`goroutines`: every goroutine with its status, wait reason, location, creator, M and
stack figures; `--group` buckets goroutines whose stacks are the same (panicparse-style)."""

from __future__ import annotations

import argparse
import re
from array import array
from collections.abc import Iterable, Iterator
from typing import Any

from godbg.commands.base import Outcome, add_jsonl_flag, positive_int
from godbg.errors import BadInputError
from godbg.program.target import Target
from godbg.render.jsonout import Deferred, Emitter, Stream
from godbg.runtime import goroutines as rg
from godbg.runtime.g import G
from godbg.runtime.unwind import PcPredicate, Unwinder, unwinder
from godbg.runtime.waits import WAITS_CHUNK, Namer, chunked, goroutine_waits

NAME = "goroutines"
HELP = ("Every goroutine: id, status, wait reason, innermost and user frame, creator, M and thread, "
        "stack size and headroom. Dead goroutines are left out unless --status dead asks for them.")

DEAD = "dead"
DEAD_EXTRA = "deadextra"
GROUP_BY = ("object", "labels")


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
    add_jsonl_flag(parser, "each goroutine (with --group: each group)")
    parser.add_argument("--label", metavar="K=V", action="append",
                        help="only goroutines with this pprof label (repeat: all must match)")
    parser.add_argument("--waiting-on", metavar="NAME|0xADDR",
                        help="only goroutines waiting on this object: its name (main.jobs) or address "
                             "(a select matches any of its channels)")
    parser.add_argument("--group-by", choices=GROUP_BY, action="append",
                        help="with --group, also keep goroutines apart by what they wait on (object) "
                             "or by their pprof labels; repeat for both")


def _statuses(args: argparse.Namespace) -> set[str]:
    out: set[str] = set()
    for s in args.status or []:
        out.update(part.strip() for part in s.split(",") if part.strip())
    return out


def _matches_status(doc: dict[str, Any], wanted: set[str]) -> bool:
    if not wanted:
        return True
    status = doc["status"]
    base = status.split("+")[0]
    if base == DEAD_EXTRA and DEAD in wanted:  # an extra M's parked g: dead, as Go counts it
        return True
    return status in wanted or base in wanted or (doc["wait_reason"] or "") in wanted


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
    labels = _labels(args)
    u = unwinder(target)
    matches = PcPredicate(u, lambda infos: any(pattern.search(i[0]) for i in infos)) if pattern else None
    waits = _Waits(target, include_dead=DEAD in wanted)

    def picked() -> Iterator[tuple[rg.GoroutineRecord | None, dict[str, Any]]]:
        for _g, rec, doc in waits.annotated(rg.iter_goroutines_g(target, include_dead=DEAD in wanted, full=full)):
            if not _matches_status(doc, wanted):
                continue
            # A --function pattern asks for full records, so rec is never None here.
            if matches is not None and not any(matches[(pf.pc, pf.trap)] for pf in rec.stack.frames):  # type: ignore[union-attr]
                continue
            if any(doc["labels"].get(k) != v for k, v in labels.items()):
                continue
            if args.waiting_on and not waits_on(doc["waiting_on"], args.waiting_on):
                continue
            yield rec, doc

    limit = args.limit or 0
    if args.group:
        groups, total = group(picked(), u, tuple(args.group_by or ()))
        total_groups = len(groups)
        if limit:
            groups = groups[:limit]
        return Outcome(NAME, {"groups": groups, "total_groups": total_groups, "total": total}, lines="groups")
    count = 0

    def produce(emit: Emitter) -> None:
        # Each goroutine is written as soon as it is decoded; only the count is kept.
        nonlocal count
        for _rec, doc in picked():
            count += 1
            if not limit or count <= limit:
                emit(doc)

    return Outcome(NAME, {"goroutines": Stream(produce), "total": Deferred(lambda: count)}, lines="goroutines")


def _labels(args: argparse.Namespace) -> dict[str, str]:
    out = {}
    for item in args.label or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadInputError(f"--label: expected KEY=VALUE, not {item!r}")
        out[key] = value
    return out


class _Waits:
    """Gives goroutine documents their "labels" and "waiting_on", a chunk at a time as
    the listing streams: the g structs' extra fields are read in bulk per chunk, and the
    names of wait objects are memoized across chunks (runtime/waits.py)."""

    def __init__(self, target: Target, include_dead: bool) -> None:
        self.target = target
        self.namer = Namer(target, rg.all_stacks(target, include_dead))

    def annotated(self, items: Iterable[tuple[G, rg.GoroutineRecord | None, dict[str, Any]]]
                  ) -> Iterator[tuple[G, rg.GoroutineRecord | None, dict[str, Any]]]:
        for chunk in chunked(items, WAITS_CHUNK):
            yield from self._annotate(chunk)

    def _annotate(self, chunk: list[tuple[G, rg.GoroutineRecord | None, dict[str, Any]]]
                  ) -> list[tuple[G, rg.GoroutineRecord | None, dict[str, Any]]]:
        waits = goroutine_waits(self.target, [g for g, _rec, _doc in chunk], self.namer, keep=False)
        for g, _rec, d in chunk:
            w = waits.get(g.goid)
            d["labels"] = w.labels if w is not None else {}
            d["waiting_on"] = w.waiting_on.to_json() if w is not None and w.waiting_on is not None else None
        return chunk


def waits_on(waiting: dict[str, Any] | None, wanted: str) -> bool:
    """Does a waiting_on document name ``wanted`` (an object name or a 0x address)?"""
    if waiting is None:
        return False
    refs = [waiting] + list(waiting.get("channels") or [])
    if wanted.lower().startswith("0x"):
        try:
            addr = int(wanted, 16)
        except ValueError:
            raise BadInputError(f"--waiting-on: bad address {wanted!r}") from None
        return any(r.get("address") and int(r["address"], 16) == addr for r in refs)
    return any(r.get("object") == wanted for r in refs)


def _wait_key(doc: dict[str, Any], by: tuple[str, ...]) -> tuple[Any, ...]:
    key: tuple[Any, ...] = ()
    if "object" in by:
        w = doc.get("waiting_on") or {}
        key += (w.get("kind"), w.get("address"), tuple(c["address"] for c in w.get("channels") or ()))
    if "labels" in by:
        key += (tuple(sorted((doc.get("labels") or {}).items())),)
    return key


class _Bucket:
    """One distinct physical stack: the goroutines on it (ids in a compact array) and
    one of them whose frames stand for all."""

    __slots__ = ("ids", "doc", "rec")

    def __init__(self, doc: dict[str, Any], rec: rg.GoroutineRecord) -> None:
        self.ids = array("q")
        self.doc = doc
        self.rec = rec


def group(picked: Iterable[tuple[rg.GoroutineRecord | None, dict[str, Any]]], u: Unwinder,
          by: tuple[str, ...] = ()) -> tuple[list[dict[str, Any]], int]:
    """Goroutines whose frames (function, file, line) are identical, largest group first
    (ties: by the smallest goroutine id), and how many goroutines there were. Bucketed
    by physical pcs first, so logical frames are built once per distinct stack, not
    once per goroutine; each goroutine leaves only its id behind."""
    by_pcs: dict[tuple[Any, ...], _Bucket] = {}
    total = 0
    for rec, doc in picked:
        if rec is None:  # full walks give every goroutine its record
            raise AssertionError("goroutines --group: a goroutine without its stack record")
        total += 1
        key = (tuple([(pf.pc, pf.trap) for pf in rec.stack.frames]), doc["status"], doc["wait_reason"],
               _wait_key(doc, by))
        bucket = by_pcs.get(key)
        if bucket is None:
            bucket = by_pcs[key] = _Bucket(doc, rec)
        bucket.ids.append(doc["id"])
    buckets: dict[tuple[Any, ...], dict[str, Any]] = {}
    for key, bucket in by_pcs.items():
        frames = tuple((info[0], info[1], info[2]) for pf in bucket.rec.stack.frames for info in u.logical_info(pf))
        first = bucket.doc
        lkey = (frames, first["status"], first["wait_reason"], key[3])
        entry = buckets.get(lkey)
        if entry is None:
            entry = buckets[lkey] = {
                "ids": array("q"),
                "status": first["status"],
                "wait_reason": first["wait_reason"],
                "created_by": first["created_by"],
                "user_function": first["user_function"],
                "frames": [{"function": f, "file": file, "line": line} for f, file, line in frames],
            }
            if "object" in by:
                entry["waiting_on"] = first.get("waiting_on")
            if "labels" in by:
                entry["labels"] = first.get("labels")
        entry["ids"].extend(bucket.ids)
    out = list(buckets.values())
    for e in out:
        e["ids"] = sorted(e["ids"])
    out.sort(key=lambda e: (-len(e["ids"]), e["ids"][0]))
    return out, total


DOC = """
## JSON

```json
{"goroutines": [
  {"id": 18, "status": "waiting", "wait_reason": "chan receive", "waiting_since_ns": null,
   "function": "runtime.gopark", "user_function": "main.recvWorker",
   "location": "/src/app/main.go:23", "created_by": "main.main.func1", "parent_goid": 1,
   "start_function": "main.recvWorker", "m": null, "thread": null, "locked_to_thread": false,
   "stack": {"lo": 1, "hi": 2, "sp": 3, "size": 8192, "used": 800, "guard_headroom": 6000},
   "labels": {"tenant": "acme"},
   "waiting_on": {"kind": "chan receive", "address": "0xc000080060", "object": "main.jobs",
                  "since_ns": null}}
], "total": 1}
```

- `status`: the runtime's status name (`_Gwaiting` → `waiting`), `+scan` when the scan bit is
  set. `wait_reason`: the runtime's own string (`runtime.waitReasonStrings`), for waiting
  goroutines only.
- `function`: the innermost frame; `user_function`: the innermost frame in package `main` or in
  a module whose path's first element holds a dot; `location`: that frame's file:line (the
  innermost frame's when there is no user frame).
- `created_by`: the function holding `gopc` (none for goroutine 1); `parent_goid`: the goroutine
  that ran the `go` statement; `start_function`: the function at `startpc`.
- `m`, `thread`: the M the goroutine is on and its OS thread id.
- `stack`: bounds, the SP the goroutine's walk starts at (the thread's registers for a running
  goroutine, through the signal frame when its thread is in a signal handler; `syscallsp` in a
  system call; `sched.sp` otherwise), `used = hi - sp`, `guard_headroom = sp - (lo + stack guard)`.
- `total`: how many matched before `--limit`.
- `labels`: the goroutine's pprof labels (`{}` when none).
- `waiting_on`: null for a goroutine that is not blocked, else `kind` (`chan receive`, `chan send`,
  `select`, `mutex`, `rwmutex read`, `rwmutex write`, `waitgroup`, `cond`, `semaphore`, `sleep`,
  `netpoll`, `syscall`, `other`), the object's `address` and `object` name (the global or field
  path holding it, else `goroutine N FUNC` for a stack, else `heap *T` or `heap object …`),
  `since_ns`; a select adds `channels` (`dir`, `address`, `object` each), a sleep
  `deadline_ns` (the runtime's nanotime), a network wait `fd`.

With `--group`: `{"groups": [{"ids": [...], "status", "wait_reason", "created_by",
"user_function", "frames": [{"function", "file", "line"}]}], "total_groups": N, "total": N}`,
largest group first; goroutines fall in one group when their frames are the same.
`--group-by object` also keeps goroutines waiting on different objects apart (each group gains
`waiting_on`), `--group-by labels` those with different labels (each group gains `labels`).

## JSON Lines

`--jsonl` prints one JSON object a line and nothing else on stdout: each goroutine record exactly as
it appears in the `--json` list (with `--group`: each group record), in the same order, written as it
is decoded (`godbg core BIN CORE goroutines --jsonl | jq -c 'select(.wait_reason == "chan receive")'`).
`total`, `total_groups` and `warnings` are not printed; warnings go to stderr. `--json` output is
streamed too: the same bytes as before, written one goroutine at a time.
"""
