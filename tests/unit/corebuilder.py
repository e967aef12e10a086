"""Builds small synthetic ELF core files for unit tests: PT_NOTE with NT_PRSTATUS /
NT_SIGINFO notes and PT_LOAD segments with chosen bytes."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from godbg.backends.core.corefile import NT_PRSTATUS, NT_SIGINFO, REGS_BY_ARCH

EHDR = 64
PHDR = 56


@dataclass
class CoreSpec:
    threads: list[tuple[int, dict[str, int], int]] = field(default_factory=list)  # tid, regs, cursig
    segments: list[tuple[int, bytes, int]] = field(default_factory=list)  # vaddr, data, memsz (0 = len)
    siginfo: tuple[int, int, int] | None = None  # signo, code, addr
    machine: int = 62  # EM_X86_64; EM_AARCH64 is 183

    @property
    def goarch(self) -> str:
        return "arm64" if self.machine == 183 else "amd64"


def _note(ntype: int, desc: bytes, name: bytes = b"CORE\0") -> bytes:
    pad = lambda b: b + b"\0" * (-len(b) % 4)  # noqa: E731
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def prstatus(tid: int, regs: dict[str, int], cursig: int, goarch: str = "amd64") -> bytes:
    head = bytearray(112)
    struct.pack_into("<H", head, 12, cursig)
    struct.pack_into("<i", head, 32, tid)
    names = REGS_BY_ARCH[goarch]
    body = struct.pack(f"<{len(names)}Q", *(regs.get(n, 0) for n in names))
    return bytes(head) + body + b"\0" * 8  # pr_fpvalid + pad


def build_core(spec: CoreSpec) -> bytes:
    notes = b""
    for tid, regs, cursig in spec.threads:
        notes += _note(NT_PRSTATUS, prstatus(tid, regs, cursig, spec.goarch))
    if spec.siginfo:
        signo, code, addr = spec.siginfo
        notes += _note(NT_SIGINFO, struct.pack("<iiiiQ", signo, 0, code, 0, addr) + b"\0" * 104)
    nph = 1 + len(spec.segments)
    offset = EHDR + PHDR * nph
    phdrs = struct.pack("<IIQQQQQQ", 4, 0, offset, 0, 0, len(notes), 0, 4)
    body = notes
    offset += len(notes)
    for vaddr, data, memsz in spec.segments:
        phdrs += struct.pack("<IIQQQQQQ", 1, 6, offset, vaddr, 0, len(data), memsz or len(data), 4096)
        body += data
        offset += len(data)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 4, spec.machine, 1, 0, EHDR, 0, 0, EHDR, PHDR, nph, 0, 0, 0)
    return ehdr + phdrs + body
