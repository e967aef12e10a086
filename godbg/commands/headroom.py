"""`headroom`: per goroutine (and per g0/gsignal) stack size, use, headroom to the guard
and to the limit; `--check BYTES` exits 1 when a goroutine is closer than BYTES to a
fatal stack overflow."""

from __future__ import annotations

import argparse

from godbg.answers.headroom import headroom, headroom_listing
from godbg.commands.base import Outcome, positive_int
from godbg.program.target import Target
from godbg.render.jsonout import Emitter, Stream
from godbg.results.headroom import Headroom

NAME = "headroom"
HELP = ("Stack size, use and headroom per goroutine (and per g0/gsignal stack): the distance to the stack "
        "guard (the next growth) and to the limit (a fatal stack overflow), doublings left, the largest frame, "
        "recursion. --check BYTES exits 1 when a goroutine is closer than BYTES to the limit.")
DOC = """## The figures

- `guard_headroom`: from the goroutine's SP down to its stack guard (`stack.lo + stack_guard`):
  what a function may still push before the stack must grow.
- `limit_headroom`: `max_stack - used - stack_guard`, where `max_stack` is the largest power of two
  not above `maxstacksize` (and `maxstackceiling`): how much more the stack can take before growing
  would pass the limit and the runtime throws "stack overflow".
- `maxstacksize` is read from the program's memory: 1,000,000,000 bytes on 64-bit unless the program
  called `debug.SetMaxStack`. The often-quoted "1 MB goroutine stack limit" is the value *before*
  `runtime.main` runs; a running program's limit is 1 GB (so the largest stack is 512 MiB).
- `doublings_left`: how many more times the stack can double before reaching `max_stack`.
- `deepest_function`: the innermost function outside the runtime; `repeated`: the function with the
  most frames on the stack (recursion); `largest_frame`: the biggest frame and its size in bytes.
- Map keys and values over 128 bytes live on the heap behind a pointer: a big map key never grows a
  goroutine's stack.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--top", metavar="N", type=positive_int,
                        help="list only the N goroutines closest to the limit (0: all)")
    parser.add_argument("--check", metavar="BYTES", type=positive_int,
                        help="exit status 1, with one finding a line, when any goroutine's limit_headroom "
                             "is below BYTES")


def run(target: Target, args: argparse.Namespace) -> Outcome:
    top = args.top or None
    if args.json and top is None:
        # Every goroutine: written one at a time, never all made at once.
        answer, goroutines = headroom_listing(target, check=args.check)

        def produce(emit: Emitter) -> None:
            for record in goroutines.json():
                emit(record)

        document = answer.to_json()
        document["goroutines"] = Stream(produce)
        return Outcome(NAME, None, status=_status(answer), document=document)
    answer = headroom(target, top=top, check=args.check)
    return Outcome(NAME, answer, status=_status(answer))


def _status(answer: Headroom) -> int:
    """1 when --check found a goroutine too close to the limit."""
    return 1 if answer.check is not None and answer.check.findings else 0
