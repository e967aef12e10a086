"""The `(godbg-dlv)` prompt of `godbg dlv exec|attach`: godbg commands run on the delve
target, every other line goes to delve's own terminal client (passthrough.py) and
prints what delve prints. `quit`, `exit`, `q` and end of input detach and stop dlv."""

from __future__ import annotations

import os
import shlex
import sys
import threading
import traceback
from types import ModuleType

from godbg.backends.delve.client import DelveError, DelveServer
from godbg.backends.delve.dlvtarget import relocate_live
from godbg.backends.delve.passthrough import DelveTerminal, to_stdout
from godbg.commands import registry
from godbg.commands.execute import execute
from godbg.errors import GodbgError, TargetError, bug_message
from godbg.program.target import Target
from godbg.render.theme import terminal_theme

PROMPT = "(godbg-dlv) "
QUIT = ("quit", "exit", "q")
# Send a line to delve as is, even when a godbg command has its name (goroutines, bt).
DLV_PREFIX = "dlv"
HISTORY = os.path.join(os.path.expanduser("~"), ".cache", "godbg", "dlv_history")
HISTORY_LINES = 1000


def help_text() -> str:
    names = [m.NAME for m in registry.available()]
    width = max((len(n) for n in names), default=4)
    lines = ["godbg commands (on the stopped program; `CMD --help` for each):"]
    for m in registry.available():
        lines.append(f"  {m.NAME:<{width}}  {m.HELP}")
    lines += [
        "",
        "Everything else goes to delve's own terminal client and prints what delve prints:",
        "break/b, continue/c, next/n, step/s, stepout, print/p, locals, args, list, stack,",
        "goroutine, frame/up/down, breakpoints, clear, restart, config, … (`dlv help`).",
        "`dlv LINE` sends LINE to delve even where godbg has a command of that name",
        f"(`dlv goroutines`, `dlv bt`). Ctrl-C stops a running program. "
        f"{'/'.join(QUIT)} or end of input leaves",
        "(an exec'd program is killed, an attached one is left running).",
    ]
    return "\n".join(lines) + "\n"


class Repl:
    def __init__(self, server: DelveServer, target: Target) -> None:
        self.server = server
        self.target = target
        self.terminal = DelveTerminal(server.dlv, server.listen_address)
        self.theme = terminal_theme()
        self.last_line = ""
        self._readline: ModuleType | None = _setup_readline()

    def __enter__(self) -> Repl:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.terminal.close()
        if self._readline is not None:
            try:
                os.makedirs(os.path.dirname(HISTORY), exist_ok=True)
                self._readline.set_history_length(HISTORY_LINES)
                self._readline.write_history_file(HISTORY)
            except OSError:
                pass

    def loop(self) -> int:
        print(f"godbg: delve {self.server.kind} {self.target.binary.path}; `help` lists commands", flush=True)
        while True:
            try:
                line = input(PROMPT)
            except EOFError:
                print(flush=True)
                return 0
            except KeyboardInterrupt:
                print(flush=True)
                continue
            line = line.strip()
            if not line:
                line = self.last_line  # delve's habit: enter repeats the last command
                if not line:
                    continue
            self.last_line = line
            if line.split()[0] in QUIT:
                return 0
            try:
                self.one(line)
            except KeyboardInterrupt:
                print("godbg: interrupted", file=sys.stderr, flush=True)
            except GodbgError as e:
                _debug_traceback()
                print(f"godbg: {e}", file=sys.stderr, flush=True)
            except Exception as e:  # a bug in godbg must not end the session
                _debug_traceback()
                print(bug_message(e), file=sys.stderr, flush=True)

    def one(self, line: str) -> None:
        word = line.split()[0]
        if word in ("help", "h") and len(line.split()) == 1:
            sys.stdout.write(help_text())
            return
        if word == DLV_PREFIX:
            self.to_delve(line[len(DLV_PREFIX):].strip())
            return
        if registry.find(word) is not None:
            self.godbg(shlex.split(line))
            return
        if word == "config" and "-save" in line.split():
            raise GodbgError("`config -save` would save godbg's prompt into delve's config; run it in plain dlv")
        self.to_delve(line)

    def godbg(self, argv: list[str]) -> None:
        try:
            state = self.server.state(nonblocking=True)
        except DelveError as e:  # delve answers State of an exited program with an error
            raise TargetError(f"{e}: `restart` runs it again") from None
        if state.get("Running"):
            raise TargetError("the program is running: Ctrl-C or a breakpoint first")
        if state.get("exited"):
            raise TargetError("the program has exited: `restart` (exec) to run it again")
        relocate_live(self.server, self.target.binary)
        printed = execute(self.target, argv, self.theme)
        sys.stdout.write(printed.stdout)
        sys.stdout.flush()
        if printed.stderr:
            sys.stderr.write(printed.stderr)
            sys.stderr.flush()

    def to_delve(self, line: str) -> None:
        try:
            self.terminal.run(line, to_stdout, on_interrupt=self._halt, answer=_answer)
        finally:
            # Whatever delve did, the program may have run or the selection moved: read
            # afresh next time.
            self.target.invalidate()
            resolver = self.target.local_resolver
            if resolver is not None and hasattr(resolver, "frame"):
                resolver.frame = self.terminal.frame

    def _halt(self) -> None:
        """Ctrl-C while delve runs the program: ask the server to stop it, from a thread
        (the reply comes only once the running command has returned)."""
        print("\ngodbg: stopping the program", file=sys.stderr, flush=True)

        def halt() -> None:
            try:
                self.server.halt()
            except GodbgError:
                pass

        threading.Thread(target=halt, daemon=True).start()


def _answer(_question: str) -> str:
    try:
        return input()
    except EOFError:
        return "n"


def _setup_readline() -> ModuleType | None:
    if not sys.stdin.isatty():
        return None
    try:
        import readline
    except ImportError:
        return None
    try:
        readline.read_history_file(HISTORY)
    except OSError:
        pass
    return readline


def _debug_traceback() -> None:
    if os.environ.get("GODBG_DEBUG") == "1":
        traceback.print_exc()
