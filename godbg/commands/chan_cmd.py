"""`chan EXPR`: a channel decoded — length, capacity, closed, element type, the buffered
values oldest first, the goroutines waiting to receive, and those waiting to send with
the value each sends."""

from __future__ import annotations

import argparse

from godbg.answers.values import chan
from godbg.commands.base import Outcome
from godbg.program.target import Target

NAME = "chan"
HELP = ("A channel decoded: len, cap, closed, element type, the buffered values oldest first, the "
        "goroutines waiting to receive and those waiting to send with the value each sends. EXPR is a "
        "Go global (main.jobs), a field path inside one (main.srv.jobs), a local of the selected frame "
        "(gdb, delve), or 0xADDR (the hchan a channel value points to).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expr", metavar="EXPR", help="main.jobs, main.srv.jobs, a local variable, or 0xADDR")


def run(target: Target, args: argparse.Namespace) -> Outcome:
    return Outcome(NAME, chan(target, args.expr))


DOC = """
## JSON

```json
{"expr": "main.jobs", "type": "chan string", "address": "0xc000096120", "len": 4, "cap": 4,
 "closed": false, "elem_type": "string", "buffer": ["a", "b", "c", "d"],
 "recv_waiters": [], "send_waiters": [{"goroutine": 14, "value": "e"}]}
```

`buffer` holds the buffered values oldest first (the next receive gets the first), in the value
rules of `print`; `recv_waiters` the goroutines blocked receiving (a select counts), in queue order;
`send_waiters` the goroutines blocked sending, each with the value it sends.
"""
