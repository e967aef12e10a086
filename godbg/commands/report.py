"""`report`: the whole postmortem in one go — what happened first, then the evidence:
build and signal, the panic chain or fatal error, the crashing goroutine's frames,
goroutine groups, headroom outliers and the Ms. Each section is another command's
answer; a section that cannot be read becomes a note, not a failed report."""

from __future__ import annotations

import argparse

from godbg.answers.report import DEFAULT_GROUPS, DEFAULT_HEADROOM, report
from godbg.commands.base import Outcome, positive_int
from godbg.program.target import Target

NAME = "report"
HELP = ("Everything a postmortem needs in one go: what happened (panic chain or fatal error), Go version "
        "and build, signal and crashing thread, the crashing goroutine's frames, goroutine groups "
        "(largest first), headroom outliers and the Ms.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--groups", metavar="N", type=positive_int, default=DEFAULT_GROUPS,
                        help=f"show at most N goroutine groups (default {DEFAULT_GROUPS}; 0: all)")
    parser.add_argument("--headroom", metavar="N", type=positive_int, default=DEFAULT_HEADROOM,
                        help=f"show the N goroutines closest to a stack overflow (default {DEFAULT_HEADROOM})")


def run(target: Target, args: argparse.Namespace) -> Outcome:
    return Outcome(NAME, report(target, groups=args.groups, headroom_top=args.headroom))
