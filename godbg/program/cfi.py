"""Call frame information (DWARF CFI) of an ELF file: for a pc, how to find its frame's
CFA and the caller's registers. Read with pyelftools from ``.eh_frame`` (what C
compilers emit for unwinding) and ``.debug_frame`` (what ``-g`` adds, and what Go's
linker writes for Go code); only the FDE that holds a pc is decoded.

Rules are per DWARF register number (amd64: 0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi,
6 rbp, 7 rsp, 8-15 r8-r15, 16 the return address; arm64: 0-30 x0-x30, 31 sp).
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass
from typing import Any

from elftools.common.exceptions import DWARFError, ELFError
from elftools.dwarf.callframe import FDE, CallFrameInfo
from elftools.dwarf.structs import DWARFStructs
from elftools.elf.elffile import ELFFile

# Sections holding CFI, most useful first: .eh_frame covers C code in nearly every build.
CFI_SECTIONS = (".eh_frame", ".debug_frame")
# A section larger than this is not decoded (a corrupt header, not a real table).
MAX_CFI_SECTION = 256 << 20
# The return address column when a CIE does not say (amd64's).
DEFAULT_RA_REG = 16


@dataclass(frozen=True)
class RegRule:
    """How the caller's value of a register is found: ``kind`` "offset" (saved at
    CFA+arg), "val_offset" (is CFA+arg), "register" (in register arg), "same" (unchanged),
    "undefined" (lost: for the return address, the end of the stack)."""

    kind: str
    arg: int = 0


@dataclass(frozen=True)
class FrameRules:
    """The unwinding rules at one pc: CFA = register ``cfa_reg`` + ``cfa_offset`` (None
    when the CFA is a DWARF expression godbg does not evaluate)."""

    cfa_reg: int | None
    cfa_offset: int
    regs: dict[int, RegRule]
    ra_reg: int
    fde_start: int


_RULE_KINDS = {"OFFSET": "offset", "VAL_OFFSET": "val_offset", "REGISTER": "register",
               "SAME_VALUE": "same", "UNDEFINED": "undefined"}


class CfiTable:
    """The FDEs of one ELF file, indexed by address range (link-time addresses). Each
    section is parsed the first time a pc is looked up that an earlier one lacks."""

    def __init__(self, elf: ELFFile) -> None:
        self._elf = elf
        self._sections: list[_SectionIndex | None] = [None] * len(CFI_SECTIONS)
        self._decoded: dict[int, Any] = {}

    def _section(self, i: int) -> _SectionIndex:
        found = self._sections[i]
        if found is None:
            found = _SectionIndex(_section_fdes(self._elf, CFI_SECTIONS[i]))
            self._sections[i] = found
        return found

    def fde_at(self, pc: int) -> tuple[int, FDE] | None:
        for i in range(len(CFI_SECTIONS)):
            found = self._section(i).find(pc)
            if found is not None:
                return found
        return None

    def rules_at(self, pc: int) -> FrameRules | None:
        """The rules in force at ``pc`` (a link-time address), or None when no FDE covers it."""
        found = self.fde_at(pc)
        if found is None:
            return None
        start, fde = found
        decoded = self._decoded.get(start)
        if decoded is None:
            try:
                decoded = fde.get_decoded()
            except (DWARFError, ELFError, KeyError, ValueError, AssertionError):
                return None
            self._decoded[start] = decoded
        row = None
        for r in decoded.table:
            if r["pc"] > pc:
                break
            row = r
        if row is None:
            return None
        cfa = row["cfa"]
        regs: dict[int, RegRule] = {}
        for key, rule in row.items():
            if isinstance(key, int):
                kind = _RULE_KINDS.get(rule.type)
                if kind is not None:
                    regs[key] = RegRule(kind, rule.arg if isinstance(rule.arg, int) else 0)
        ra = fde.cie.header["return_address_register"] if fde.cie is not None else DEFAULT_RA_REG
        cfa_reg = cfa.reg if cfa.expr is None else None
        return FrameRules(cfa_reg, cfa.offset or 0, regs, ra, start)


class _SectionIndex:
    def __init__(self, fdes: list[tuple[int, int, FDE]]) -> None:
        fdes = sorted((e for e in fdes if e[1] > e[0]), key=lambda e: e[0])
        self.starts = [e[0] for e in fdes]
        self.fdes = fdes

    def find(self, pc: int) -> tuple[int, FDE] | None:
        i = bisect.bisect_right(self.starts, pc) - 1
        if i < 0:
            return None
        start, end, fde = self.fdes[i]
        return (start, fde) if start <= pc < end else None


def _section_fdes(elf: ELFFile, name: str) -> list[tuple[int, int, FDE]]:
    sec = elf.get_section_by_name(name)
    if sec is None or sec["sh_type"] == "SHT_NOBITS" or not 0 < sec["sh_size"] <= MAX_CFI_SECTION:
        return []
    try:
        data = sec.data()
        structs = DWARFStructs(little_endian=elf.little_endian, dwarf_format=32,
                               address_size=elf.elfclass // 8)
        cfi = CallFrameInfo(io.BytesIO(data), len(data), sec["sh_addr"], structs,
                            for_eh_frame=name == ".eh_frame")
        entries = cfi.get_entries()
    except (DWARFError, ELFError, KeyError, ValueError, AssertionError, IndexError):
        return []
    out = []
    for e in entries:
        if isinstance(e, FDE):
            start = e.header["initial_location"]
            out.append((start, start + e.header["address_range"], e))
    return out
