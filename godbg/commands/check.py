"""`check`: rules for CI over what the runtime knew. Exit status 0 when every rule holds, 1
with one finding a line when one does not, 2 when a rule cannot be evaluated."""

from __future__ import annotations

import argparse

from godbg.check.junit import write_junit
from godbg.check.rules import evaluate
from godbg.check.settings import Rules, load_rules_file, parse_duration, parse_size
from godbg.commands.base import Outcome, positive_int
from godbg.errors import BadInputError
from godbg.program.target import Target

NAME = "check"
HELP = ("Rules for CI: exit status 0 when every rule holds, 1 with one finding a line when one does not, "
        "2 for bad input. Rules come from the options and from a TOML file (--rules); the options win.")
DOC = """## Rules

| option | rules-file key | fails when |
|---|---|---|
| `--max-goroutines N` | `max-goroutines = N` | more than N goroutines (dead ones not counted, as in `info`) |
| `--headroom BYTES` | `headroom = "64MiB"` | a goroutine's `limit_headroom` (see `headroom`) is below BYTES |
| `--no-leaks` | `no-leaks = true` | a goroutine is leaked, or the program is deadlocked (see `leaks`) |
| `--no-panic` | `no-panic = true` | a panic that was not recovered, or a fatal error |
| `--max-wait DURATION` | `max-wait = "5m"` | a goroutine has been blocked longer than DURATION |

Sizes are bytes, or with a binary unit (`64KiB`, `16MiB`); durations are written as Go writes
them (`90s`, `5m`, `1h30m`). A rules file holds the keys at its top level or in a `[check]` table.

`--max-wait` measures a wait as Go's own traceback does, from the time the runtime stamped on the
goroutine at the first garbage collection after it blocked, to the latest time the runtime wrote
down (the last GC, sysmon's last network poll): a lower bound, and a wait that began after the
last GC is not measured.

`--json`: `{"passed": bool, "findings": [{"rule", "goroutine"?, "message"}], "rules": [{"rule",
"setting", "passed"}]}`. `--junit FILE` writes JUnit XML with one testcase per rule.
"""


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except BadInputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _duration(text: str) -> int:
    try:
        return parse_duration(text)
    except BadInputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-goroutines", metavar="N", type=positive_int,
                        help="fail when there are more than N goroutines")
    parser.add_argument("--headroom", metavar="BYTES", type=_size,
                        help="fail when a goroutine is closer than BYTES to a fatal stack overflow")
    parser.add_argument("--no-leaks", action="store_true",
                        help="fail when a goroutine is leaked or all are deadlocked")
    parser.add_argument("--no-panic", action="store_true",
                        help="fail on a panic that was not recovered, or a fatal error")
    parser.add_argument("--max-wait", metavar="DURATION", type=_duration,
                        help="fail when a goroutine has been blocked longer than DURATION (90s, 5m, 1h)")
    parser.add_argument("--rules", metavar="FILE.toml", help="read rules from a TOML file (the options win)")
    parser.add_argument("--junit", metavar="FILE", help="also write the result as JUnit XML, one testcase per rule")


def rules_from_args(args: argparse.Namespace) -> Rules:
    given = Rules(max_goroutines=args.max_goroutines, headroom=args.headroom, no_leaks=args.no_leaks,
                  no_panic=args.no_panic, max_wait=args.max_wait)
    rules = load_rules_file(args.rules).merged(given) if args.rules else given
    if rules.empty:
        raise BadInputError("check: no rule given (--max-goroutines, --headroom, --no-leaks, --no-panic, "
                            "--max-wait or --rules FILE.toml)")
    return rules


def run(target: Target, args: argparse.Namespace) -> Outcome:
    report = evaluate(target, rules_from_args(args))
    if args.junit:
        write_junit(args.junit, report, target.binary.path)
    return Outcome(NAME, report, status=0 if report.passed else 1)
