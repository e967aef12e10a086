"""Arguments and locals of a goroutine's frames (``bt GOID --full``, ``print --goroutine G
--frame K``), from DWARF location expressions and lists (``godbg.program.dwarf_vars``).

The pc a caller's variables are looked up at is its call instruction (return address - 1:
the return address may already start another location range). A variable is read only
from memory: the frame's stack slots, at the frame's CFA (Go's traceback ``fp``). A value
DWARF places in a register is "unavailable" — a parked goroutine saved no registers but
sp/pc/bp, and a caller's registers were the callee's to clobber — so a value shown is never
a register's later contents. Frames of inlined calls list nothing (their variables are
those of the physical frame)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from godbg.errors import BadInputError, FaultError, GodbgError, UnsupportedError
from godbg.program.dwarf_vars import Piece, evaluate, function_vars
from godbg.results.frames import Variable

if TYPE_CHECKING:
    from godbg.program.dwarf import GoType
    from godbg.program.target import Target
    from godbg.runtime.unwind import Frame
    from godbg.values.model import Limits


@dataclass(frozen=True)
class FrameVar:
    name: str
    is_arg: bool
    type: GoType | None
    address: int | None  # where the whole value is in memory (one piece), else None
    data: bytes | None  # the value's bytes, when every piece is in memory
    unavailable: str | None

    def result(self, target: Target, limits: Limits) -> Variable:
        """The variable as `bt --full` answers it: its value decoded within ``limits`` by
        print's rules, or why it is unavailable."""
        from godbg.values.decode import target_decoder

        type_name = self.type.name if self.type is not None else None
        if self.unavailable is not None or self.data is None or self.type is None:
            return Variable(self.name, type_name, unavailable=self.unavailable or "type unknown")
        try:
            return Variable(self.name, type_name, target_decoder(target, limits).decode_from(self.data, 0, self.type))
        except GodbgError as e:
            return Variable(self.name, type_name, unavailable=str(e))


def goroutine_frames(target: Target, goid: int) -> list[Frame]:
    from godbg.runtime import goroutines as rg
    from godbg.runtime import stack as rstack
    from godbg.runtime.unwind import unwinder

    g = rg.find_goroutine(target, goid)
    if g is None:
        raise BadInputError(f"no goroutine {goid} (see `goroutines`)")
    return list(rstack.goroutine_stack(target, g).logical(unwinder(target)))


def frame_variables(target: Target, frame: Frame, innermost: bool) -> list[FrameVar] | None:
    """The variables of one logical frame (None: DWARF does not describe its function)."""
    if not target.binary.has_dwarf:
        raise UnsupportedError("arguments and locals need DWARF; this binary has none")
    if frame.inlined:
        return []
    fv = function_vars(target.binary)
    descs = fv.variables(frame.function)
    if descs is None:
        return None
    dwarf = target.binary.dwarf
    pc = frame.pc if innermost else frame.pc - 1
    cfa = frame.fp or None
    out = []
    for d in descs:
        t = dwarf.type_at(d.type_offset) if d.type_offset is not None else None
        try:
            pieces = _pieces(fv, d, pc, cfa)
            if not innermost and not _in_memory(pieces):
                # At the call the value may be in a register (gone now); at the return
                # address, before any of the caller's code has run again, DWARF may already
                # name its stack slot: take that, and only a place in memory.
                after = _pieces(fv, d, frame.pc, cfa)
                if _in_memory(after):
                    pieces = after
        except GodbgError as e:
            out.append(FrameVar(d.name, d.is_arg, t, None, None, str(e)))
            continue
        if isinstance(pieces, str):
            out.append(FrameVar(d.name, d.is_arg, t, None, None, pieces))
            continue
        out.append(_read(target, d.name, d.is_arg, t, pieces))
    return out


def _pieces(fv: Any, d: Any, pc: int, cfa: int | None) -> list[Piece] | str:
    expr = fv.expression_at(d, pc)
    if not expr:
        return "optimised away at this pc"
    return evaluate(expr, cfa)


def _in_memory(pieces: list[Piece] | str) -> bool:
    return not isinstance(pieces, str) and all(p.address is not None and p.register is None for p in pieces)


def _read(target: Target, name: str, is_arg: bool, t: GoType | None, pieces: list[Piece]) -> FrameVar:
    size = t.size if t is not None else 0
    chunks = []
    for pc in pieces:
        n = pc.size or size
        if pc.register is not None:
            return FrameVar(name, is_arg, t, None, None, f"in register {pc.register}, not saved for this frame")
        if pc.address is None:
            return FrameVar(name, is_arg, t, None, None, "partly optimised away at this pc")
        try:
            chunks.append(target.memory.read(pc.address, n))
        except FaultError:
            return FrameVar(name, is_arg, t, None, None, f"stack slot {pc.address:#x} is not readable")
    data = b"".join(chunks)
    if t is not None and len(data) < size:
        return FrameVar(name, is_arg, t, None, None, "DWARF gives fewer bytes than the type holds")
    # One place in memory when every piece follows the one before (a string's two words
    # spilled side by side): then selectors can work on it.
    start = pieces[0].address
    contiguous, at = start is not None, start
    for pc in pieces:
        contiguous = contiguous and pc.address == at
        at = (pc.address or 0) + (pc.size or size)
    return FrameVar(name, is_arg, t, start if contiguous else None, data, None)


def frame_locals_resolver(target: Target, goroutine: int, frame: int) -> Any:
    """``name -> (address, GoType)`` for frame K of goroutine G (print's roots)."""
    frames = goroutine_frames(target, goroutine)
    if not 0 <= frame < len(frames):
        raise BadInputError(f"goroutine {goroutine} has frames 0..{len(frames) - 1}, not {frame}")
    vs = frame_variables(target, frames[frame], frame == 0) or []
    by_name = {v.name: v for v in vs}

    def resolve(name: str) -> Any:
        v = by_name.get(name)
        if v is None:
            return None
        if v.unavailable is not None:
            raise BadInputError(f"print: {name} is unavailable in {frames[frame].function}: {v.unavailable}")
        if v.address is None or v.type is None:
            raise BadInputError(f"print: {name} is split across places in {frames[frame].function}: "
                                "print it whole (bt --full), not through selectors")
        return (v.address, v.type)

    return resolve
