"""ELF core files (kernel dumps and gdb's `gcore`): memory from the PT_LOAD segments,
with the binary's own file-backed segments for what the core left out, and the threads'
registers and the fatal signal from the notes. No debugger involved."""

from __future__ import annotations

import bisect
import mmap
import os
import struct
from dataclasses import dataclass

from godbg.backends.core.compressed import open_core_file
from godbg.errors import FaultError, TargetError
from godbg.program.binary import ARCH_BY_MACHINE, GoBinary
from godbg.program.loadbias import AT_ENTRY, FileMapping, apply_bias, auxv_value
from godbg.program.memory import CachedMemory
from godbg.program.target import SignalInfo, Target, Thread
from godbg.runtime.globals_stripped import lookup_for

NT_PRSTATUS = 1
NT_AUXV = 6
NT_SIGINFO = 0x53494749
NT_FILE = 0x46494C45

# struct elf_prstatus (64-bit Linux): pr_info(12) pr_cursig(2) pad(2) pr_sigpend(8)
# pr_sighold(8) pr_pid pr_ppid pr_pgrp pr_sid (4 each) 4 timevals (16 each) = 112 bytes,
# then pr_reg.
_PRSTATUS_CURSIG = 12
_PRSTATUS_PID = 32
_PRSTATUS_REG = 112

# user_regs_struct order (arch/x86/include/asm/user_64.h).
AMD64_REGS = (
    "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss "
    "fs_base gs_base ds es fs gs"
).split()
# struct user_pt_regs: x0..x30, sp, pc, pstate.
ARM64_REGS = [f"x{i}" for i in range(31)] + ["sp", "pc", "pstate"]
REGS_BY_ARCH = {"amd64": AMD64_REGS, "arm64": ARM64_REGS}


@dataclass(frozen=True)
class LoadSegment:
    vaddr: int
    memsz: int
    offset: int
    filesz: int


class CoreFile:
    """A parsed core file, mmap'd. ``read`` serves only what the core itself holds."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._file = open_core_file(path)  # compressed cores: a decompressed copy
            size = os.fstat(self._file.fileno()).st_size
        except OSError as e:
            raise TargetError(f"cannot open core {path}: {e.strerror}") from None
        if size < 64:
            raise TargetError(f"{path} is not a core file (only {size} bytes)")
        self.data = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        self._fd = self._file.fileno()
        hdr = self.data[:64]
        if hdr[:4] != b"\x7fELF":
            raise TargetError(f"{path} is not an ELF core file")
        if hdr[4] != 2 or hdr[5] != 1:
            raise TargetError(f"{path}: only 64-bit little-endian cores are supported")
        e_type, e_machine = struct.unpack_from("<HH", hdr, 16)
        if e_type != 4:  # ET_CORE
            raise TargetError(f"{path} is an ELF file but not a core file")
        machine = {62: "EM_X86_64", 183: "EM_AARCH64"}.get(e_machine)
        if machine is None:
            raise TargetError(f"{path}: unsupported core architecture (e_machine {e_machine})")
        self.goarch = ARCH_BY_MACHINE[machine]
        e_phoff, = struct.unpack_from("<Q", hdr, 32)
        e_phentsize, e_phnum = struct.unpack_from("<HH", hdr, 54)
        if e_phoff + e_phnum * e_phentsize > size:
            raise TargetError(f"{path} is truncated: its program headers are cut off")
        loads: list[LoadSegment] = []
        notes: list[tuple[int, int]] = []
        for i in range(e_phnum):
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, _align = struct.unpack_from(
                "<IIQQQQQQ", self.data, e_phoff + i * e_phentsize
            )
            if p_type == 1:
                loads.append(LoadSegment(p_vaddr, p_memsz, p_offset, p_filesz))
            elif p_type == 4:
                notes.append((p_offset, p_filesz))
        needed = max([s.offset + s.filesz for s in loads if s.filesz] + [o + n for o, n in notes] + [0])
        if needed > size:
            raise TargetError(
                f"{path} is truncated: {size} bytes where its segments need {needed} "
                f"({100 * size // max(needed, 1)}% present)"
            )
        loads.sort(key=lambda s: s.vaddr)
        self.loads = loads
        self._starts = [s.vaddr for s in loads]
        self.threads: list[Thread] = []
        self.siginfo: SignalInfo | None = None
        self.files: list[tuple[int, int, int, str]] = []  # start, end, file offset, path
        self.auxv: bytes | None = None
        for off, n in notes:
            self._parse_notes(off, n)

    def close(self) -> None:
        self.data.close()
        self._file.close()

    # --- notes -----------------------------------------------------------------------

    def _parse_notes(self, off: int, size: int) -> None:
        end = off + size
        pos = off
        names = REGS_BY_ARCH[self.goarch]
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", self.data, pos)
            desc = pos + 12 + ((namesz + 3) & ~3)
            nxt = desc + ((descsz + 3) & ~3)
            if nxt > end:
                break
            if ntype == NT_PRSTATUS and descsz >= _PRSTATUS_REG + 8 * len(names):
                cursig, = struct.unpack_from("<H", self.data, desc + _PRSTATUS_CURSIG)
                pid, = struct.unpack_from("<i", self.data, desc + _PRSTATUS_PID)
                values = struct.unpack_from(f"<{len(names)}Q", self.data, desc + _PRSTATUS_REG)
                self.threads.append(Thread(pid, dict(zip(names, values)), self.goarch, cursig or None))
            elif ntype == NT_SIGINFO and descsz >= 24 and self.siginfo is None:
                signo, _errno, code = struct.unpack_from("<iii", self.data, desc)
                addr, = struct.unpack_from("<Q", self.data, desc + 16)
                self.siginfo = SignalInfo(signo, code, addr)
            elif ntype == NT_AUXV and self.auxv is None:
                self.auxv = bytes(self.data[desc : desc + descsz])
            elif ntype == NT_FILE and descsz >= 16:
                self._parse_nt_file(desc, descsz)
            pos = nxt

    def _parse_nt_file(self, desc: int, size: int) -> None:
        count, page_size = struct.unpack_from("<QQ", self.data, desc)
        if count > 100000 or 16 + 24 * count > size:
            return
        names = bytes(self.data[desc + 16 + 24 * count : desc + size]).split(b"\0")
        for i in range(count):
            start, stop, pgoff = struct.unpack_from("<QQQ", self.data, desc + 16 + 24 * i)
            name = names[i].decode("utf-8", "replace") if i < len(names) else ""
            self.files.append((start, stop, pgoff * page_size, name))

    @property
    def crash_thread(self) -> Thread | None:
        """The thread the fatal signal was delivered to: the first with pr_cursig set
        (the kernel writes the dumping thread first)."""
        for t in self.threads:
            if t.signal:
                return t
        return self.threads[0] if self.threads else None

    # --- memory ----------------------------------------------------------------------

    def segment_at(self, address: int) -> LoadSegment | None:
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0:
            s = self.loads[i]
            if address < s.vaddr + s.memsz:
                return s
        return None

    def read_own(self, address: int, size: int) -> bytes | None:
        """Bytes the core itself holds for [address, address+size), or None when any of
        it lies in no segment or in the part of a segment the core did not dump."""
        out = []
        pos = address
        end = address + size
        while pos < end:
            s = self.segment_at(pos)
            if s is None:
                return None
            rel = pos - s.vaddr
            if rel >= s.filesz:
                return None
            n = min(end, s.vaddr + s.filesz) - pos
            # pread, not a slice of the mmap: bytes read from a mapping stay mapped and
            # count in this process's RSS, gigabytes for a million goroutines' stacks.
            out.append(os.pread(self._fd, n, s.offset + rel))
            pos += n
        return out[0] if len(out) == 1 else b"".join(out)


class CoreMemory:
    """Raw memory of a core: its own segments, else the binary's file-backed bytes
    (kernels do not dump unmodified text and read-only data)."""

    def __init__(self, core: CoreFile, binary: GoBinary) -> None:
        self.core = core
        self.binary = binary

    def read(self, address: int, size: int) -> bytes:
        got = self.core.read_own(address, size)
        if got is not None:
            return got
        # Piece by piece: part of the range may be in the core, part in the binary.
        out = []
        pos = address
        end = address + size
        while pos < end:
            s = self.core.segment_at(pos)
            if s is not None and pos - s.vaddr < s.filesz:
                n = min(end, s.vaddr + s.filesz) - pos
                out.append(self.core.read_own(pos, n) or b"")
                pos += n
                continue
            # Not dumped: never written since the program loaded it, so the binary's
            # image (file bytes, zero fill past them) is what memory held.
            seg = self.binary.segment_at(pos)
            if seg is None:
                raise FaultError(pos, end - pos, "not in the core")
            n = min(end, seg.vaddr + seg.memsz) - pos
            if s is not None:
                n = min(n, s.vaddr + s.memsz - pos)
            out.append(self.binary.read_vaddr(pos, n))
            pos += n
        return b"".join(out)


def check_core_matches(core: CoreFile, binary: GoBinary) -> None:
    """Refuse a core that was not dumped by this binary: compare the build id notes the
    core holds (the kernel dumps the first page of each ELF mapping) with the binary's."""
    if core.goarch != binary.goarch:
        raise TargetError(f"core is {core.goarch} but {binary.path} is {binary.goarch}")
    for section, ident in ((".note.go.buildid", binary.go_build_id), (".note.gnu.build-id", binary.gnu_build_id)):
        sec = binary.sections.get(section)
        if sec is None or ident is None:
            continue
        in_core = core.read_own(sec.addr, sec.size)
        if in_core is None:
            continue
        if ident not in in_core:
            raise TargetError(
                f"core {core.path} was not dumped by {binary.path}: build ids differ"
            )
        return
    # qemu-user dumps no executable mapping (the notes live in the text segment) and no
    # NT_FILE, but all of the read-only data: its copy of the pclntab must be the binary's.
    _check_readonly_copy(core, binary)
    # No note page in the core (gcore without headers, filtered dumps): compare the
    # program's path from the core's file mappings, as a weaker check.
    exe = os.path.basename(binary.path)
    mapped = {os.path.basename(name) for *_x, name in core.files}
    if core.files and exe not in mapped and not any(n.endswith(" (deleted)") for n in mapped):
        raise TargetError(f"core {core.path} maps no file named {exe}: wrong binary?")


def relocate_for_core(core: CoreFile, binary: GoBinary) -> None:
    """Apply a PIE's load offset, from the core's auxiliary vector or file mappings."""
    at_entry = auxv_value(core.auxv, AT_ENTRY) if core.auxv else None
    apply_bias(binary, at_entry, [FileMapping(*f) for f in core.files], where=f"core {core.path}")


# How much of the pclntab is compared: its header and function table name every function's
# text address, so any other build differs there.
READONLY_CHECK_BYTES = 64 << 10


def _check_readonly_copy(core: CoreFile, binary: GoBinary) -> None:
    sec = binary.sections.get(".gopclntab")
    if sec is None or not sec.loaded:
        return
    size = min(sec.size, READONLY_CHECK_BYTES)
    in_core = core.read_own(sec.addr, size)
    if in_core is not None and in_core != bytes(binary.data[sec.offset : sec.offset + size]):
        raise TargetError(f"core {core.path} was not dumped by {binary.path}: "
                          "its copy of the binary's .gopclntab differs")


def open_core_target(binary_path: str, core_path: str) -> Target:
    binary = GoBinary(binary_path)
    core = CoreFile(core_path)
    relocate_for_core(core, binary)
    check_core_matches(core, binary)
    memory = CachedMemory(CoreMemory(core, binary))
    crash = core.crash_thread
    signal = core.siginfo
    if signal is None and crash is not None and crash.signal:
        signal = SignalInfo(crash.signal)
    target = Target(
        binary=binary,
        memory=memory,
        kind="core",
        threads_fn=lambda: list(core.threads),
        signal=signal,
        crash_thread=crash.tid if crash else None,
        description=f"core {core_path}",
        stripped_symbols=lookup_for(binary),
        backend=core,
    )
    return target
