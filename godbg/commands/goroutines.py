"""`goroutines`: every goroutine with its status, wait reason, location, creator, M and
stack figures; `--group` buckets goroutines whose stacks are the same (panicparse-style)."""

from __future__ import annotations

import argparse

from godbg.answers.goroutines import goroutine_groups, goroutines, iter_goroutines
from godbg.commands.base import Outcome, add_jsonl_flag, positive_int, wants_json
from godbg.errors import BadInputError
from godbg.program.target import Target
from godbg.render.jsonout import Deferred, Emitter, Stream
from godbg.results.goroutines import GROUP_BY_LABELS, GROUP_BY_OBJECT

NAME = "goroutines"
HELP = ("Every goroutine: id, status, wait reason, innermost and user frame, creator, M and thread, "
        "stack size and headroom. Dead goroutines are left out unless --status dead asks for them.")

GROUP_BY = (GROUP_BY_OBJECT, GROUP_BY_LABELS)


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


def run(target: Target, args: argparse.Namespace) -> Outcome:
    status, function, labels, waiting_on = args.status, args.function, _labels(args), args.waiting_on
    limit = args.limit or 0
    if args.group:
        groups = goroutine_groups(target, status=status, function=function, labels=labels, waiting_on=waiting_on,
                                  limit=limit, group_by=args.group_by or ())
        return Outcome(NAME, groups, lines="groups")
    if not wants_json(args):
        return Outcome(NAME, goroutines(target, status=status, function=function, labels=labels,
                                        waiting_on=waiting_on, limit=limit))
    picked = iter_goroutines(target, status=status, function=function, labels=labels, waiting_on=waiting_on)
    count = 0

    def produce(emit: Emitter) -> None:
        # Each goroutine is written as soon as it is decoded; only the count is kept.
        nonlocal count
        for g in picked:
            count += 1
            if not limit or count <= limit:
                emit(g.to_json())

    return Outcome(NAME, None, document={"goroutines": Stream(produce), "total": Deferred(lambda: count)},
                   lines="goroutines")


def _labels(args: argparse.Namespace) -> dict[str, str]:
    out = {}
    for item in args.label or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadInputError(f"--label: expected KEY=VALUE, not {item!r}")
        out[key] = value
    return out


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
