"""`go …` in gdb: a prefix command whose subcommands are godbg's commands, parsed with
the same argparse parsers as core mode. Errors become gdb.GdbError (one line, no
traceback, gdb keeps running)."""

from __future__ import annotations

import os
import traceback
from typing import Callable, TypeVar

import gdb

from godbg.backends.gdb.gdbtarget import SESSION
from godbg.commands import registry
from godbg.commands.base import CommandModule, make_parser
from godbg.commands.execute import execute
from godbg.errors import EXIT_BAD_INPUT, EXIT_BUG, GodbgError, bug_message
from godbg.render.theme import Theme

T = TypeVar("T")


def gdb_theme() -> Theme:
    if os.environ.get("NO_COLOR"):
        return Theme(False)
    try:
        return Theme(bool(gdb.parameter("style enabled")))
    except (gdb.error, RuntimeError):
        return Theme(False)


def run_guarded(fn: Callable[[], T]) -> T:
    """Run ``fn``; a godbg error (or a godbg bug) becomes one gdb error line, never a
    Python traceback or a crashed gdb. Sets $godbg_status to 2 on a godbg error, 3 on a bug."""
    try:
        return fn()
    except GodbgError as e:
        if os.environ.get("GODBG_DEBUG") == "1":
            traceback.print_exc()
        gdb.set_convenience_variable("godbg_status", EXIT_BAD_INPUT)
        raise gdb.GdbError(f"godbg: {e}") from None
    except gdb.GdbError:
        raise
    except Exception as e:  # a godbg bug must not take gdb down
        if os.environ.get("GODBG_DEBUG") == "1":
            traceback.print_exc()
        gdb.set_convenience_variable("godbg_status", EXIT_BUG)
        raise gdb.GdbError(bug_message(e)) from None


def run_command(argv: list[str]) -> int:
    """Run a godbg command line in gdb; sets $godbg_status to the exit status."""
    printed = run_guarded(lambda: execute(SESSION.target(), argv, gdb_theme(), prog_prefix="go"))
    if printed.stdout:
        gdb.write(printed.stdout)
    if printed.stderr:
        gdb.write(printed.stderr, gdb.STDERR)
    gdb.set_convenience_variable("godbg_status", printed.status)
    return printed.status


class GoPrefix(gdb.Command):
    """godbg: see inside the Go runtime (maps, goroutines, stacks, panics).

Every subcommand takes --json. `help go SUBCOMMAND` shows its arguments.
The exit status of the last go command is in $godbg_status (1: a --check found a problem).
gdb's own `go` alias of goto-bookmark stays available as `goto-bookmark`."""

    def __init__(self) -> None:
        super().__init__("go", gdb.COMMAND_USER, prefix=True)

    def invoke(self, arg: str, from_tty: bool) -> None:
        argv = gdb.string_to_argv(arg)
        if not argv:
            gdb.execute("help go")
            return
        run_command(argv)


def _make_subcommand(module: CommandModule) -> type:
    parser = make_parser(module, f"go {module.NAME}")
    doc = module.HELP + "\n\n" + parser.format_help()

    class Sub(gdb.Command):
        __doc__ = doc

        def __init__(self) -> None:
            super().__init__(f"go {module.NAME}", gdb.COMMAND_USER)

        def invoke(self, arg: str, from_tty: bool) -> None:
            self.dont_repeat()
            run_command([module.NAME, *gdb.string_to_argv(arg)])

    Sub.__name__ = f"Go_{module.NAME}"
    return Sub


def register() -> None:
    GoPrefix()
    for module in registry.available():
        _make_subcommand(module)()
