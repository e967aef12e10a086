"""Location expressions and lists of frame variables (godbg.program.dwarf_vars) on bytes the
tests build: the piece shapes Go emits, both list formats, and corrupt input."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from godbg.errors import GodbgError
from godbg.program.dwarf_vars import FunctionVars, Piece, VarDesc, evaluate

CFA = 0x7000


def fbreg(n: int) -> bytes:
    out = bytearray([0x91])
    more = True
    while more:
        b = n & 0x7F
        n >>= 7
        more = not ((n == 0 and not b & 0x40) or (n == -1 and b & 0x40))
        out.append(b | (0x80 if more else 0))
    return bytes(out)


def test_expressions_go_emits() -> None:
    assert evaluate(b"\x9c", CFA) == [Piece(0, address=CFA)]
    assert evaluate(fbreg(-336), CFA) == [Piece(0, address=CFA - 336)]
    # a string spilled in two words, and one still in two registers
    assert evaluate(fbreg(8) + b"\x93\x08" + fbreg(16) + b"\x93\x08", CFA) == [
        Piece(8, address=CFA + 8), Piece(8, address=CFA + 16)]
    assert evaluate(b"\x53\x93\x08\x52\x93\x08", CFA) == [Piece(8, register="rbx"), Piece(8, register="rcx")]
    # a dropped first word
    assert evaluate(b"\x93\x08\x53\x93\x08", CFA) == [Piece(8), Piece(8, register="rbx")]
    assert evaluate(b"\x9c", None) == "the frame's CFA is not known"
    assert evaluate(b"", CFA) == "optimised away at this pc"
    assert isinstance(evaluate(b"\xff", CFA), str)


def _fv(sections: dict[str, bytes]) -> FunctionVars:
    fv = FunctionVars.__new__(FunctionVars)
    fv._sections = dict(sections)
    return fv


def test_dwarf4_location_list() -> None:
    loc = (struct.pack("<QQ", (1 << 64) - 1, 0x400000)
           + struct.pack("<QQH", 0x00, 0x3A, 1) + b"\x50"
           + struct.pack("<QQH", 0x3A, 0x246, 1) + b"\x9c"
           + struct.pack("<QQ", 0, 0))
    fv = _fv({".debug_loc": loc})
    v = VarDesc("id", True, None, 0, None, 4)
    assert fv.expression_at(v, 0x400010) == b"\x50"
    assert fv.expression_at(v, 0x400100) == b"\x9c"
    assert fv.expression_at(v, 0x400246) is None


def test_dwarf5_location_list() -> None:
    addr = b"\0" * 8 + struct.pack("<Q", 0x500000)  # addr_base 8: index 0 is 0x500000
    # base_addressx 0; offset_pair [0, 0x3a): rax; offset_pair [0x3a, 0x100): fbreg -24; end
    lists = bytes([1, 0]) + bytes([4, 0x00, 0x3A, 1, 0x50]) + bytes([4, 0x3A, 0x80, 0x02, 2]) + fbreg(-24) + bytes([0])
    fv = _fv({".debug_loclists": lists, ".debug_addr": addr})
    v = VarDesc("x", False, None, 0, 8, 5)
    assert fv.expression_at(v, 0x500001) == b"\x50"
    assert fv.expression_at(v, 0x5000F0) == fbreg(-24)
    assert fv.expression_at(v, 0x500200) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.binary(max_size=64), st.integers(0, 1 << 64 - 1), st.sampled_from([4, 5]))
def test_corrupt_lists_and_expressions(blob: bytes, expr: bytes, pc: int, version: int) -> None:
    fv = _fv({".debug_loc": blob, ".debug_loclists": blob, ".debug_addr": blob})
    try:
        fv.expression_at(VarDesc("v", False, None, 0, 0, version), pc)
    except GodbgError:
        pass
    got = evaluate(expr, CFA)
    assert isinstance(got, (str, list))
