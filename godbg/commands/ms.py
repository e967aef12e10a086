"""`ms`: every M (OS thread the runtime made): its id, thread id, the goroutine it runs,
its g0 and gsignal stack bounds, SP, use and headroom."""

from __future__ import annotations

import argparse

from godbg.commands.base import Outcome
from godbg.runtime.ms import ms
from godbg.target.target import Target

NAME = "ms"
HELP = ("Every M: id, OS thread id, the goroutine it runs, g0 and gsignal stack bounds, SP, use and "
        "headroom to the stack guard.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(target: Target, args: argparse.Namespace) -> Outcome:
    return Outcome(NAME, {"ms": ms(target)})
