"""The public Python API: a Program over a core file, a delve session or the gdb inferior,
whose methods answer what the commands answer, as typed frozen dataclasses
(``godbg.results``) whose ``.to_json()`` is the command's JSON document.

    import godbg
    with godbg.open_core("./app", "./core") as prog:
        for g in prog.goroutines():
            print(g.id, g.status, g.wait_reason)

The Program passes the same version gate as every command (``runtime/version.py``), and its
methods call the same functions as the commands (``godbg.answers``), so an answer here and
``godbg core … --json`` agree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Callable, Optional

from godbg.answers import bt as answers_bt
from godbg.answers import goroutines as answers_goroutines
from godbg.answers import headroom as answers_headroom
from godbg.answers import info as answers_info
from godbg.answers import maps as answers_maps
from godbg.answers import panic as answers_panic
from godbg.answers import report as answers_report
from godbg.answers import values as answers_values
from godbg.answers import waits as answers_waits
from godbg.check.rules import evaluate, runtime_now
from godbg.check.settings import Rules
from godbg.errors import BadInputError
from godbg.program.target import Target
from godbg.results import (
    Backtrace,
    Chan,
    CheckReport,
    GoroutineGroups,
    Goroutines,
    Headroom,
    Info,
    Leaks,
    MapContents,
    Ms,
    PanicPath,
    Report,
    Value,
    Waits,
)
from godbg.runtime import ms as runtime_ms
from godbg.runtime import version


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

    # --- the commands: each method is the command of the same name ----------------------

    def info(self) -> Info:
        return answers_info.info(self.target)

    def goroutines(self, *, status: answers_goroutines.Statuses = None, function: Optional[str] = None,
                   labels: Optional[Mapping[str, str]] = None, waiting_on: Optional[str] = None,
                   limit: int = 0) -> Goroutines:
        """Every goroutine (dead ones only with ``status="dead"``), as `goroutines`; the
        keywords are its --status, --function, --label, --waiting-on and --limit. Each
        Goroutine's ``frames`` are its backtrace, unwound each time they are asked for."""
        return answers_goroutines.goroutines(self.target, status=status, function=function, labels=labels,
                                             waiting_on=waiting_on, limit=limit)

    def goroutine_groups(self, *, status: answers_goroutines.Statuses = None, function: Optional[str] = None,
                         limit: int = 0, group_by: tuple[str, ...] = ()) -> GoroutineGroups:
        """`goroutines --group`: one group per distinct stack, largest first; ``group_by``
        holds "object" and/or "labels" (its --group-by)."""
        return answers_goroutines.goroutine_groups(self.target, status=status, function=function, limit=limit,
                                                   group_by=group_by)

    def backtrace(self, goid: int, *, full: bool = False) -> Backtrace:
        """`bt GOID` (``full``: `bt --full`, values by `print --json`'s rules)."""
        return answers_bt.backtrace(self.target, goid, full=full, limits=answers_bt.variable_limits(json_output=True))

    def m_backtrace(self, mid: int) -> Backtrace:
        """The frames on M ``mid``'s g0 (system) stack, as `bt --m`."""
        return answers_bt.m_backtrace(self.target, mid)

    def ms(self) -> Ms:
        return runtime_ms.ms(self.target)

    def headroom(self, *, top: Optional[int] = None, check: Optional[int] = None) -> Headroom:
        """Every goroutine's (or the ``top`` closest to the limit) stack headroom, closest
        first; ``check`` as `headroom --check BYTES` (``.check.findings``)."""
        return answers_headroom.headroom(self.target, top=top, check=check)

    def map(self, expr: str, *, map_type: Optional[str] = None, limit: int = 0, stats: bool = False) -> MapContents:
        """A map's entries (all of them unless ``limit``): a global, or ``0xADDR`` with ``map_type``."""
        return answers_maps.map_contents(self.target, expr, map_type=map_type, limit=limit, stats=stats)

    def value(self, expr: str, *, type_name: Optional[str] = None, goroutine: Optional[int] = None,
              frame: Optional[int] = None, depth: int = answers_values.DEFAULT_DEPTH,
              max_elements: int = answers_values.DEFAULT_JSON_ELEMENTS) -> Value:
        """`print EXPR`: a global, a local of goroutine ``goroutine``'s frame ``frame``, or
        ``0xADDR`` with ``type_name``; ``.value`` is the decoded value (JSON, by print's rules)."""
        return answers_values.value(self.target, expr, type_name=type_name, goroutine=goroutine, frame=frame,
                                    depth=depth, max_elements=max_elements)

    def chan(self, expr: str) -> Chan:
        return answers_values.chan(self.target, expr)

    def panic(self) -> PanicPath:
        return answers_panic.panic(self.target)

    def waits(self, *, min_waiters: int = 1) -> Waits:
        return answers_waits.waits(self.target, min_waiters=min_waiters)

    def leaks(self) -> Leaks:
        return answers_waits.leaks(self.target)

    def report(self, *, groups: int = answers_report.DEFAULT_GROUPS,
               headroom_top: int = answers_report.DEFAULT_HEADROOM) -> Report:
        return answers_report.report(self.target, groups=groups, headroom_top=headroom_top)

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
