"""`godbg dlv core BIN CORE COMMAND…` (one command, then delve is stopped),
`godbg dlv exec BIN [-- ARGS…]` and `godbg dlv attach PID [BIN]` (an interactive prompt:
see repl.py). Every way out — success, error, Ctrl-C, SIGTERM, SIGHUP — stops dlv."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from godbg.backends.core.compressed import open_core_file
from godbg.backends.delve.client import DelveServer
from godbg.backends.delve.dlvtarget import attached_executable, delve_target, open_core_facts
from godbg.commands import registry
from godbg.commands.execute import command_names, execute
from godbg.errors import BadInputError, TargetError
from godbg.program.binary import GoBinary
from godbg.render.theme import terminal_theme

USAGE = ("usage: godbg dlv core BIN CORE COMMAND… | godbg dlv exec BIN [-- ARGS…] | "
         "godbg dlv attach PID [BIN]")


def run_dlv(rest: list[str]) -> int:
    if not rest or rest[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if rest else 2
    mode, args = rest[0], rest[1:]
    with _exit_on_signals():
        if mode == "core":
            return _core(args)
        if mode == "exec":
            return _exec(args)
        if mode == "attach":
            return _attach(args)
    raise BadInputError(f"unknown dlv mode {mode!r}; {USAGE}")


def _core(args: list[str]) -> int:
    if len(args) < 2:
        raise BadInputError(f"dlv core needs BIN and CORE; {USAGE}")
    binary_path, core_path, command = args[0], args[1], args[2:]
    if not command or registry.find(command[0]) is None:
        # Checked before dlv starts; execute() says the same for a bad name.
        what = f"unknown command {command[0]!r}" if command else "no command given"
        raise BadInputError(f"{what}; commands: " + ", ".join(command_names()))
    binary = GoBinary(binary_path)
    core = open_core_facts(binary, core_path)
    try:
        # delve reads only plain cores: a compressed one goes as its decompressed copy
        with open_core_file(core_path) as plain:
            core_path = plain.name
        with DelveServer("core", [binary_path, core_path], kill_on_stop=False) as server:
            target = delve_target(server, binary, core)
            printed = execute(target, command, terminal_theme())
    finally:
        core.close()
    return printed.emit()


def _exec(args: list[str]) -> int:
    if not args or args[0] == "--":
        raise BadInputError(f"dlv exec needs BIN; {USAGE}")
    binary_path, program_args = args[0], args[1:]
    if program_args[:1] == ["--"]:
        program_args = program_args[1:]
    binary = GoBinary(binary_path)
    dlv_args = [binary_path, "--", *program_args] if program_args else [binary_path]
    return _interactive("exec", dlv_args, binary, kill_on_stop=True)


def _attach(args: list[str]) -> int:
    if not args or not args[0].isdigit():
        raise BadInputError(f"dlv attach needs a PID; {USAGE}")
    pid = int(args[0])
    if not os.path.exists(f"/proc/{pid}"):
        raise TargetError(f"no process {pid}")
    binary = GoBinary(args[1] if len(args) > 1 else attached_executable(pid))
    dlv_args = [str(pid), *args[1:2]]
    return _interactive("attach", dlv_args, binary, kill_on_stop=False)


def _interactive(kind: str, dlv_args: list[str], binary: GoBinary, *, kill_on_stop: bool) -> int:
    from godbg.backends.delve.repl import Repl
    from godbg.backends.delve.replay import replay_hook

    forward = (sys.stdout.buffer, sys.stderr.buffer)
    with DelveServer(kind, dlv_args, kill_on_stop=kill_on_stop, forward=forward) as server:
        target = delve_target(server, binary)
        target.replay_hook = replay_hook(server)
        with Repl(server, target) as repl:
            return repl.loop()


@contextmanager
def _exit_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind like an exit, so the `with` blocks stop dlv."""

    def leave(signo: int, _frame: object) -> None:
        raise SystemExit(128 + signo)

    previous = {s: signal.signal(s, leave) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
