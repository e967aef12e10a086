"""Go values from synthetic memory with hand-built GoTypes: the contract's JSON rules,
the bounds, faults as placeholders, interfaces through runtime type records."""

from __future__ import annotations

import json
import math
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from godbg.errors import FaultError, GodbgError
from godbg.program import dwarf as dw
from godbg.program.dwarf import Field, GoType
from godbg.values import Limits, ValueDecoder, format_text
from godbg.values.decode import BIG_VALUE, decode, decode_from, go_float
from godbg.values.model import Iface, MapRef, Raw, Struct
from tests.unit.fakes import FakeMemory, go_slice, go_string

# --- hand-built types ----------------------------------------------------------------

INT = GoType(dw.INT, "int", 8)
INT8 = GoType(dw.INT8, "int8", 1)
INT16 = GoType(dw.INT16, "int16", 2)
INT32 = GoType(dw.INT32, "int32", 4)
UINT8 = GoType(dw.UINT8, "uint8", 1)
UINT16 = GoType(dw.UINT16, "uint16", 2)
UINT32 = GoType(dw.UINT32, "uint32", 4)
UINT64 = GoType(dw.UINT64, "uint64", 8)
UINTPTR = GoType(dw.UINTPTR, "uintptr", 8)
BOOL = GoType(dw.BOOL, "bool", 1)
F32 = GoType(dw.FLOAT32, "float32", 4)
F64 = GoType(dw.FLOAT64, "float64", 8)
C64 = GoType(dw.COMPLEX64, "complex64", 8)
C128 = GoType(dw.COMPLEX128, "complex128", 16)
STRING = GoType(dw.STRING, "string", 16)
UNSAFE = GoType(dw.UNSAFE_POINTER, "unsafe.Pointer", 8)
EFACE = GoType(dw.INTERFACE, "interface {}", 16, empty=True,
               fields=[Field("_type", 0, UINTPTR), Field("data", 8, UNSAFE)])
ERROR = GoType(dw.INTERFACE, "error", 16, empty=False,
               fields=[Field("tab", 0, UINTPTR), Field("data", 8, UNSAFE)])


def struct_t(name: str, *fields: tuple[str, int, GoType], size: int | None = None) -> GoType:
    fl = [Field(n, o, t) for n, o, t in fields]
    if size is None:
        size = max((o + t.size for _, o, t in fields), default=0)
        size = (size + 7) & ~7
    return GoType(dw.STRUCT, name, size, fields=fl)


def ptr(t: GoType) -> GoType:
    return GoType(dw.POINTER, "*" + t.name, 8, elem=t)


def slice_t(t: GoType) -> GoType:
    return GoType(dw.SLICE, "[]" + t.name, 24, elem=t)


def array_t(t: GoType, n: int) -> GoType:
    return GoType(dw.ARRAY, f"[{n}]{t.name}", t.size * n, elem=t, length=n)


def map_t(k: GoType, v: GoType, header: GoType | None = None) -> GoType:
    return GoType(dw.MAP, f"map[{k.name}]{v.name}", 8, key=k, elem=v, header=header)


POINT = struct_t("main.Point", ("X", 0, INT), ("Y", 8, INT))


def at(mem: FakeMemory, data: bytes) -> int:
    return mem.alloc(data)


def dec(mem: FakeMemory, dwarf: object = None, **limits: int) -> ValueDecoder:
    return ValueDecoder(mem, dwarf, Limits(**limits) if limits else Limits())  # type: ignore[arg-type]


# --- scalars -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "t, raw, want",
    [
        (INT, struct.pack("<q", -5), -5),
        (INT8, b"\xff", -1),
        (INT16, struct.pack("<h", -300), -300),
        (INT32, struct.pack("<i", 1 << 30), 1 << 30),
        (UINT8, b"\xff", 255),
        (UINT16, b"\xff\xff", 65535),
        (UINT32, struct.pack("<I", 4000000000), 4000000000),
        (UINT64, struct.pack("<Q", 1 << 63), 1 << 63),
        (UINTPTR, struct.pack("<Q", 0xDEAD), 0xDEAD),
        (BOOL, b"\x01", True),
        (BOOL, b"\x00", False),
        (F64, struct.pack("<d", -0.25), -0.25),
        (F32, struct.pack("<f", 1.1), 1.1),  # shortest float32 text, as Go prints it
        (F64, struct.pack("<d", math.inf), "+Inf"),
        (F64, struct.pack("<d", math.nan), "NaN"),
        (F32, struct.pack("<f", -math.inf), "-Inf"),
        (C128, struct.pack("<dd", 1, -2.5), "(1-2.5i)"),
        (C64, struct.pack("<ff", 0.1, 3), "(0.1+3i)"),
    ],
)
def test_scalars(t: GoType, raw: bytes, want: object) -> None:
    mem = FakeMemory()
    got = dec(mem).decode(t, at(mem, raw))
    assert got == want
    assert type(got) is type(want) or isinstance(got, Raw)
    json.dumps(got, allow_nan=False)  # always valid JSON


def test_go_float_text() -> None:
    cases = {1.0: "1", 1.5: "1.5", 100000.0: "100000", 1e6: "1e+06", 1234567.0: "1.234567e+06",
             0.0001: "0.0001", 0.00001: "1e-05", -2.5: "-2.5", 1e21: "1e+21", -0.0: "-0"}
    for v, want in cases.items():
        assert go_float(v) == want, v


# --- pointers, chans, funcs, maps -----------------------------------------------------


def test_pointer_shaped_words() -> None:
    mem = FakeMemory()
    for t in (ptr(POINT), UNSAFE, GoType(dw.CHAN, "chan int", 8, elem=INT), GoType(dw.FUNC, "func()", 8)):
        assert dec(mem).decode(t, at(mem, struct.pack("<Q", 0xC000012340))) == "0xc000012340"
        assert dec(mem).decode(t, at(mem, bytes(8))) is None


def test_nested_map_reads_count_from_header() -> None:
    mem = FakeMemory()
    hmap = struct_t("hash<string,int>", ("count", 0, INT), ("flags", 8, UINT8), ("B", 9, UINT8), size=48)
    swiss = struct_t("map<string,int>", ("used", 0, UINT64), ("seed", 8, UINTPTR), size=48)
    for header in (hmap, swiss, None):
        h = at(mem, struct.pack("<q", 3) + bytes(40))
        m = map_t(STRING, INT, header)
        got = dec(mem).decode(m, at(mem, struct.pack("<Q", h)))
        assert got == {"map": f"{h:#x}", "count": 3}
        assert isinstance(got, MapRef)
    m = map_t(STRING, INT, hmap)
    assert dec(mem).decode(m, at(mem, bytes(8))) == {"map": None, "count": 0}
    bad = dec(mem).decode(m, at(mem, struct.pack("<Q", 0x1000)))
    assert bad == {"map": "0x1000", "count": "<unreadable 0x1000>"}


def test_count_offset_comes_from_dwarf() -> None:
    mem = FakeMemory()
    odd = struct_t("hash<int,int>", ("pad", 0, INT), ("count", 8, INT))
    h = at(mem, struct.pack("<qq", 99, 4))
    assert dec(mem).decode(map_t(INT, INT, odd), at(mem, struct.pack("<Q", h)))["count"] == 4


# --- strings ---------------------------------------------------------------------------


def test_strings() -> None:
    mem = FakeMemory()
    d = dec(mem, string=8)
    assert d.decode(STRING, at(mem, go_string(mem, "héllo"))) == "héllo"
    assert d.decode(STRING, at(mem, go_string(mem, ""))) == ""
    long = d.decode(STRING, at(mem, go_string(mem, "0123456789abcdef")))
    assert long == "01234567…(+8 bytes)"
    assert d.decode(STRING, at(mem, struct.pack("<Qq", 0x1234, 5))) == "<unreadable 0x1234>"
    assert d.decode(STRING, at(mem, struct.pack("<Qq", 0x1234, -5))).startswith("<bad string")
    assert d.decode(STRING, at(mem, struct.pack("<Qq", 0x1234, 1 << 50))).startswith("<bad string")


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    mem = FakeMemory()
    assert dec(mem).decode(STRING, at(mem, go_string(mem, b"a\xffb"))) == "a\ufffdb"


# --- structs and arrays -----------------------------------------------------------------


def test_struct_fields_in_declaration_order_one_read() -> None:
    mem = FakeMemory()
    inner = struct_t("main.Inner", ("A", 0, INT8), ("B", 8, INT))
    t = struct_t("main.T", ("Name", 0, STRING), ("_", 16, INT), ("In", 24, inner), ("Arr", 40, array_t(UINT16, 3)),
                 ("Flag", 46, BOOL), ("P", 48, ptr(inner)))
    raw = (go_string(mem, "x") + struct.pack("<q", 77) + struct.pack("<bxxxxxxxq", -3, 7)
           + struct.pack("<3H", 1, 2, 3) + b"\x01\x00" + struct.pack("<Q", 0))
    addr = at(mem, raw)
    before = mem.reads
    got = dec(mem).decode(t, addr)
    assert mem.reads - before == 2  # the struct, then the string's bytes
    assert list(got) == ["Name", "In", "Arr", "Flag", "P"]  # blank field left out
    assert got == {"Name": "x", "In": {"A": -3, "B": 7}, "Arr": [1, 2, 3], "Flag": True, "P": None}
    assert isinstance(got, Struct)


def test_arrays_are_bounded() -> None:
    mem = FakeMemory()
    t = array_t(INT, 10)
    got = dec(mem, elems=4).decode(t, at(mem, struct.pack("<10q", *range(10))))
    assert got == [0, 1, 2, 3, "…+6 more"]
    pts = array_t(POINT, 2)
    assert dec(mem).decode(pts, at(mem, struct.pack("<4q", 1, 2, 3, 4))) == [{"X": 1, "Y": 2}, {"X": 3, "Y": 4}]
    bools = array_t(BOOL, 3)
    assert dec(mem).decode(bools, at(mem, b"\x01\x00\x02")) == [True, False, True]
    floats = array_t(F32, 2)
    assert dec(mem).decode(floats, at(mem, struct.pack("<2f", 1.1, 2))) == [1.1, 2.0]
    doubles = slice_t(F64)
    got = dec(mem).decode(doubles, at(mem, go_slice(mem, struct.pack("<2d", math.nan, 0.5), 2)))
    assert got == ["NaN", 0.5] and json.dumps(got, allow_nan=False)


def test_big_array_reads_only_what_it_shows() -> None:
    mem = FakeMemory()
    n = BIG_VALUE // 8 + 10
    t = array_t(INT, n)
    addr = mem.put(0x10_0000, struct.pack("<4q", 5, 6, 7, 8))  # only the head is mapped
    got = dec(mem, elems=3).decode(t, addr)
    assert got == [5, 6, 7, f"…+{n - 3} more"]


def test_zero_size_values() -> None:
    mem = FakeMemory()
    empty = struct_t("struct {}", size=0)
    assert dec(mem).decode(empty, 0x10) == {}
    assert dec(mem).decode(slice_t(empty), at(mem, struct.pack("<Qqq", 0x10, 2, 2))) == [{}, {}]


def test_depth_limit() -> None:
    mem = FakeMemory()
    t = struct_t("main.A", ("B", 0, struct_t("main.B", ("C", 0, struct_t("main.C", ("X", 0, INT))))))
    got = dec(mem, depth=2).decode(t, at(mem, struct.pack("<q", 1)))
    assert got == {"B": {"C": "<main.C …>"}}


# --- slices -------------------------------------------------------------------------------


def test_slices() -> None:
    mem = FakeMemory()
    ints = slice_t(INT)
    assert dec(mem).decode(ints, at(mem, go_slice(mem, struct.pack("<3q", 1, 2, 3), 3, 5))) == [1, 2, 3]
    assert dec(mem).decode(ints, at(mem, bytes(24))) == []  # nil slice
    assert dec(mem, elems=2).decode(ints, at(mem, go_slice(mem, struct.pack("<3q", 1, 2, 3), 3))) == [1, 2, "…+1 more"]
    strs = slice_t(STRING)
    hdrs = go_string(mem, "a") + go_string(mem, "bc")
    assert dec(mem).decode(strs, at(mem, go_slice(mem, hdrs, 2))) == ["a", "bc"]
    nested = slice_t(strs)
    inner = go_slice(mem, go_string(mem, "x"), 1)
    assert dec(mem).decode(nested, at(mem, go_slice(mem, inner + inner, 2))) == [["x"], ["x"]]
    assert dec(mem, depth=1).decode(nested, at(mem, go_slice(mem, inner, 1))) == ["<[]string len 1>"]


def test_bad_and_unreadable_slices_are_placeholders() -> None:
    mem = FakeMemory()
    ints = slice_t(INT)
    assert dec(mem).decode(ints, at(mem, struct.pack("<Qqq", 0x2000, 3, 3))) == "<unreadable 0x2000>"
    assert dec(mem).decode(ints, at(mem, struct.pack("<Qqq", 0x2000, 5, 3))).startswith("<bad slice")
    assert dec(mem).decode(ints, at(mem, struct.pack("<Qqq", 0x2000, -1, 3))).startswith("<bad slice")
    # A fault inside one field does not lose the rest of the struct.
    t = struct_t("main.T", ("S", 0, ints), ("N", 24, INT))
    got = dec(mem).decode(t, at(mem, struct.pack("<Qqqq", 0x2000, 1, 1, 9)))
    assert got == {"S": "<unreadable 0x2000>", "N": 9}


def test_top_level_fault_raises() -> None:
    mem = FakeMemory()
    with pytest.raises(FaultError):
        dec(mem).decode(POINT, 0x5000)


def test_self_referential_types() -> None:
    mem = FakeMemory()
    node = GoType(dw.STRUCT, "main.Node", 16)
    node.fields = (Field("Val", 0, INT), Field("Next", 8, ptr(node)))
    assert dec(mem).decode(node, at(mem, struct.pack("<qQ", 1, 0x4242))) == {"Val": 1, "Next": "0x4242"}
    rec = GoType(dw.SLICE, "main.S", 24)
    rec._elem = rec  # type S []S
    inner = go_slice(mem, bytes(24), 1)
    assert dec(mem).decode(rec, at(mem, go_slice(mem, inner, 1))) == [[[]]]


# --- interfaces ---------------------------------------------------------------------------

TYPES_BASE = 0x40_0000


class FakeDwarf:
    """What the value decoder asks DWARF: runtime type → GoType, and the itab struct."""

    def __init__(self, by_rtype: dict[int, GoType], named: dict[str, GoType] | None = None) -> None:
        self.by_rtype = by_rtype
        self.named = named or {}
        self.types_base = TYPES_BASE

    def type_by_runtime_type(self, address: int, types_base: int | None = None) -> GoType | None:
        return self.by_rtype.get(address)

    def type_by_name(self, name: str) -> GoType | None:
        return self.named.get(name)


def abi_type(mem: FakeMemory, address: int, size: int, ptrbytes: int, kind: int, tflag: int = 0,
             name: str | None = None) -> int:
    """An internal/abi.Type record (Go 1.21+ layout) at ``address``, with its name."""
    str_off = 0
    if name is not None:
        blob = b"\x00" + bytes([len(name)]) + name.encode()
        str_off = 0x8000 + (address - TYPES_BASE)  # names live in the types section too
        mem.put(TYPES_BASE + str_off, blob)
    rec = struct.pack("<QQIBBBBQQii", size, ptrbytes, 0, tflag, 8, 8, kind, 0, 0, str_off, 0)
    mem.put(address, rec)
    return address


KIND_INT = 2
KIND_PTR = 22
KIND_STRUCT = 25
DIRECT = 1 << 5


def test_empty_interface_values() -> None:
    mem = FakeMemory()
    t_int = abi_type(mem, TYPES_BASE + 0x100, 8, 0, KIND_INT)
    t_pt = abi_type(mem, TYPES_BASE + 0x200, 16, 0, KIND_STRUCT)
    t_ptr = abi_type(mem, TYPES_BASE + 0x300, 8, 8, KIND_PTR | DIRECT)
    dwarf = FakeDwarf({t_int: INT, t_pt: POINT, t_ptr: ptr(POINT)})
    d = dec(mem, dwarf)
    boxed = at(mem, struct.pack("<q", 5))
    assert d.decode(EFACE, at(mem, struct.pack("<QQ", t_int, boxed))) == {"type": "int", "value": 5}
    pt = at(mem, struct.pack("<qq", 1, 2))
    got = d.decode(EFACE, at(mem, struct.pack("<QQ", t_pt, pt)))
    assert got == {"type": "main.Point", "value": {"X": 1, "Y": 2}}
    assert isinstance(got, Iface)
    # Pointer-shaped: the data word is the value.
    assert d.decode(EFACE, at(mem, struct.pack("<QQ", t_ptr, 0xC0FFEE))) == {"type": "*main.Point",
                                                                           "value": "0xc0ffee"}
    assert d.decode(EFACE, at(mem, bytes(16))) is None
    # Boxed value unreadable: the interface still says what type it holds.
    assert d.decode(EFACE, at(mem, struct.pack("<QQ", t_int, 0x3000))) == {"type": "int",
                                                                         "value": "<unreadable 0x3000>"}


def test_direct_flag_in_tflag_go126() -> None:
    mem = FakeMemory()
    wrap = struct_t("main.W", ("p", 0, ptr(INT)))
    t_w = abi_type(mem, TYPES_BASE + 0x100, 8, 8, KIND_STRUCT, tflag=DIRECT)
    d = dec(mem, FakeDwarf({t_w: wrap}))
    assert d.decode(EFACE, at(mem, struct.pack("<QQ", t_w, 0x1234))) == {"type": "main.W", "value": {"p": "0x1234"}}


def test_non_empty_interface_through_itab() -> None:
    mem = FakeMemory()
    code = GoType(dw.INT, "main.Code", 8)
    t_code = abi_type(mem, TYPES_BASE + 0x100, 8, 0, KIND_INT)
    itab = at(mem, struct.pack("<QQIIQ", 0x999, t_code, 0, 0, 0x401000))
    d = dec(mem, FakeDwarf({t_code: code}))
    got = d.decode(ERROR, at(mem, struct.pack("<QQ", itab, at(mem, struct.pack("<q", 7)))))
    assert got == {"type": "main.Code", "value": 7}
    assert d.decode(ERROR, at(mem, bytes(16))) is None
    bad = d.decode(ERROR, at(mem, struct.pack("<QQ", 0x77, 0x88)))
    assert bad == {"type": "<unreadable 0x77>", "value": "0x88"}


def test_itab_type_offset_from_dwarf() -> None:
    mem = FakeMemory()
    itab_t = struct_t("internal/abi.ITab", ("Inter", 0, UINTPTR), ("Hash", 8, UINT32), ("Type", 16, UINTPTR))
    t_int = abi_type(mem, TYPES_BASE + 0x100, 8, 0, KIND_INT)
    itab = at(mem, struct.pack("<QQQ", 0, 0, t_int))
    d = dec(mem, FakeDwarf({t_int: INT}, {"internal/abi.ITab": itab_t}))
    boxed = at(mem, struct.pack("<q", 3))
    assert d.decode(ERROR, at(mem, struct.pack("<QQ", itab, boxed))) == {"type": "int", "value": 3}


def test_unknown_dynamic_type_named_from_runtime_record() -> None:
    mem = FakeMemory()
    t_x = abi_type(mem, TYPES_BASE + 0x100, 24, 8, KIND_STRUCT, tflag=2, name="*main.Hidden")
    d = dec(mem, FakeDwarf({}))
    got = d.decode(EFACE, at(mem, struct.pack("<QQ", t_x, 0xABC)))
    assert got == {"type": "main.Hidden", "value": "0xabc"}  # TFlagExtraStar drops the '*'
    nowhere = d.decode(EFACE, at(mem, struct.pack("<QQ", 0x5555, 0xABC)))
    assert nowhere == {"type": "<type 0x5555>", "value": "0xabc"}


def test_without_dwarf_interfaces_still_decode_safely() -> None:
    mem = FakeMemory()
    got = dec(mem).decode(EFACE, at(mem, struct.pack("<QQ", 0x5555, 0xABC)))
    assert got == {"type": "<type 0x5555>", "value": "0xabc"}


# --- fast path and text ---------------------------------------------------------------------


def test_compiled_decoders_are_reused_and_decode_from_buffers() -> None:
    mem = FakeMemory()
    d = dec(mem)
    assert d.compile(POINT) is d.compile(POINT)
    buf = struct.pack("<qqqq", 1, 2, 3, 4)
    fn = d.compile(POINT)
    assert [fn(buf, 0), fn(buf, 16)] == [{"X": 1, "Y": 2}, {"X": 3, "Y": 4}]
    assert d.decode_from(memoryview(buf), 16, POINT) == {"X": 3, "Y": 4}
    assert decode_from(buf, 8, INT, mem) == 2
    assert decode(mem, INT, at(mem, struct.pack("<q", 6))) == 6


def test_format_text() -> None:
    v = Struct(X=1, Y="a", P=Raw("0xc000010000"), N=None, L=[1.5, True],
               I=Iface(type="int", value=5), M=MapRef(map=Raw("0x10"), count=2), Z=MapRef(map=None, count=0))
    assert format_text(v) == ('{X: 1, Y: "a", P: 0xc000010000, N: nil, L: [1.5, true], I: int(5), '
                              'M: map(0x10, len 2), Z: map(nil)}')
    assert format_text("foo") == '"foo"'
    assert format_text(Raw("<unreadable 0x10>")) == "<unreadable 0x10>"
    assert format_text(list(range(10_000)), limit=20).endswith("…")


def test_results_are_plain_json() -> None:
    mem = FakeMemory()
    t = struct_t("main.T", ("P", 0, ptr(INT)), ("S", 8, STRING), ("E", 24, EFACE))
    got = dec(mem).decode(t, at(mem, struct.pack("<Q", 0x10) + go_string(mem, "s") + bytes(16)))
    assert json.loads(json.dumps(got)) == {"P": "0x10", "S": "s", "E": None}


# --- corrupt memory: never anything but a value or a godbg error -----------------------------

COMPLEX = struct_t(
    "main.Mess",
    ("S", 0, STRING), ("L", 16, slice_t(STRING)), ("E", 40, EFACE), ("R", 56, ERROR),
    ("M", 72, map_t(STRING, INT)), ("A", 80, array_t(slice_t(INT), 2)), ("F", 128, F64),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=COMPLEX.size, max_size=COMPLEX.size), st.binary(min_size=0, max_size=4096))
def test_corrupt_images_never_crash(image: bytes, heap: bytes) -> None:
    mem = FakeMemory()
    mem.put(0x10000, heap)
    # Point some words into the fake heap so that decoding follows them.
    words = bytearray(image)
    for off in (0, 16, 48, 64, 72, 80, 104):
        if words[off] & 1:
            words[off : off + 8] = struct.pack("<Q", 0x10000 + (words[off] & 0xF0))
    addr = at(mem, bytes(words))
    d = dec(mem, FakeDwarf({0x10000: COMPLEX}), elems=16, string=64)
    try:
        got = d.decode(COMPLEX, addr)
    except GodbgError:
        return
    json.dumps(got, allow_nan=False)
