"""The garbage collector's global roots: the words of the data and bss sections that
hold pointers. The runtime builds a pointer bitmap for each (``moduledata.gcdatamask``
and ``gcbssmask``, one bit per word) at start-up; where it is missing or unreadable
every word counts (conservative)."""

from __future__ import annotations

import struct

from godbg.errors import FaultError, GodbgError
from godbg.program.target import Target
from godbg.runtime.layouts import layout
from godbg.runtime.unwind import read_uncached

MODULEDATA = "runtime.firstmoduledata"
# Sections bigger than this are not a Go binary's data or bss.
MAX_SECTION = 1 << 31


def _words(raw: bytes) -> tuple[int, ...]:
    n = len(raw) // 8
    return struct.unpack(f"<{n}Q", raw[: n * 8])


def _masked(target: Target, words: tuple[int, ...], n_bits: int, bytedata: int) -> tuple[int, ...] | None:
    if not bytedata or n_bits < len(words):
        return None
    try:
        bits = read_uncached(target, bytedata, (len(words) + 7) // 8)
    except FaultError:
        return None
    return tuple(w if bits[i >> 3] >> (i & 7) & 1 else 0 for i, w in enumerate(words))


def data_roots(target: Target) -> list[tuple[int, tuple[int, ...]]]:
    """[(section start, its words with non-pointer words zeroed)] for data and bss."""

    def compute() -> list[tuple[int, tuple[int, ...]]]:
        lay = layout(target, "runtime.moduledata")
        md = target.symbol_address(MODULEDATA)
        raw = target.memory.read(md, lay.size)

        def field(path: str, fmt: str = "<Q") -> int:
            return int(struct.unpack_from(fmt, raw, lay.off(path))[0])

        out = []
        for lo, hi, mask in (("data", "edata", "gcdatamask"), ("bss", "ebss", "gcbssmask")):
            start, end = field(lo), field(hi)
            if not 0 < end - start < MAX_SECTION:
                target.warn(f"moduledata.{lo} is implausible: {start:#x}..{end:#x}")
                continue
            try:
                words = _words(read_uncached(target, start, end - start))
            except FaultError as e:
                target.warn(f"the {lo} section is unreadable: {e}")
                continue
            masked = None
            try:
                masked = _masked(target, words, field(f"{mask}.n", "<i"), field(f"{mask}.bytedata"))
            except GodbgError:
                masked = None
            out.append((start, masked if masked is not None else words))
        return out

    return target.memo("roots:data", compute)
