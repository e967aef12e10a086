"""The PIE load bias: AT_ENTRY from an auxiliary vector, the executable's mapping, and
GoBinary.relocate moving every address the binary hands out."""

from __future__ import annotations

import shutil
import struct
from types import SimpleNamespace

import pytest

from godbg.errors import TargetError
from godbg.program.binary import GoBinary
from godbg.program.loadbias import AT_ENTRY, FileMapping, auxv_value, find_bias

PAGE = 4096
AT_PHDR, AT_PAGESZ = 3, 6


def auxv(*pairs: tuple[int, int]) -> bytes:
    return b"".join(struct.pack("<QQ", k, v) for k, v in (*pairs, (0, 0)))


def fake_binary(pie: bool, entry: int = 0x484E00, first_vaddr: int = 0x400000) -> SimpleNamespace:
    segments = [SimpleNamespace(vaddr=first_vaddr + 0x1000), SimpleNamespace(vaddr=first_vaddr)]
    return SimpleNamespace(is_pie=pie, entry=entry, path="/x/prog", _link_segments=segments)


def test_auxv_value_stops_at_null() -> None:
    raw = auxv((AT_PHDR, 0x40), (AT_PAGESZ, PAGE), (AT_ENTRY, 0x1234))
    assert auxv_value(raw, AT_ENTRY) == 0x1234
    assert auxv_value(raw + struct.pack("<QQ", 99, 1), 99) is None  # after AT_NULL
    assert auxv_value(b"\x01\x02", AT_ENTRY) is None  # too short


def test_bias_from_entry() -> None:
    b = fake_binary(pie=True)
    assert find_bias(b, 0x484E00 + 0x5555_0000_0000) == 0x5555_0000_0000  # type: ignore[arg-type]
    with pytest.raises(TargetError, match="wrong binary"):
        find_bias(b, 0x484E00 + 0x10)  # type: ignore[arg-type]


def test_fixed_address_binary_is_never_moved() -> None:
    b = fake_binary(pie=False)
    assert find_bias(b, 0x484E00) == 0  # type: ignore[arg-type]
    assert find_bias(b, None) == 0  # type: ignore[arg-type]
    with pytest.raises(TargetError, match="wrong binary"):
        find_bias(b, 0x500000)  # type: ignore[arg-type]


def test_bias_from_mappings_when_no_auxv() -> None:
    b = fake_binary(pie=True)
    maps = [FileMapping(0x7F00_0000_0000, 0x7F00_0000_1000, 0, "/usr/lib/libc.so.6"),
            FileMapping(0x5600_0010_1000, 0x5600_0020_0000, 0x1000, "/x/prog"),
            FileMapping(0x5600_0010_0000, 0x5600_0010_1000, 0, "/x/prog (deleted)")]
    assert find_bias(b, None, maps) == 0x5600_0010_0000 - 0x400000  # type: ignore[arg-type]
    assert find_bias(b, None, maps[:2]) is None  # type: ignore[arg-type]


def test_relocate_moves_sections_segments_and_reads() -> None:
    path = shutil.which("ls")
    assert path is not None
    b = GoBinary(path)
    if not b.is_pie:
        pytest.skip(f"{path} is not position-independent")
    text = b.sections[".text"]
    seg = b.segment_at(text.addr)
    assert seg is not None
    before = b.read_vaddr(text.addr, 16)
    bias = 0x5555_5555_4000
    b.relocate(bias)
    assert b.load_bias == bias and b.sections[".text"].addr == text.addr + bias
    assert b.read_vaddr(text.addr + bias, 16) == before
    assert b.segment_at(text.addr) is None or b.segment_at(text.addr) != seg
    b.relocate(0)
    assert b.sections[".text"].addr == text.addr
    b.close()
