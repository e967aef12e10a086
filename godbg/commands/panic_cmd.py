"""`panic` and `panic replay`: the panic path of the panicking goroutine (a core or a
stopped program), and, live in gdb, a narration of it as it happens."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from godbg.answers.panic import panic
from godbg.commands.base import Outcome
from godbg.errors import BadInputError
from godbg.program.target import Target
from godbg.results.panic import ReplayEnd

NAME = "panic"
HELP = ("The panic path of the panicking goroutine (core or stopped live program): the panic chain "
        "oldest first as Go prints it, the deferred calls (heap, stack and open-coded) with their state, "
        "the goroutine's frames, and the message of a fatal runtime error. `panic replay` (live: gdb, "
        "`godbg dlv exec|attach`) "
        "runs on from here and narrates each panic, deferred call, recover and the end.")

DOC = """
## What it shows

- `panics`: oldest first, as Go's own `panic:` lines: `value` (errors and Stringers as the
  text `preprintpanics` made of them), `type` (the dynamic type the panic was raised with),
  `recovered`, `repanicked` (Go 1.25+), `goexit`.
- `defers`: each deferred call godbg can see, with the function that deferred it and a
  state: `pending` (still to run: a `_defer` record or a set deferBits bit), `running` (on
  the stack, called by a panic or by deferreturn), `ran` (an open-coded defer whose bit
  is clear). Heap and stack records are freed once run, so only open-coded ones show as `ran`.
- `fatal_error`: the message of a `throw`/`fatal` (read from the runtime's `printBacklog`),
  `fatal_function`: who threw it.

## `panic replay` (live: gdb, or `godbg dlv exec|attach`)

Places breakpoints (gdb's internal ones, or delve's through its JSON-RPC API; all removed
afterwards) on `runtime.gopanic`, the pending deferred
calls, `runtime.gorecover`, `runtime.recovery`, `runtime.fatalpanic`, `runtime.throw`/`fatal`
and `runtime.exit`, continues, and prints one event a line (`--json`: one object a line,
`{"event", "function", "value", …}`, closed by `{"event": "end", …}`): `panic`, `repanic`
(a panic raised after a recover), `defer`, `recovered`, `fatal`, `exit`. It stops at the
fatal end or, when a recover ends the panic, where the program runs on.
"""

REPLAY = "replay"
# How many stops `panic replay` handles before giving up (a loop of panics and recovers).
DEFAULT_MAX_EVENTS = 1000

# What a backend that can run the program installs on the Target: hook(target, args)
# runs the replay, writing each event as it happens, and returns the events.
ReplayHook = Callable[[Target, argparse.Namespace], list[dict[str, Any]]]

# The hook a backend offers for every target it makes (gdb's replay.register() sets it);
# a Target's own ``replay_hook`` attribute wins.
_replay_hook: ReplayHook | None = None


def set_replay_hook(hook: ReplayHook | None) -> None:
    global _replay_hook
    _replay_hook = hook


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=[REPLAY],
                        help="replay: run on and narrate the panic path as it happens "
                        "(live: gdb, godbg dlv exec|attach)")
    parser.add_argument("--max-events", type=int, default=DEFAULT_MAX_EVENTS, metavar="N",
                        help=f"replay: stop after N events (default {DEFAULT_MAX_EVENTS})")


def run(target: Target, args: argparse.Namespace) -> Outcome:
    if args.action == REPLAY:
        return replay(target, args)
    return Outcome(NAME, panic(target))


def replay(target: Target, args: argparse.Namespace) -> Outcome:
    if target.kind != "live":
        raise BadInputError("panic replay needs a live program (run or attach in gdb): "
                            f"this is a {target.kind} target; use `panic` to read the panic path of a core")
    hook: ReplayHook | None = target.replay_hook or _replay_hook
    if hook is None:
        raise BadInputError("panic replay runs in gdb and in `godbg dlv exec|attach` only "
                            "(this backend cannot run the program)")
    events = hook(target, args)
    # The events were written as they happened (one line, or one JSON object, each); the
    # outcome only says how it ended.
    last = events[-1] if events else {}
    return Outcome(NAME, ReplayEnd(last.get("event"), len(events)), streamed=True)
