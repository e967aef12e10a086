"""Where a position-independent executable was loaded: its load bias (run-time address
minus link-time address), from the facts each backend has.

- the auxiliary vector (a core's NT_AUXV note, /proc/PID/auxv, gdb's `info auxv`):
  ``AT_ENTRY`` is the run-time entry point, the ELF header's ``e_entry`` the link-time one;
- the executable's file mappings (a core's NT_FILE note): the mapping of file offset 0
  starts at the first PT_LOAD segment's page plus the bias.

A non-PIE executable is never relocated: an AT_ENTRY other than its entry point means
the process ran some other program."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from godbg.errors import TargetError
from godbg.program.binary import GoBinary

AT_NULL = 0
AT_ENTRY = 9
_AUXV_PAIR = struct.Struct("<QQ")
# Longest auxiliary vector read: Linux has fewer than 40 entries.
MAX_AUXV_ENTRIES = 256
PAGE_SIZE = 4096


@dataclass(frozen=True)
class FileMapping:
    """One NT_FILE entry (or `info proc mappings` line): [start, end) maps ``path`` from ``offset``."""

    start: int
    end: int
    offset: int
    path: str


def auxv_value(auxv: bytes, key: int) -> int | None:
    """The value of ``key`` in a 64-bit auxiliary vector, or None."""
    n = min(len(auxv) // _AUXV_PAIR.size, MAX_AUXV_ENTRIES)
    for i in range(n):
        k, v = _AUXV_PAIR.unpack_from(auxv, i * _AUXV_PAIR.size)
        if k == AT_NULL:
            return None
        if k == key:
            return int(v)
    return None


def process_at_entry(pid: int) -> int | None:
    """AT_ENTRY of a live local process, from /proc/PID/auxv; None when unreadable."""
    try:
        with open(f"/proc/{pid}/auxv", "rb") as f:
            return auxv_value(f.read(), AT_ENTRY)
    except OSError:
        return None


def bias_from_entry(binary: GoBinary, at_entry: int) -> int:
    """The bias that puts the binary's entry point at ``at_entry``. A bias that is not
    page-aligned cannot be a load offset: the process ran some other program."""
    bias = at_entry - binary.entry
    if bias % PAGE_SIZE:
        raise TargetError(
            f"{binary.path} does not match the process: its entry point {binary.entry:#x} cannot be "
            f"loaded at {at_entry:#x} (AT_ENTRY); wrong binary?")
    return bias


def bias_from_mappings(binary: GoBinary, mappings: Iterable[FileMapping]) -> int | None:
    """The bias from the mapping of the executable's first page, matched by file name."""
    if not binary._link_segments:
        return None
    first = min(s.vaddr for s in binary._link_segments) & ~(PAGE_SIZE - 1)
    names = {os.path.basename(binary.path), os.path.basename(os.path.realpath(binary.path))}
    for m in mappings:
        name = os.path.basename(m.path.removesuffix(" (deleted)"))
        if m.offset == 0 and name in names:
            return m.start - first
    return None


def find_bias(binary: GoBinary, at_entry: int | None, mappings: Iterable[FileMapping] = ()) -> int | None:
    """The load bias of a PIE from the auxiliary vector's AT_ENTRY, else the file
    mappings; 0 for a non-PIE executable; None when neither source says."""
    if not binary.is_pie:
        if at_entry and at_entry != binary.entry:
            raise TargetError(f"{binary.path} does not match the process: its entry point is "
                              f"{binary.entry:#x}, the process started at {at_entry:#x} (AT_ENTRY); wrong binary?")
        return 0
    if at_entry:
        return bias_from_entry(binary, at_entry)
    return bias_from_mappings(binary, mappings)


def apply_bias(binary: GoBinary, at_entry: int | None, mappings: Iterable[FileMapping] = (),
               where: str = "the process") -> None:
    """Relocate ``binary`` to where ``where`` loaded it, or say why that is unknown."""
    bias = find_bias(binary, at_entry, mappings)
    if bias is None:
        raise TargetError(
            f"cannot find the load offset of PIE {binary.path} in {where}: no auxiliary vector "
            "(AT_ENTRY) and no mapping of the executable")
    binary.relocate(bias)
