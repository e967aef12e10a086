"""`leaks`: goroutines that can never run again — blocked on a channel, mutex, RWMutex,
WaitGroup or Cond that no running or runnable goroutine, no global and nothing reachable
from those can reach (the rule of Go 1.26's goroutine leak profile), found by a
reachability pass over the core — and whether the whole program is deadlocked."""

from __future__ import annotations

import argparse

from godbg.answers.waits import leaks
from godbg.commands.base import Outcome, add_jsonl_flag
from godbg.program.target import Target

NAME = "leaks"
HELP = ("Goroutines that can never run again: blocked on an object no runnable goroutine, global or "
        "anything reachable from them can reach (Go 1.26's leak rule, by a reachability pass over "
        "memory); deadlock when no goroutine can ever run again. Works on every supported release.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_jsonl_flag(parser, "each leaked goroutine")


def run(target: Target, args: argparse.Namespace) -> Outcome:
    return Outcome(NAME, leaks(target), lines="leaked")


DOC = """
## JSON

```json
{"leaked": [{"goroutine": 40,
             "reason": "chan receive: the object it waits on is reachable only from blocked goroutines",
             "waiting_on": {"kind": "chan receive", "address": "0xc000080300",
                            "object": "goroutine 40 main.leakRecv.func1", "since_ns": null}}],
 "deadlock": false, "method": "reachability over the core …",
 "stats": {"goroutines": 30, "blocked_candidates": 25, "heap_spans": 60, "marked_objects": 900,
           "scanned_words": 40000}}
```

A goroutine counts as leaked when it waits on a channel (or in a select: on all its channels), a
sync.Mutex, RWMutex, WaitGroup or Cond, and that object is reachable neither from a global nor
from the live stack of a goroutine that can run (or may yet run), through the heap. A receive or
send on a nil channel and a select with no cases always leak. `deadlock` is true when every
goroutine of the program (the runtime's own left aside) is blocked that way.

Heap objects are scanned conservatively (every word may be a pointer), so godbg may report
fewer leaks than Go's own detector, not more.

## JSON Lines

`--jsonl` prints each item of `leaked` on a line of its own and nothing else on stdout;
`deadlock`, `method`, `stats` and warnings are not printed (warnings go to stderr).
"""
