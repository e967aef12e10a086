"""Run one godbg command line against a Target: parse with the command's parser, run,
render. Shared by core mode, gdb and delve so they print the same thing."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from godbg.commands import registry
from godbg.commands.base import CommandModule, HelpShown, Outcome, make_parser
from godbg.errors import BadInputError, GodbgError
from godbg.program.target import Target
from godbg.render.output import to_text, warning_lines, write_json, write_jsonl
from godbg.render.theme import Theme
from godbg.runtime import consistency, version


@dataclass
class Printed:
    stdout: str
    stderr: str
    status: int
    outcome: Outcome | None = None

    def emit(self) -> int:
        """Write to this process's stdout/stderr (the command-line backends); the exit status."""
        if self.stdout:
            sys.stdout.write(self.stdout)
            sys.stdout.flush()
        if self.stderr:
            sys.stderr.write(self.stderr)
        return self.status


# runtime.main lives in $GOROOT/src/runtime/proc.go in every supported release.
_RUNTIME_MAIN = "runtime.main"
_RUNTIME_MAIN_FILE = "/src/runtime/proc.go"


def with_program_context(theme: Theme, target: Target) -> Theme:
    """The theme, told the program's main module and GOROOT (for colour and short paths)."""
    if theme.main_module or theme.goroot:
        return theme
    try:
        main_module = target.binary.buildinfo.main_path
        tab = target.binary.pclntab
        f = tab.func_by_name(_RUNTIME_MAIN)
        file = tab.pcline(f, f.entry)[0] if f is not None else ""
    except GodbgError:
        return theme
    goroot = file[: -len(_RUNTIME_MAIN_FILE)] if file.endswith(_RUNTIME_MAIN_FILE) else ""
    return replace(theme, main_module=main_module, goroot=goroot)


def command_names() -> list[str]:
    return registry.names()


def execute(target: Target, argv: Sequence[str], theme: Theme, prog_prefix: str = "godbg",
            out: Callable[[str], None] | None = None) -> Printed:
    """Parse and run ``argv`` (command name first). GodbgError propagates to the caller,
    which prints it as one line in its own way (stderr + exit 2, or gdb.GdbError).
    With ``out``, --json and --jsonl output goes there as it is produced (a 100,000
    goroutine listing is never held whole) and ``Printed.stdout`` holds only the rest."""
    if not argv:
        raise BadInputError("no command given; commands: " + ", ".join(command_names()))
    name, rest = argv[0], list(argv[1:])
    module = registry.find(name)
    if module is None:
        raise BadInputError(f"unknown command {name!r}; commands: " + ", ".join(command_names()))
    parser = make_parser(module, f"{prog_prefix} {name}")
    try:
        args = parser.parse_args(rest)
    except HelpShown:
        return Printed(parser.format_help(), "", 0)
    version.gate(target)
    # Decoders make millions of small objects that are never cyclic garbage; the cyclic
    # collector would spend a third of a 100,000-goroutine listing walking them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run_and_render(module, target, args, theme, out)
    finally:
        if collecting:
            gc.enable()


def _run_and_render(module: CommandModule, target: Target, args: argparse.Namespace, theme: Theme,
                    out: Callable[[str], None] | None) -> Printed:
    consistency.check(target)  # never answer from memory that is not this binary's
    outcome = module.run(target, args)
    theme = with_program_context(theme, target)
    parts: list[str] = []
    sink = out if out is not None else parts.append

    def all_warnings() -> list[str]:
        # Warnings found while a streamed document was written count too.
        return list(dict.fromkeys(outcome.warnings + target.warnings))

    warnings_in_document = False  # --json carries them in its "warnings" key
    if outcome.streamed:
        text = ""
    elif getattr(args, "jsonl", False) and outcome.lines is not None:
        write_jsonl(outcome.json_data()[outcome.lines], sink)
        text = "".join(parts)
    elif getattr(args, "json", False):
        write_json(outcome.json_data(), sink, all_warnings)
        sink("\n")
        text = "".join(parts)
        warnings_in_document = True
    else:
        if outcome.result is None:
            raise AssertionError(f"{outcome.command}: text asked for, but the command gave no typed result")
        text = to_text(outcome.command, outcome.result, theme)
    outcome.warnings = all_warnings()
    stderr = "" if warnings_in_document else "\n".join(warning_lines(outcome.warnings, theme))
    if text and not text.endswith("\n"):
        text += "\n"
    if stderr:
        stderr += "\n"
    return Printed(text, stderr, outcome.status, outcome)
