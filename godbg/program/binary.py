"""The Go executable: ELF sections and segments, symbols, build ids, and lazily the
pclntab, DWARF and build info readers that hang off it.

A position-independent executable (PIE) runs at its link-time addresses plus a load
bias. Once a backend has found that bias it calls :meth:`GoBinary.relocate`; from then on
every address the binary hands out (sections, segments, symbols, and through them the
pclntab, moduledata and DWARF) is a run-time address. This is the one place the bias is
applied."""

from __future__ import annotations

import bisect
import mmap
import struct
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from godbg.errors import FaultError, TargetError

if TYPE_CHECKING:
    from godbg.program.buildinfo import BuildInfo
    from godbg.program.dwarf import DwarfInfo
    from godbg.program.pclntab import Pclntab

ARCH_BY_MACHINE = {"EM_X86_64": "amd64", "EM_AARCH64": "arm64"}
PCLNTAB_SECTIONS = (".gopclntab", ".data.rel.ro.gopclntab")


@dataclass(frozen=True)
class Section:
    name: str
    addr: int
    offset: int
    size: int
    loaded: bool  # SHT_NOBITS sections have no file bytes


@dataclass(frozen=True)
class Segment:
    vaddr: int
    offset: int
    filesz: int
    memsz: int
    flags: int


@dataclass(frozen=True)
class Symbol:
    name: str
    addr: int
    size: int
    kind: str  # "func" or "object"


class GoBinary:
    """An ELF Go executable, mapped read-only. Everything expensive is lazy."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._file = open(path, "rb")
        except OSError as e:
            raise TargetError(f"cannot open binary {path}: {e.strerror}") from None
        try:
            self.data = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:
            raise TargetError(f"{path} is empty, not a Go executable") from None
        if self.data[:4] != b"\x7fELF":
            raise TargetError(f"{path} is not an ELF file")
        try:
            self.elf = ELFFile(self._file)
            etype = self.elf["e_type"]
            machine = self.elf["e_machine"]
        except ELFError as e:
            raise TargetError(f"{path} is not a readable ELF file: {e}") from None
        if etype == "ET_CORE":
            raise TargetError(f"{path} is a core file, not an executable")
        if machine not in ARCH_BY_MACHINE:
            raise TargetError(f"{path}: unsupported architecture {machine}")
        if self.elf.elfclass != 64 or not self.elf.little_endian:
            raise TargetError(f"{path}: only 64-bit little-endian binaries are supported")
        self.goarch = ARCH_BY_MACHINE[machine]
        self.ptr_size = 8
        self._link_sections: dict[str, Section] = {}
        for s in self.elf.iter_sections():
            self._link_sections[s.name] = Section(
                s.name, s["sh_addr"], s["sh_offset"], s["sh_size"], s["sh_type"] != "SHT_NOBITS"
            )
        self._link_segments: list[Segment] = [
            Segment(p["p_vaddr"], p["p_offset"], p["p_filesz"], p["p_memsz"], p["p_flags"])
            for p in self.elf.iter_segments()
            if p["p_type"] == "PT_LOAD"
        ]
        self.is_pie = etype == "ET_DYN"
        self.entry: int = self.elf["e_entry"]  # link-time
        self.load_bias = 0
        self.sections = dict(self._link_sections)
        self.segments = list(self._link_segments)

    def relocate(self, bias: int) -> None:
        """Present the binary at ``bias`` past its link-time addresses (a PIE's load
        offset). Everything derived from addresses is recomputed lazily."""
        if bias == self.load_bias:
            return
        self.load_bias = bias
        self.sections = {n: replace(s, addr=s.addr + bias if s.addr else 0)
                         for n, s in self._link_sections.items()}
        self.segments = [replace(s, vaddr=s.vaddr + bias) for s in self._link_segments]
        for name in _ADDRESS_DERIVED:
            self.__dict__.pop(name, None)

    def static_pointer(self, address: int) -> int:
        """The pointer the binary's file image holds at run-time ``address``, relocated:
        the file holds link-time values (the dynamic relocations' addends)."""
        value = int.from_bytes(self.read_vaddr(address, self.ptr_size), "little")
        return value + self.load_bias if value else 0

    def close(self) -> None:
        self.data.close()
        self._file.close()

    # --- raw bytes -------------------------------------------------------------------

    def section_bytes(self, name: str) -> memoryview | None:
        s = self.sections.get(name)
        if s is None or not s.loaded:
            return None
        return memoryview(self.data)[s.offset : s.offset + s.size]

    def read_vaddr(self, address: int, size: int) -> bytes:
        """Bytes at a link-time virtual address, from the file's PT_LOAD segments.
        Zero-filled .bss tail is returned as zeros (it is zero until the program runs)."""
        for seg in self.segments:
            if seg.vaddr <= address and address + size <= seg.vaddr + seg.memsz:
                rel = address - seg.vaddr
                if rel + size <= seg.filesz:
                    return bytes(self.data[seg.offset + rel : seg.offset + rel + size])
                head = max(0, min(size, seg.filesz - rel))
                body = bytes(self.data[seg.offset + rel : seg.offset + rel + head]) if head else b""
                return body + b"\0" * (size - head)
        raise FaultError(address, size, "not in the binary's segments")

    def segment_at(self, address: int) -> Segment | None:
        """The PT_LOAD segment whose memory image (file bytes, then zero fill) holds ``address``."""
        for seg in self.segments:
            if seg.vaddr <= address < seg.vaddr + seg.memsz:
                return seg
        return None

    def file_backed(self, address: int) -> Segment | None:
        """The PT_LOAD segment holding ``address`` in its file-backed part, if any."""
        for seg in self.segments:
            if seg.vaddr <= address < seg.vaddr + seg.filesz:
                return seg
        return None

    @property
    def pclntab_section(self) -> Section | None:
        """The pclntab's section: `.gopclntab`, or in a PIE before Go 1.26
        `.data.rel.ro.gopclntab` (it holds relocated pointers there)."""
        for name in PCLNTAB_SECTIONS:
            s = self.sections.get(name)
            if s is not None and s.loaded and s.size:
                return s
        return None

    # --- identity --------------------------------------------------------------------

    @cached_property
    def go_build_id(self) -> bytes | None:
        return _note_desc(self.section_bytes(".note.go.buildid"))

    @cached_property
    def gnu_build_id(self) -> bytes | None:
        return _note_desc(self.section_bytes(".note.gnu.build-id"))

    @property
    def has_dwarf(self) -> bool:
        s = self.sections.get(".debug_info")
        return s is not None and s.size > 0

    # --- symbols ---------------------------------------------------------------------

    @cached_property
    def symbols(self) -> dict[str, Symbol]:
        out: dict[str, Symbol] = {}
        tab = self.elf.get_section_by_name(".symtab")
        if tab is None:
            return out
        if self.elf.elfclass == 64 and self.elf.little_endian:
            strtab = self.elf.get_section(tab["sh_link"]).data()
            return _symbols64(tab.data(), strtab, self.load_bias)
        for sym in tab.iter_symbols():  # type: ignore[attr-defined]
            st = sym["st_info"]["type"]
            if st not in ("STT_FUNC", "STT_OBJECT"):
                continue
            out.setdefault(
                sym.name,
                Symbol(sym.name, sym["st_value"] + self.load_bias, sym["st_size"],
                       "func" if st == "STT_FUNC" else "object"),
            )
        return out

    @cached_property
    def _sorted_objects(self) -> tuple[list[int], list[Symbol]]:
        objs = sorted((s for s in self.symbols.values() if s.kind == "object"), key=lambda s: s.addr)
        return [s.addr for s in objs], objs

    def symbol(self, name: str) -> Symbol | None:
        return self.symbols.get(name)

    def symbol_at(self, address: int) -> Symbol | None:
        """The data symbol (a global) whose bytes hold ``address``, if any."""
        addrs, objs = self._sorted_objects
        i = bisect.bisect_right(addrs, address) - 1
        if i >= 0 and objs[i].addr <= address < objs[i].addr + max(objs[i].size, 1):
            return objs[i]
        return None

    # --- lazily built readers ---------------------------------------------------------

    @cached_property
    def pclntab(self) -> Pclntab:
        from godbg.program.pclntab import Pclntab

        return Pclntab.from_binary(self)

    @cached_property
    def dwarf(self) -> DwarfInfo:
        from godbg.program.dwarf import DwarfInfo

        return DwarfInfo.from_binary(self)

    @cached_property
    def buildinfo(self) -> BuildInfo:
        from godbg.program.buildinfo import BuildInfo

        return BuildInfo.from_binary(self)


# Cached properties computed from addresses: dropped when the binary is relocated
# (DwarfInfo keeps link-time addresses and adds the bias as it answers).
_ADDRESS_DERIVED = ("symbols", "_sorted_objects", "pclntab")


def _note_desc(raw: memoryview | None) -> bytes | None:
    """The descriptor of the first ELF note in a note section."""
    if raw is None or len(raw) < 12:
        return None
    namesz = int.from_bytes(raw[0:4], "little")
    descsz = int.from_bytes(raw[4:8], "little")
    desc_off = 12 + ((namesz + 3) & ~3)
    if desc_off + descsz > len(raw):
        return None
    return bytes(raw[desc_off : desc_off + descsz])


_ELF64_SYM = struct.Struct("<IBBHQQ")
_STT_OBJECT, _STT_FUNC = 1, 2


def _symbols64(symtab: bytes, strtab: bytes, bias: int) -> dict[str, Symbol]:
    """The functions and objects of a 64-bit little-endian .symtab, decoded in bulk (what
    pyelftools' iter_symbols gives, a tenth of a second sooner for a Go binary's start-up)."""
    out: dict[str, Symbol] = {}
    n = len(symtab) // _ELF64_SYM.size
    for st_name, st_info, _other, _shndx, value, size in _ELF64_SYM.iter_unpack(symtab[: n * _ELF64_SYM.size]):
        kind = st_info & 0xF
        if kind != _STT_FUNC and kind != _STT_OBJECT:
            continue
        end = strtab.find(b"\0", st_name)
        raw = strtab[st_name: end if end >= 0 else len(strtab)]
        name = raw.decode("utf-8", errors="replace") if raw else ""
        if name not in out:
            out[name] = Symbol(name, value + bias, size, "func" if kind == _STT_FUNC else "object")
    return out
