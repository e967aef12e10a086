"""Native (non-Go) code in a process: the executable's C functions and the shared
libraries it mapped. For a pc, the ELF file that holds it (with its load bias), the
function's name from the ELF symbol tables, file:line from DWARF where the C code was
compiled with it, and the CFI to unwind its frame (godbg.program.cfi).

Shared libraries are the files a core's NT_FILE note names; they are read from this
machine only when the file there is the one the process mapped (same GNU build id as
the copy in the core's memory)."""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from elftools.common.exceptions import DWARFError, ELFError
from elftools.elf.elffile import ELFFile

from godbg.errors import FaultError
from godbg.program.cfi import CfiTable

# ELF symbol types that name code.
FUNC_TYPES = ("STT_FUNC", "STT_GNU_IFUNC")
# A symbol with no size covers at most this much code after it.
UNSIZED_SYMBOL_SPAN = 4096
NOTE_GNU_BUILD_ID = ".note.gnu.build-id"
NT_GNU_BUILD_ID = 3
BINDING_RANK = {"STB_GLOBAL": 0, "STB_WEAK": 1, "STB_LOCAL": 2}


@dataclass(frozen=True)
class CodeLocation:
    function: str | None
    file: str
    line: int
    entry: int  # the function's start (run-time address), 0 when unknown


@dataclass
class NativeImage:
    """One ELF file mapped at ``bias`` (run-time address = link-time address + bias)."""

    path: str
    bias: int
    elf: ELFFile
    verified: bool = True  # its build id matched the process's copy (or it is the executable)
    # (address, size, name) of its functions when the caller has them already (the
    # executable's symbol table, read once for the whole engine)
    known_funcs: Callable[[], list[tuple[int, int, str]]] | None = None
    _lines: dict[int, tuple[str, int] | None] = field(default_factory=dict)

    @cached_property
    def _funcs(self) -> tuple[list[int], list[tuple[int, int, str]]]:
        if self.known_funcs is not None:
            best: dict[int, tuple[tuple[int, int, int], tuple[int, int, str]]] = {}
            for addr, size, name in self.known_funcs():
                rank = (0 if size else 1, 1 if "." in name and not name.startswith(".") else 0, len(name))
                if addr and (addr not in best or rank < best[addr][0]):
                    best[addr] = (rank, (addr, size, name))
            funcs = sorted(f for _rank, f in best.values())
            return [f[0] for f in funcs], funcs
        # Several names for one address (gcc's "f.localalias", versioned aliases): keep
        # the one a debugger shows, a sized global one with the shortest name.
        found: dict[int, tuple[tuple[int, int, int], tuple[int, int, str]]] = {}
        for name in (".symtab", ".dynsym"):
            tab = self.elf.get_section_by_name(name)
            if tab is None or not hasattr(tab, "iter_symbols"):
                continue
            for sym in tab.iter_symbols():
                if sym["st_info"]["type"] not in FUNC_TYPES or not sym["st_value"] or not sym.name:
                    continue
                addr = sym["st_value"]
                rank = (0 if sym["st_size"] else 1, BINDING_RANK.get(sym["st_info"]["bind"], 3), len(sym.name))
                if addr not in found or rank < found[addr][0]:
                    found[addr] = (rank, (addr, sym["st_size"], sym.name))
        funcs = sorted(f for _rank, f in found.values())
        return [f[0] for f in funcs], funcs

    def symbol(self, pc: int) -> tuple[str, int] | None:
        """(name, run-time entry) of the function holding run-time ``pc``."""
        rel = pc - self.bias
        addrs, funcs = self._funcs
        i = bisect.bisect_right(addrs, rel) - 1
        if i < 0:
            return None
        start, size, name = funcs[i]
        if rel < start + (size or UNSIZED_SYMBOL_SPAN):
            return name, start + self.bias
        return None

    @cached_property
    def cfi(self) -> CfiTable:
        return CfiTable(self.elf)

    @cached_property
    def _dwarf(self) -> Any:
        if self.elf.get_section_by_name(".debug_info") is None:
            return None
        try:
            dwarf = self.elf.get_dwarf_info()
            aranges = dwarf.get_aranges()
        except (DWARFError, ELFError, KeyError, ValueError, AssertionError):
            return None
        return (dwarf, aranges) if aranges is not None else None

    def line(self, pc: int) -> tuple[str, int] | None:
        """file:line of run-time ``pc`` from the DWARF line table of its compile unit
        (found through .debug_aranges), or None."""
        if pc in self._lines:
            return self._lines[pc]
        found = None
        info = self._dwarf
        if info is not None:
            try:
                found = _line_at(info[0], info[1], pc - self.bias)
            except (DWARFError, ELFError, KeyError, ValueError, AssertionError, IndexError):
                found = None
        self._lines[pc] = found
        return found


def _line_at(dwarf: Any, aranges: Any, rel: int) -> tuple[str, int] | None:
    cu_offset = aranges.cu_offset_at_addr(rel)
    if cu_offset is None:
        return None
    cu = dwarf.get_CU_at(cu_offset)
    prog = dwarf.line_program_for_CU(cu)
    if prog is None:
        return None
    best = None
    prev = None
    for entry in prog.get_entries():
        st = entry.state
        if st is None:
            continue
        if prev is not None and prev.address <= rel < st.address and not prev.end_sequence:
            best = prev
            break
        prev = None if st.end_sequence else st
    if best is None:
        return None
    header = prog.header
    files = header["file_entry"]
    version = header["version"]
    index = best.file if version >= 5 else best.file - 1
    if not 0 <= index < len(files):
        return None
    entry = files[index]
    name = entry.name.decode(errors="replace") if isinstance(entry.name, bytes) else str(entry.name)
    dirs = header["include_directory"]
    if not os.path.isabs(name) and entry.dir_index < len(dirs) + (0 if version >= 5 else 1):
        d_index = entry.dir_index if version >= 5 else entry.dir_index - 1
        if 0 <= d_index < len(dirs):
            d = dirs[d_index]
            name = os.path.join(d.decode(errors="replace") if isinstance(d, bytes) else str(d), name)
    return name, best.line


def build_id(elf: ELFFile) -> bytes | None:
    sec = elf.get_section_by_name(NOTE_GNU_BUILD_ID)
    if sec is None or not hasattr(sec, "iter_notes"):
        return None
    for note in sec.iter_notes():
        if note["n_type"] == "NT_GNU_BUILD_ID":
            desc = note["n_desc"]
            return bytes.fromhex(desc) if isinstance(desc, str) else bytes(desc)
    return None


@dataclass(frozen=True)
class Mapping:
    start: int
    end: int
    offset: int  # file offset of start
    path: str


class NativeCode:
    """Every native image of a process, found by address."""

    def __init__(self, exe: NativeImage, exe_range: tuple[int, int], mappings: list[Mapping],
                 read: Callable[[int, int], bytes]) -> None:
        self.exe = exe
        self._exe_range = exe_range
        self._read = read
        self._by_path: dict[str, NativeImage | None] = {}
        self._mappings = sorted(mappings, key=lambda m: m.start)
        self._starts = [m.start for m in self._mappings]
        self.notes: list[str] = []
        self._files: list[Any] = []

    def mapping_at(self, pc: int) -> Mapping | None:
        i = bisect.bisect_right(self._starts, pc) - 1
        if i >= 0 and self._mappings[i].start <= pc < self._mappings[i].end:
            return self._mappings[i]
        return None

    def image_at(self, pc: int) -> NativeImage | None:
        lo, hi = self._exe_range
        if lo <= pc < hi:
            return self.exe
        m = self.mapping_at(pc)
        if m is None or m.path == self.exe.path:
            return None
        if m.path not in self._by_path:
            self._by_path[m.path] = self._load(m.path)
        return self._by_path[m.path]

    def library_name(self, pc: int) -> str | None:
        m = self.mapping_at(pc)
        return os.path.basename(m.path) if m is not None else None

    def _load(self, path: str) -> NativeImage | None:
        first = [m for m in self._mappings if m.path == path and m.offset == 0]
        if not first:
            return None
        try:
            f = open(path, "rb")
            elf = ELFFile(f)
        except (OSError, ELFError) as e:
            self.notes.append(f"{path}: not readable on this machine ({e}); its frames are unwound "
                              "with frame pointers and left unnamed")
            return None
        self._files.append(f)
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        base = min((s["p_vaddr"] - s["p_offset"] for s in loads if s["p_offset"] == 0), default=0)
        bias = first[0].start - base
        verified = self._same_build(elf, bias, path)
        if verified is False:
            self.notes.append(f"{path} on this machine is not the file the process mapped (build ids "
                              "differ); its frames are unwound with frame pointers and left unnamed")
            return None
        if verified is None:
            self.notes.append(f"{path}: the process's copy holds no build id to compare; read from "
                              "this machine as is")
        return NativeImage(path, bias, elf, verified=bool(verified))

    def _same_build(self, elf: ELFFile, bias: int, path: str) -> bool | None:
        ident = build_id(elf)
        sec = elf.get_section_by_name(NOTE_GNU_BUILD_ID)
        if ident is None or sec is None:
            return None
        try:
            mem = self._read(sec["sh_addr"] + bias, sec["sh_size"])
        except FaultError:
            return None
        return ident in mem
