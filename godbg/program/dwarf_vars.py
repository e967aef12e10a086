"""Arguments and locals of a Go function from its DWARF: the subprogram's
``DW_TAG_formal_parameter`` / ``DW_TAG_variable`` children, their types, and where each
lives at a given pc — a location expression, or a location list (``.debug_loc`` for
DWARF 4, Go 1.22-1.24; ``.debug_loclists`` with ``.debug_addr`` for DWARF 5) picked by pc.

What Go emits (cmd/compile/internal/dwarfgen, cmd/internal/dwarf): the frame base is
``DW_OP_call_frame_cfa``; a variable's location is ``DW_OP_fbreg N`` (memory at CFA+N),
``DW_OP_call_frame_cfa`` (at the CFA), ``DW_OP_regN`` (a register), or pieces of those
(``DW_OP_piece 8`` after each word: strings, slices, interfaces split across places). A
piece with no location before it is a part the compiler dropped. A location list has one
base-address entry (the function's start) and then offset pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from godbg.errors import CorruptError
from godbg.program.dwarfraw import DebugInfo, DW_AT_location, DW_AT_name, DW_AT_type, sleb, uleb

if TYPE_CHECKING:
    from godbg.program.binary import GoBinary

DW_TAG_compile_unit = 0x11
DW_TAG_formal_parameter = 0x05
DW_TAG_lexical_block = 0x0B
DW_TAG_subprogram = 0x2E
DW_TAG_variable = 0x34
DW_AT_addr_base = 0x73

DW_OP_addr = 0x03
DW_OP_consts = 0x11
DW_OP_plus = 0x22
DW_OP_plus_uconst = 0x23
DW_OP_reg0 = 0x50
DW_OP_reg31 = 0x6F
DW_OP_regx = 0x90
DW_OP_fbreg = 0x91
DW_OP_piece = 0x93
DW_OP_call_frame_cfa = 0x9C

DW_LLE_end_of_list = 0
DW_LLE_base_addressx = 1
DW_LLE_startx_endx = 2
DW_LLE_startx_length = 3
DW_LLE_offset_pair = 4
DW_LLE_default_location = 5
DW_LLE_base_address = 6
DW_LLE_start_end = 7
DW_LLE_start_length = 8

# DWARF register numbers on amd64 (System V psABI).
AMD64_REGS = ("rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12",
              "r13", "r14", "r15", "rip")
# Entries of one location list, and operations of one expression, at most.
MAX_ENTRIES = 1 << 16
MAX_OPS = 256
# Variables of one function at most (nested lexical blocks included).
MAX_VARS = 4096
BASE_ADDRESS_SELECTION = (1 << 64) - 1


@dataclass(frozen=True)
class VarDesc:
    name: str
    is_arg: bool
    type_offset: int | None
    location: Any  # bytes: an expression; int: a location list offset; None: none
    unit_addr_base: int | None
    version: int


@dataclass(frozen=True)
class Piece:
    """A part of a value: ``size`` bytes (0: the whole value) from memory at ``address``,
    from register ``register``, or gone (neither)."""

    size: int
    address: int | None = None
    register: str | None = None


class FunctionVars:
    """Per binary: subprogram DIEs by function name, variables per function."""

    def __init__(self, binary: GoBinary) -> None:
        self.binary = binary
        self.info: DebugInfo = binary.dwarf._debug_info
        self._by_name: dict[str, tuple[int, Any]] | None = None
        self._sections: dict[str, bytes] = {}

    def _section(self, name: str) -> bytes:
        if name not in self._sections:
            s = self.binary.elf.get_section_by_name(name)
            self._sections[name] = bytes(s.data()) if s is not None else b""
        return self._sections[name]

    def _index(self) -> dict[str, tuple[int, Any]]:
        if self._by_name is None:
            found: dict[str, tuple[int, Any]] = {}
            info = self.info
            d = info.data
            for u in info.units:
                p, depth, addr_base = u.die_start, 0, None
                while p < u.end:
                    start = p
                    code, p = uleb(d, p)
                    if code == 0:
                        depth -= 1
                        continue
                    ab = u.abbrevs.get(code)
                    if ab is None:
                        raise CorruptError(f"DWARF DIE at {start:#x} has unknown abbreviation {code}")
                    if (depth == 0 and ab.tag == DW_TAG_compile_unit) or (depth == 1 and ab.tag == DW_TAG_subprogram):
                        die = info.die(start, u)
                        p = die.end
                        if ab.tag == DW_TAG_compile_unit:
                            base = die.attrs.get(DW_AT_addr_base)
                            addr_base = base if isinstance(base, int) else None
                        elif die.name and die.attrs.get(DW_AT_low_pc_) is not None:
                            found.setdefault(die.name, (start, addr_base))
                    else:
                        p = info.skip(p, ab.plan)
                    if ab.children:
                        depth += 1
            self._by_name = found
        return self._by_name

    def variables(self, function: str) -> list[VarDesc] | None:
        """The function's own arguments and locals (not those of calls inlined into it), or
        None when DWARF has no subprogram of that name."""
        hit = self._index().get(function)
        if hit is None:
            return None
        off, addr_base = hit
        die = self.info.die(off)
        out: list[VarDesc] = []
        stack = [die]
        while stack and len(out) < MAX_VARS:
            parent = stack.pop()
            for c in self.info.children(parent):
                if c.tag in (DW_TAG_formal_parameter, DW_TAG_variable) and isinstance(c.attrs.get(DW_AT_name), str):
                    t = c.attrs.get(DW_AT_type)
                    out.append(VarDesc(c.attrs[DW_AT_name], c.tag == DW_TAG_formal_parameter,
                                       t if isinstance(t, int) else None, c.attrs.get(DW_AT_location),
                                       addr_base, c.unit.version))
                elif c.tag == DW_TAG_lexical_block:
                    stack.append(c)
        return out

    def expression_at(self, var: VarDesc, pc: int) -> bytes | None:
        """The location expression of ``var`` at ``pc`` (None: not available there)."""
        loc = var.location
        if isinstance(loc, bytes):
            return loc
        if not isinstance(loc, int):
            return None
        try:
            if var.version >= 5:
                return self._loclists(loc, pc, var.unit_addr_base)
            return self._loc(loc, pc)
        except (IndexError, ValueError):
            raise CorruptError(f"location list at {loc:#x} is truncated") from None

    def _loc(self, off: int, pc: int) -> bytes | None:
        d = self._section(".debug_loc")
        base = 0
        p = off
        for _ in range(MAX_ENTRIES):
            if p + 16 > len(d):
                return None
            lo = int.from_bytes(d[p : p + 8], "little")
            hi = int.from_bytes(d[p + 8 : p + 16], "little")
            p += 16
            if lo == 0 and hi == 0:
                return None
            if lo == BASE_ADDRESS_SELECTION:
                base = hi
                continue
            n = int.from_bytes(d[p : p + 2], "little")
            expr = d[p + 2 : p + 2 + n]
            p += 2 + n
            if base + lo <= pc < base + hi:
                return expr
        return None

    def _addr(self, addr_base: int | None, index: int) -> int:
        if addr_base is None:
            raise CorruptError("DWARF 5 location list without DW_AT_addr_base")
        d = self._section(".debug_addr")
        p = addr_base + 8 * index
        if p + 8 > len(d):
            raise CorruptError(f".debug_addr index {index} out of range")
        return int.from_bytes(d[p : p + 8], "little")

    def _loclists(self, off: int, pc: int, addr_base: int | None) -> bytes | None:
        d = self._section(".debug_loclists")
        base = 0
        p = off
        for _ in range(MAX_ENTRIES):
            if p >= len(d):
                return None
            kind = d[p]
            p += 1
            lo = hi = None
            if kind == DW_LLE_end_of_list:
                return None
            if kind == DW_LLE_base_addressx:
                i, p = uleb(d, p)
                base = self._addr(addr_base, i)
                continue
            if kind == DW_LLE_base_address:
                base = int.from_bytes(d[p : p + 8], "little")
                p += 8
                continue
            if kind == DW_LLE_offset_pair:
                a, p = uleb(d, p)
                b, p = uleb(d, p)
                lo, hi = base + a, base + b
            elif kind == DW_LLE_startx_endx:
                a, p = uleb(d, p)
                b, p = uleb(d, p)
                lo, hi = self._addr(addr_base, a), self._addr(addr_base, b)
            elif kind == DW_LLE_startx_length:
                a, p = uleb(d, p)
                n, p = uleb(d, p)
                lo = self._addr(addr_base, a)
                hi = lo + n
            elif kind == DW_LLE_start_end:
                lo = int.from_bytes(d[p : p + 8], "little")
                hi = int.from_bytes(d[p + 8 : p + 16], "little")
                p += 16
            elif kind == DW_LLE_start_length:
                lo = int.from_bytes(d[p : p + 8], "little")
                p += 8
                n, p = uleb(d, p)
                hi = lo + n
            elif kind != DW_LLE_default_location:
                raise CorruptError(f"unknown DW_LLE kind {kind} in .debug_loclists")
            n, p = uleb(d, p)
            expr = d[p : p + n]
            p += n
            if kind == DW_LLE_default_location or (lo is not None and hi is not None and lo <= pc < hi):
                return expr
        return None


DW_AT_low_pc_ = 0x11


def evaluate(expr: bytes, cfa: int | None) -> list[Piece] | str:
    """The pieces of a location expression, or why it cannot be read (a string)."""
    try:
        return _evaluate(expr, cfa)
    except (IndexError, ValueError):
        return "malformed location expression"


def _evaluate(expr: bytes, cfa: int | None) -> list[Piece] | str:
    pieces: list[Piece] = []
    stack: list[int] = []
    reg: str | None = None
    p = 0
    for _ in range(MAX_OPS):
        if p >= len(expr):
            break
        op = expr[p]
        p += 1
        if op == DW_OP_call_frame_cfa or op == DW_OP_fbreg:
            if cfa is None:
                return "the frame's CFA is not known"
            if op == DW_OP_fbreg:
                n, p = sleb(expr, p)
                stack.append(cfa + n)
            else:
                stack.append(cfa)
        elif op == DW_OP_addr:
            stack.append(int.from_bytes(expr[p : p + 8], "little"))
            p += 8
        elif op == DW_OP_consts:
            n, p = sleb(expr, p)
            stack.append(n)
        elif op == DW_OP_plus_uconst:
            n, p = uleb(expr, p)
            if not stack:
                return "malformed location expression"
            stack[-1] += n
        elif op == DW_OP_plus:
            if len(stack) < 2:
                return "malformed location expression"
            b = stack.pop()
            stack[-1] += b
        elif DW_OP_reg0 <= op <= DW_OP_reg31 or op == DW_OP_regx:
            if op == DW_OP_regx:
                n, p = uleb(expr, p)
            else:
                n = op - DW_OP_reg0
            reg = AMD64_REGS[n] if n < len(AMD64_REGS) else f"r{n}"
        elif op == DW_OP_piece:
            n, p = uleb(expr, p)
            pieces.append(Piece(n, address=stack.pop() if stack else None, register=reg))
            stack.clear()
            reg = None
        else:
            return f"DWARF operation {op:#x} is not supported"
    else:
        return "location expression too long"
    if not pieces:
        if reg is not None:
            return [Piece(0, register=reg)]
        if stack:
            return [Piece(0, address=stack[-1])]
        return "optimised away at this pc"
    return pieces


def function_vars(binary: GoBinary) -> FunctionVars:
    fv: FunctionVars | None = binary.__dict__.get("_godbg_function_vars")
    if fv is None:
        fv = FunctionVars(binary)
        binary.__dict__["_godbg_function_vars"] = fv
    return fv
