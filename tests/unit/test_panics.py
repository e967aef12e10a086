"""Pure parts of the panic path: runtime error texts, the runtime's float printing,
the fatal error line of printBacklog, open-coded defer info varints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godbg.errors import CorruptError
from godbg.runtime.panics import _is_throw, _thrower, _uvarint, last_fatal_line
from godbg.runtime.runtime_errors import bounds_error_text, format_float_g, format_float_old
from godbg.runtime.unwind import Frame

# Expected texts are boundsError.Error() as Go 1.22-1.27 print them (runtime/error.go).
BOUNDS_CASES = [
    ((5, 3, True, 0), "runtime error: index out of range [5] with length 3"),
    ((-1, 3, True, 0), "runtime error: index out of range [-1]"),
    ((7, 4, True, 1), "runtime error: slice bounds out of range [:7] with length 4"),
    ((9, 8, True, 2), "runtime error: slice bounds out of range [:9] with capacity 8"),
    ((3, 2, True, 3), "runtime error: slice bounds out of range [3:2]"),
    ((4, 2, True, 8), "runtime error: cannot convert slice with length 2 to array or pointer to array with length 4"),
]


@pytest.mark.parametrize("args,want", BOUNDS_CASES)
def test_bounds_error_text(args, want):
    assert bounds_error_text(*args) == want


def test_bounds_error_unsigned_x_prints_as_unsigned():
    # x is stored as an int64; unsigned indexes above 2^63 come back negative.
    want = "runtime error: index out of range [18446744073709551615] with length 3"
    assert bounds_error_text(-1, 3, False, 0) == want


def test_bounds_error_bad_code():
    with pytest.raises(CorruptError):
        bounds_error_text(1, 1, True, 42)


@pytest.mark.parametrize("v,old,new", [
    (1.5, "+1.500000e+000", "1.5"),
    (-2.25, "-2.250000e+000", "-2.25"),
    (0.0, "+0.000000e+000", "0"),
    (1e6, "+1.000000e+006", "1e+06"),
    (123456.0, "+1.234560e+005", "123456"),
    (0.0001, "+1.000000e-004", "0.0001"),
    (1e-05, "+1.000000e-005", "1e-05"),
    (float("inf"), "+Inf", "+Inf"),
])
def test_float_formats(v, old, new):
    assert format_float_old(v) == old
    assert format_float_g(v) == new


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_float_g_round_trips(v):
    assert float(format_float_g(v)) == v


BACKLOG = ("hello from the program\nruntime: goroutine stack exceeds 8388608-byte limit\n"
           "runtime: sp=0xc020160388 stack=[0xc020160000, 0xc040160000]\nfatal error: stack overflow\n")


def test_last_fatal_line():
    assert last_fatal_line(BACKLOG) == "stack overflow"
    assert last_fatal_line("fatal error: first\nfatal error: concurrent map writes\n") == "concurrent map writes"
    assert last_fatal_line("nothing fatal here\n") is None
    # printindented (Go 1.23+) continues a multi-line message with a tab.
    assert last_fatal_line("fatal error: two\n\tlines\n") == "two\nlines"


@given(st.text())
def test_last_fatal_line_never_raises(text):
    got = last_fatal_line(text)
    assert got is None or isinstance(got, str)


def test_uvarint():
    assert _uvarint(bytes([81, 8]), 0) == (81, 1)
    assert _uvarint(bytes([153, 1, 8]), 0) == (153, 2)
    with pytest.raises(CorruptError):
        _uvarint(bytes([0x80] * 12), 0)


def _frame(name: str) -> Frame:
    return Frame(name, "x.go", 1, 0x1000, 0x2000, 0x2100, False, 0x1000, 0)


def test_thrower_skips_wrappers():
    frames = [_frame(n) for n in ("runtime.fatalthrow", "runtime.fatal", "internal/runtime/maps.fatal",
                                  "internal/runtime/maps.(*Map).putSlotSmall", "main.main")]
    assert _is_throw("internal/runtime/maps.fatal")
    assert _thrower(frames) == "internal/runtime/maps.(*Map).putSlotSmall"
    assert _thrower([_frame("main.main")]) is None
