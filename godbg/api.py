"""The public Python API: a Program over a core file, a delve session or the gdb inferior,
whose methods answer what the commands answer, as typed frozen dataclasses
(``godbg.results``) whose ``.to_json()`` is the command's JSON document.

    import godbg
    with godbg.open_core("./app", "./core") as prog:
        for g in prog.goroutines():
            print(g.id, g.status, g.wait_reason)

The Program passes the same version gate as every command (``runtime/version.py``) and runs
the same code as the command line, so an answer here and ``godbg core … --json`` agree."""

from __future__ import annotations

import argparse
from typing import Any, Callable, Optional, TypeVar

from godbg.answers import info as answers_info
from godbg.check.rules import CheckReport, evaluate, runtime_now
from godbg.check.settings import Rules
from godbg.commands import registry
from godbg.commands.base import Outcome, make_parser
from godbg.errors import BadInputError
from godbg.program.target import Target
from godbg.render.jsonout import materialize
from godbg.results import (
    Backtrace,
    Goroutine,
    Goroutines,
    Headroom,
    Info,
    MapContents,
    Ms,
    PanicPath,
)
from godbg.runtime import ms as runtime_ms
from godbg.runtime import version

_R = TypeVar("_R")


class Program:
    """One Go program as godbg sees it. Answers are read when asked for and kept until
    the program runs again (a live target: ``invalidate()``)."""

    def __init__(self, target: Target, close: Optional[Callable[[], None]] = None) -> None:
        self.target = target
        self._close = close
        version.gate(target)

    # --- lifetime --------------------------------------------------------------------

    def close(self) -> None:
        """Stop what the Program started (a delve server); a core Program has nothing to stop."""
        if self._close is not None:
            close, self._close = self._close, None
            close()

    def __enter__(self) -> Program:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def invalidate(self) -> None:
        """The live program ran: forget what was read from it."""
        self.target.invalidate()

    @property
    def warnings(self) -> list[str]:
        """What the answers so far should carry (a newer Go release, unreadable goroutines …)."""
        return list(self.target.warnings)

    # --- the commands ----------------------------------------------------------------

    def _run(self, command: str, *argv: str) -> Outcome:
        module = registry.find(command)
        if module is None:
            raise BadInputError(f"this godbg has no {command} command")
        args: argparse.Namespace = make_parser(module, command).parse_args([*argv, "--json"])
        return module.run(self.target, args)

    def _json(self, command: str, *argv: str) -> dict[str, Any]:
        data: dict[str, Any] = materialize(self._run(command, *argv).json_data())  # streamed lists, decoded now
        return data

    def info(self) -> Info:
        return answers_info.info(self.target)

    def goroutines(self, *, status: Optional[str] = None, function: Optional[str] = None) -> Goroutines:
        """Every goroutine (dead ones only with ``status="dead"``), as `goroutines`;
        ``status`` and ``function`` are its --status and --function filters."""
        argv = (["--status", status] if status else []) + (["--function", function] if function else [])
        d = self._json("goroutines", *argv)
        gs = tuple(Goroutine.from_json(g, self.backtrace) for g in d["goroutines"])
        return Goroutines(d, gs, d.get("total", len(gs)))

    def backtrace(self, goid: int, *, full: bool = False) -> Backtrace:
        return Backtrace.from_json(self._json("bt", str(goid), *(["--full"] if full else [])))

    def m_backtrace(self, mid: int) -> Backtrace:
        """The frames on M ``mid``'s g0 (system) stack, as `bt --m`."""
        return Backtrace.from_json(self._json("bt", "--m", str(mid)))

    def ms(self) -> Ms:
        return runtime_ms.ms(self.target)

    def headroom(self) -> Headroom:
        return Headroom.from_json(self._json("headroom"))

    def map(self, expr: str, *, map_type: Optional[str] = None, limit: int = 0, stats: bool = False) -> MapContents:
        """A map's entries (all of them unless ``limit``): a global, or ``0xADDR`` with ``map_type``."""
        argv = [expr, "--limit", str(limit)] + (["--type", map_type] if map_type else [])
        argv += ["--stats"] if stats else []
        return MapContents.from_json(self._json("map", *argv))

    def panic(self) -> PanicPath:
        return PanicPath.from_json(self._json("panic"))

    def check(self, rules: Rules) -> CheckReport:
        """The rules of `check` (``godbg.check.settings.Rules``), evaluated; ``.passed``,
        ``.findings``, and ``.to_json()`` as `check --json` prints it."""
        return evaluate(self.target, rules)

    def clock_ns(self) -> Optional[int]:
        """The latest runtime nanotime the program wrote down (the last GC, sysmon's last
        poll): the "now" to measure a goroutine's ``waiting_since_ns`` against (a lower
        bound; see `check --max-wait`). None when the runtime recorded none."""
        return runtime_now(self.target)


def open_core(binary: str, core: str) -> Program:
    """A Program over a core file, no debugger needed."""
    from godbg.backends.core.corefile import open_core_target

    return Program(open_core_target(binary, core))


def open_delve(binary: str, core: Optional[str] = None, *, pid: Optional[int] = None) -> Program:
    """A Program through a headless delve: on a core (``core``) or attached to a running
    process (``pid``; the process keeps running after ``close()``). Close it (or use it as
    a context manager) to stop delve."""
    from godbg.backends.delve.client import DelveServer
    from godbg.backends.delve.dlvtarget import delve_target, open_core_facts
    from godbg.program.binary import GoBinary

    if (core is None) == (pid is None):
        raise BadInputError("open_delve: give a core or a pid")
    go_binary = GoBinary(binary)
    if core is not None:
        facts = open_core_facts(go_binary, core)
        server = DelveServer("core", [binary, core], kill_on_stop=False)
    else:
        facts = None
        server = DelveServer("attach", [str(pid), binary], kill_on_stop=False)

    def close() -> None:
        try:
            server.stop()
        finally:
            if facts is not None:
                facts.close()

    try:
        return Program(delve_target(server, go_binary, facts), close)
    except BaseException:
        close()
        raise


def gdb_program() -> Program:
    """Inside gdb (after `source gdbinit.py`): a Program over gdb's current inferior or core."""
    from godbg.backends.gdb.gdbtarget import SESSION

    return Program(SESSION.target())
