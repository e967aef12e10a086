"""`print ch` for any `chan T` in gdb: the decoded hchan (len, cap, closed, the buffered
values oldest first, the goroutines waiting to receive and to send), from godbg's channel
decoder — the same answer as `go chan`. Registered like the map printer, ahead of
runtime-gdb.py's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gdb

from godbg.answers.values import decoded_chan
from godbg.backends.gdb.commands import run_guarded
from godbg.backends.gdb.gdbtarget import SESSION
from godbg.results.values import Chan
from godbg.runtime.chans import read_hchan
from godbg.values.text import format_text

NAME = "godbg-chan"


class ChanPrinter:
    def __init__(self, val: Any) -> None:
        self.type_name = str(val.type)
        self.address = int(val)
        self.chan: Chan | None = None

    def _decode(self) -> Chan | None:
        if self.chan is None and self.address:
            target = SESSION.target()
            t = target.binary.dwarf.type_by_name(self.type_name) if target.binary.has_dwarf else None
            self.chan = run_guarded(lambda: decoded_chan(target, self.type_name, t, read_hchan(target, self.address)))
        return self.chan

    def to_string(self) -> str:
        if not self.address:
            return f"{self.type_name} nil"
        c = self._decode()
        if c is None:
            return f"{self.type_name} {self.address:#x}"
        closed = ", closed" if c.closed else ""
        send = ", ".join(f"{s.goroutine} ({format_text(s.value)})" for s in c.send_waiters) or "none"
        recv = ", ".join(str(g) for g in c.recv_waiters) or "none"
        return (f"{self.type_name} {c.address:#x} len {c.len} cap {c.cap}{closed}, "
                f"receivers: {recv}, senders: {send}")

    def children(self) -> Iterator[tuple[str, str]]:
        c = self._decode() if self.address else None
        if c is None:
            return
        for i, v in enumerate(c.buffer):
            yield f"[{i}]", format_text(v)

    def display_hint(self) -> str:
        return "array"


def lookup(val: Any) -> ChanPrinter | None:
    try:
        name = val.type.name or str(val.type)
    except (gdb.error, RuntimeError):
        return None
    if not name or not name.startswith("chan ") and not name.startswith(("<-chan ", "chan<- ")):
        return None
    if val.type.strip_typedefs().code != gdb.TYPE_CODE_PTR:
        return None
    return ChanPrinter(val)


lookup.name = NAME  # type: ignore[attr-defined]
lookup.enabled = True  # type: ignore[attr-defined]


def _install(objfile: Any) -> None:
    printers = objfile.pretty_printers
    printers[:] = [p for p in printers if getattr(p, "name", None) != NAME]
    printers.insert(0, lookup)


def _on_new_objfile(event: Any) -> None:
    _install(event.new_objfile)


def register() -> None:
    for objfile in gdb.objfiles():
        _install(objfile)
    gdb.events.new_objfile.connect(_on_new_objfile)
