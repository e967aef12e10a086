"""What the value decoder asks of the program it decodes from, beyond memory: the
dynamic type behind an interface (``godbg.types``: DWARF, else the type descriptor), the
name of a function, the channel header's layout, and the text of an error value.

``ValueHooks`` is the protocol; ``TargetHooks`` answers it from a Target. A decoder
without hooks (unit tests on bare memory images) falls back to what DWARF alone says."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from godbg.errors import FaultError, GodbgError

if TYPE_CHECKING:
    from godbg.program.dwarf import GoType
    from godbg.program.target import Target

# (type, its name as Go prints it, stored directly in the interface word?)
Dynamic = tuple["GoType | None", Any, bool]


class ValueHooks(Protocol):
    def dynamic_type(self, type_addr: int) -> Dynamic | None: ...

    def func_name(self, pc: int) -> str | None: ...

    def chan_offsets(self) -> tuple[int, int]: ...

    def itab_type_offset(self) -> int | None: ...

    def error_text(self, type_addr: int, data: int) -> str | None: ...


class TargetHooks:
    def __init__(self, target: Target) -> None:
        self.target = target
        self._chan: tuple[int, int] | None = None

    def dynamic_type(self, type_addr: int) -> Dynamic | None:
        from godbg import types
        from godbg.runtime.typenames import rtype

        try:
            rt = rtype(self.target, type_addr)
        except (GodbgError, FaultError):
            return None
        # The runtime's own name (what Go prints: fs.PathError, not io/fs.PathError), the
        # same with DWARF or without.
        return types.type_of_descriptor(self.target, type_addr), rt.name, rt.direct

    def func_name(self, pc: int) -> str | None:
        from godbg.runtime.goroutines import func_name_at

        try:
            return func_name_at(self.target, pc)
        except GodbgError:
            return None

    def chan_offsets(self) -> tuple[int, int]:
        if self._chan is None:
            from godbg.runtime.layouts import layout

            try:
                lay = layout(self.target, "runtime.hchan")
                self._chan = (lay.off("qcount"), lay.off("dataqsiz"))
            except GodbgError:
                self._chan = (0, 8)
        return self._chan

    def itab_type_offset(self) -> int | None:
        from godbg.runtime.layouts import has_layout, layout

        for sname, fname in (("internal/abi.ITab", "Type"), ("runtime.itab", "_type")):
            if has_layout(self.target, sname) and layout(self.target, sname).has(fname):
                return layout(self.target, sname).off(fname)
        return None

    def error_text(self, type_addr: int, data: int) -> str | None:
        from godbg.values.errtext import error_text

        return error_text(self.target, self, type_addr, data)
