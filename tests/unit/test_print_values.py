"""print's value rules on memory images the tests build: pointers followed to the depth,
cycles marked, wild pointers and absurd lengths marked (never a hang or a traceback), funcs
named, channels summarised; and the expression parser."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from godbg.errors import BadInputError, GodbgError
from godbg.program import dwarf as dw
from godbg.program.dwarf import Field, GoType
from godbg.values import Limits, ValueDecoder, format_text
from godbg.values import expr as ex
from godbg.values.model import ChanRef, FuncRef, Ptr
from tests.unit.fakes import FakeMemory, go_string

INT = GoType(dw.INT, "int", 8)
STRING = GoType(dw.STRING, "string", 16)


def node_type() -> GoType:
    node = GoType(dw.STRUCT, "main.Node", 32)
    ptr = GoType(dw.POINTER, "*main.Node", 8, elem=lambda: node)
    node.fields = (Field("Val", 0, INT), Field("Name", 8, STRING), Field("Next", 24, ptr))
    return node


NODE = node_type()
PNODE = GoType(dw.POINTER, "*main.Node", 8, elem=NODE)


class Hooks:
    def dynamic_type(self, type_addr: int):  # type: ignore[no-untyped-def]
        return None

    def func_name(self, pc: int) -> str | None:
        return {0x401000: "main.handler"}.get(pc)

    def chan_offsets(self) -> tuple[int, int]:
        return (0, 8)

    def itab_type_offset(self) -> int | None:
        return 8

    def error_text(self, type_addr: int, data: int) -> str | None:
        return None


def rich(mem: FakeMemory, pointers: int = 2, **kw: int) -> ValueDecoder:
    return ValueDecoder(mem, None, Limits(depth=32, pointers=pointers, **kw), hooks=Hooks())


def put_node(mem: FakeMemory, addr: int, val: int, name: str, nxt: int) -> None:
    mem.put(addr, struct.pack("<q", val) + go_string(mem, name) + struct.pack("<Q", nxt))


def test_pointers_followed_to_the_depth() -> None:
    mem = FakeMemory()
    put_node(mem, 0x7000, 1, "a", 0x7100)
    put_node(mem, 0x7100, 2, "b", 0x7200)
    put_node(mem, 0x7200, 3, "c", 0)
    root = mem.alloc(struct.pack("<Q", 0x7000))
    got = rich(mem, 2).decode(PNODE, root)
    assert got == {"ptr": "0x7000", "value": {"Val": 1, "Name": "a", "Next": {
        "ptr": "0x7100", "value": {"Val": 2, "Name": "b", "Next": "0x7200"}}}}
    assert rich(mem, 1).decode(PNODE, root)["value"]["Next"] == "0x7100"


def test_cycles_are_marked() -> None:
    mem = FakeMemory()
    put_node(mem, 0x7000, 1, "a", 0x7100)
    put_node(mem, 0x7100, 2, "b", 0x7000)
    root = mem.alloc(struct.pack("<Q", 0x7000))
    got = rich(mem, 50).decode(PNODE, root)
    assert got["value"]["Next"]["value"]["Next"] == {"ptr": "0x7000", "cycle": True}
    self_loop = FakeMemory()
    put_node(self_loop, 0x7000, 1, "a", 0x7000)
    r = self_loop.alloc(struct.pack("<Q", 0x7000))
    assert rich(self_loop, 50).decode(PNODE, r)["value"]["Next"] == {"ptr": "0x7000", "cycle": True}


def test_wild_pointers_are_marked_not_fatal() -> None:
    mem = FakeMemory()
    root = mem.alloc(struct.pack("<Q", 0xDEAD0000))
    got = rich(mem).decode(PNODE, root)
    assert isinstance(got, Ptr) and got["value"] == "<unreadable 0xdead0000>"


def test_funcs_named_and_chans_summarised() -> None:
    mem = FakeMemory()
    fv = mem.alloc(struct.pack("<Q", 0x401000))
    f = GoType(dw.FUNC, "func(int) int", 8)
    assert rich(mem).decode(f, mem.alloc(struct.pack("<Q", fv))) == FuncRef(func="main.handler")
    assert rich(mem).decode(f, mem.alloc(struct.pack("<Q", 0))) is None
    assert rich(mem).decode(f, mem.alloc(struct.pack("<Q", 0x9999_0000)))["func"].startswith("<unreadable")
    hchan = mem.alloc(struct.pack("<QQ", 2, 4))
    c = GoType(dw.CHAN, "chan int", 8, elem=INT)
    got = rich(mem).decode(c, mem.alloc(struct.pack("<Q", hchan)))
    assert got == ChanRef(chan=hex(hchan), len=2, cap=4)
    assert format_text(got) == f"chan({hex(hchan)}, len 2, cap 4)"


def test_without_pointer_rules_nothing_changes() -> None:
    mem = FakeMemory()
    put_node(mem, 0x7000, 1, "a", 0)
    root = mem.alloc(struct.pack("<Q", 0x7000))
    assert ValueDecoder(mem, None).decode(PNODE, root) == "0x7000"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 15), st.integers(0, 1 << 64 - 1), st.integers(-(1 << 62), 1 << 62)),
                min_size=1, max_size=16),
       st.integers(1, 64))
def test_corrupt_linked_structures_end_in_a_value(nodes: list[tuple[int, int, int]], depth: int) -> None:
    """Nodes whose Next points anywhere (each other, themselves, nowhere) and whose Name has
    any length: a JSON value comes out, never a hang or another exception."""
    mem = FakeMemory()
    base = 0x20000
    for i, (nxt, raw_ptr, n) in enumerate(nodes):
        target = base + 32 * (nxt % len(nodes)) if raw_ptr & 1 else raw_ptr
        mem.put(base + 32 * i, struct.pack("<qQqQ", i, raw_ptr, n, target))
    root = mem.alloc(struct.pack("<Q", base))
    try:
        got = rich(mem, depth, elems=8, string=64).decode(PNODE, root)
    except GodbgError:
        return
    json.dumps(got, allow_nan=False)


# --- expressions ---------------------------------------------------------------------


def test_parse_selectors() -> None:
    n = ex.parse('len(main.cfg.Items[3].Tags)')
    assert n == ex.Builtin("len", ex.Field(ex.Index(ex.Root("main.cfg.Items"), 3, False), "Tags"))
    assert ex.parse('main.m["a]b"]') == ex.Index(ex.Root("main.m"), "a]b", True)
    assert ex.parse("*main.p") == ex.Deref(ex.Root("main.p"))
    assert ex.parse("0xc000010000") == ex.Root("0xc000010000")
    assert ex.parse("(*main.p).X") == ex.Field(ex.Deref(ex.Root("main.p")), "X")
    assert ex.parse("main.m[-4]") == ex.Index(ex.Root("main.m"), -4, False)
    assert ex.parse("github.com/a/b.V.F") == ex.Root("github.com/a/b.V.F")


@pytest.mark.parametrize("bad", ["", "main.x[", "main.x[]", "len(main.x", "main.x]", "main.x.", "(" * 100 + "x"])
def test_bad_expressions_are_one_line_errors(bad: str) -> None:
    with pytest.raises(BadInputError):
        ex.parse(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parser_never_raises_anything_else(text: str) -> None:
    try:
        ex.parse(text)
    except BadInputError:
        pass
