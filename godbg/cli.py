"""`godbg core BIN CORE COMMAND …` and `godbg dlv …`: godbg without a debugger, or
driving delve. Bad input ends with one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from godbg import __version__
from godbg.commands.base import ArgumentParser, HelpShown
from godbg.commands.execute import command_names, execute
from godbg.errors import EXIT_BAD_INPUT, EXIT_BUG, EXIT_OK, GodbgError, bug_message
from godbg.render.theme import terminal_theme


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="godbg",
        description="See inside the Go runtime: maps, goroutines, stacks and panics, "
        "from a core file, inside gdb, or through delve.",
        epilog="commands: " + ", ".join(command_names()) + ". In gdb: source gdbinit.py, then `help go`.",
    )
    parser.add_argument("--version", action="version", version=f"godbg {__version__}")
    sub = parser.add_subparsers(dest="mode", metavar="MODE")
    core = sub.add_parser(
        "core", help="run a command on a core file, no debugger needed",
        usage="godbg core BIN CORE COMMAND …\n       godbg core BIN --coredump PID|latest COMMAND …",
    )
    core.add_argument("binary", help="the Go executable that dumped the core")
    core.add_argument("core", help="the core file (kernel dump or gdb gcore; plain or compressed with "
                      "zstd, xz/lzma, lz4 or gzip); left out with --coredump")
    core.add_argument("--coredump", metavar="PID|latest",
                      help="take the core from systemd-coredump's store (coredumpctl): the core of "
                      "process PID, or the latest core of BIN (else the latest of all)")
    core.add_argument("command", nargs=argparse.REMAINDER, help="a godbg command and its arguments")
    dlv = sub.add_parser("dlv", help="drive delve: core BIN CORE CMD…, exec BIN [-- ARGS], attach PID")
    dlv.add_argument("rest", nargs=argparse.REMAINDER, help="core BIN CORE COMMAND… | exec BIN [-- ARGS] | attach PID")
    sub.add_parser("gdbinit", help="print the path of gdbinit.py to `source` in gdb")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except HelpShown:
        return EXIT_OK
    except GodbgError as e:
        _debug_traceback()
        message = str(e)
        print(message if message.startswith("godbg") else f"godbg: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("godbg: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # a bug in godbg: still one line, the traceback on request
        _debug_traceback()
        print(bug_message(e), file=sys.stderr)
        return EXIT_BUG


def _debug_traceback() -> None:
    if os.environ.get("GODBG_DEBUG") == "1":
        traceback.print_exc()


def _main(argv: list[str]) -> int:
    parser = build_parser()
    if argv[:1] == ["--version"]:
        print(f"godbg {__version__}")
        return EXIT_OK
    if argv[:1] in (["-h"], ["--help"]) or not argv:
        print(parser.format_help(), end="")
        return EXIT_OK if argv else EXIT_BAD_INPUT
    args = parser.parse_args(argv)
    if args.mode == "gdbinit":
        print(gdbinit_path())
        return EXIT_OK
    if args.mode == "core":
        from godbg.backends.core.corefile import open_core_target

        if args.coredump is not None:  # no CORE: the first word is the command
            args.command = [args.core, *args.command]
        if not args.command:
            raise GodbgError("no command given; commands: " + ", ".join(command_names()))
        if args.coredump is not None:
            from godbg.backends.core.coredumpctl import with_coredump

            target = with_coredump(args.coredump, args.binary, lambda core: open_core_target(args.binary, core))
        else:
            target = open_core_target(args.binary, args.core)
        return execute(target, args.command, terminal_theme(), out=_stdout_writer()).emit()
    if args.mode == "dlv":
        from godbg.backends.delve.cli import run_dlv

        return run_dlv(args.rest)
    raise GodbgError(f"unknown mode {args.mode!r}")


def _stdout_writer() -> Callable[[str], None]:
    """Where streamed output goes: stdout, flushed piece by piece (so `| head` and `jq`
    see the first goroutines while the rest is decoded)."""
    write = sys.stdout.write
    flush = sys.stdout.flush

    def out(text: str) -> None:
        write(text)
        flush()

    return out


def gdbinit_path() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(os.path.dirname(here), "gdbinit.py"), os.path.join(here, "gdbinit.py")):
        if os.path.exists(candidate):
            return candidate
    return os.path.join(here, "gdbinit.py")
