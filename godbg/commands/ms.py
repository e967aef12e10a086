"""`ms`: every M (OS thread the runtime made): its id, thread id, the goroutine it runs,
its g0 and gsignal stack bounds, SP, use and headroom."""

from __future__ import annotations

import argparse

from godbg.commands.base import Outcome
from godbg.program.target import Target
from godbg.runtime.ms import ms

NAME = "ms"
HELP = ("Every M: id, OS thread id, the goroutine it runs, g0 and gsignal stack bounds, SP, use and "
        "headroom to the stack guard.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(target: Target, args: argparse.Namespace) -> Outcome:
    return Outcome(NAME, ms(target))


DOC = """
## JSON

```json
{"ms": [{"id": 0, "thread": 5142, "curg": 1, "in_signal_handler": true, "crashing": true,
         "g0": {"lo": 1, "hi": 2, "sp": 3, "size": 65536, "used": 400, "guard_headroom": 64000},
         "gsignal": {"lo": 4, "hi": 5, "sp": 6, "size": 32768, "used": 3000, "guard_headroom": 28800}}]}
```

SP comes from the thread's registers where the target has them (for g0 through the signal frame
when the thread is in a handler), otherwise from `g0.sched.sp`; `null` when the stack is not in
use. `crashing`: the thread the fatal signal was delivered to.
"""
