"""What every command is: an argparse parser (the one source of its help and of
docs/commands/*.md) and a ``run(target, args) -> Outcome``. Backends (core mode, gdb,
delve) only build a Target, parse arguments with these parsers and print the Outcome."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from godbg.errors import BadInputError
from godbg.program.target import Target
from godbg.results.base import Result


@dataclass
class Outcome:
    """A command's answer. ``result`` is the typed answer (``godbg.results``): the text is
    rendered from it and its ``to_json()`` is the --json document. A long listing written
    as it is decoded has no result in --json/--jsonl mode: ``document`` is then the
    --json document with its long list a :class:`~godbg.render.jsonout.Stream`, each
    item the ``to_json()`` of one typed record."""

    command: str
    result: Result | None
    status: int = 0  # exit status: 1 when a --check found a problem
    warnings: list[str] = field(default_factory=list)
    # The command already wrote its output as it went (`panic replay`): print nothing more.
    streamed: bool = False
    # The key of the --json document whose list `--jsonl` prints, one item a line (see add_jsonl_flag).
    lines: str | None = None
    document: dict[str, Any] | None = None

    def json_data(self) -> dict[str, Any]:
        """The --json document (without warnings); may hold Streams."""
        if self.document is not None:
            return self.document
        if self.result is None:
            raise AssertionError(f"{self.command}: an outcome with neither a result nor a document")
        return self.result.to_json()


class CommandModule(Protocol):
    NAME: str
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, target: Target, args: argparse.Namespace) -> Outcome: ...


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line (BadInputError, exit 2)
    instead of printing usage and calling sys.exit (fatal inside gdb)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise BadInputError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            raise BadInputError(message.strip())
        raise HelpShown()


class HelpShown(Exception):
    """--help was asked for and printed; not an error."""


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout, nothing else")


def add_jsonl_flag(parser: argparse.ArgumentParser, what: str) -> None:
    """`--jsonl` for a command whose answer is one long list: the command's run() returns
    ``Outcome(..., lines=KEY)`` naming the key of that list in its --json document. To
    give another command --jsonl: call this in its add_arguments and set ``lines``."""
    parser.add_argument("--jsonl", action="store_true",
                        help=f"JSON Lines: {what}, one JSON object a line, written as they are decoded "
                             "(each line is one item of the list --json prints; nothing else is printed "
                             "on stdout, warnings go to stderr)")


def wants_json(args: argparse.Namespace) -> bool:
    """--json or --jsonl: machine output (the defaults that --json implies apply)."""
    return bool(getattr(args, "json", False) or getattr(args, "jsonl", False))


def positive_int(text: str) -> int:
    try:
        n = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return n


def make_parser(module: CommandModule, prog: str) -> ArgumentParser:
    parser = ArgumentParser(prog=prog, description=module.HELP, add_help=True)
    module.add_arguments(parser)
    add_json_flag(parser)
    return parser


Runner = Callable[[Target, argparse.Namespace], Outcome]
