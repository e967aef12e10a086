"""`waits [--min N]`: who waits for whom — every object goroutines block on (channels,
mutexes, RWMutexes, WaitGroups, Conds, semaphores) with its waiters and its state,
most waiters first."""

from __future__ import annotations

import argparse

from godbg.answers.waits import waits
from godbg.commands.base import Outcome, positive_int
from godbg.program.target import Target

NAME = "waits"
HELP = ("Who waits for whom: every channel, mutex, RWMutex, WaitGroup, Cond and semaphore that "
        "goroutines block on, with its waiters and its state, most waiters first.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--min", metavar="N", type=positive_int, default=1,
                        help="only objects with at least N waiters (default 1)")


def run(target: Target, args: argparse.Namespace) -> Outcome:
    return Outcome(NAME, waits(target, min_waiters=args.min))


DOC = """
## JSON

```json
{"objects": [
  {"kind": "mutex", "address": "0x70f440", "object": "main.mu", "waiters": [4, 5, 6],
   "state": {"locked": true, "woken": false, "starving": false, "waiters": 3}},
  {"kind": "chan", "address": "0xc000080060", "object": "main.jobs", "waiters": [9, 10],
   "state": {"len": 0, "cap": 0, "closed": false}}
]}
```

- `kind`: `chan`, `mutex`, `rwmutex`, `waitgroup`, `cond` or `semaphore`; a goroutine in a select
  waits on each of its channels.
- `object`: the global (or field path) that holds the object, else the goroutine frame whose stack
  holds it, else the heap object's type.
- `state`: a mutex's `locked`, `woken`, `starving` bits and the `waiters` count in its state word;
  an RWMutex's `writer` (its inner mutex), `reader_count`, `reader_wait`; a WaitGroup's `counter`
  and `waiters`; a channel's `len`, `cap`, `closed`; a semaphore's `value`.
"""
