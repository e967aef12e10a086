"""Types from the runtime's type descriptors (godbg.types.descriptors) on a type section the
test writes: a struct with a pointer to itself, found by name, and corrupt sections that end
in a godbg error, never a hang or another exception. Record layouts: go1.27's built-in ones."""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from godbg.errors import CorruptError, FaultError, GodbgError
from godbg.runtime.layouts import StructLayout
from godbg.runtime.layouts_builtin import tables
from godbg.types.descriptors import DescriptorTypes
from tests.unit.fakes import FakeMemory

LO = 0x40_0000
SIZE = 0x2000
KIND_INT, KIND_PTR, KIND_STRUCT = 2, 22, 25
TFLAG_EXTRA_STAR = 2


class FakeTarget:
    def __init__(self, memory: FakeMemory) -> None:
        self.memory = memory
        self.cache: dict[str, Any] = {}
        for name, entry in tables()["releases"]["1.27"]["layouts"].items():
            f = entry["fields"]
            self.cache[f"layout:{name}"] = StructLayout(name, entry["size"], {k: v[0] for k, v in f.items()},
                                                        {k: v[1] for k, v in f.items()})


def reader(section: bytes) -> DescriptorTypes:
    mem = FakeMemory({LO: section})
    t = FakeTarget(mem)
    d = DescriptorTypes.__new__(DescriptorTypes)
    d.target, d.memory, d.lo, d.hi = t, mem, LO, LO + len(section)  # type: ignore[assignment]
    d.abi = t.cache["layout:internal/abi.Type"]
    d._by_addr, d._building, d._by_name, d._blob, d._depth = {}, set(), {}, None, 0
    d._map_record = t.cache["layout:internal/abi.MapType"]
    return d


def abi_type(size: int, kind: int, name_off: int, tflag: int = 0) -> bytes:
    return struct.pack("<QQIBBBBQQii", size, 0, 0, tflag, 8, 8, kind, 0, 0, name_off, 0)


def name(text: str, flags: int = 0) -> bytes:
    return bytes([flags, len(text)]) + text.encode()


def section() -> bytes:
    """int at 0x100, main.Node {Val int; Next *main.Node} at 0x200, *main.Node at 0x300."""
    s = bytearray(SIZE)

    def put(off: int, b: bytes) -> None:
        s[off : off + len(b)] = b

    put(0x10, name("int"))
    put(0x20, name("*main.Node"))
    put(0x40, name("Val", 1))
    put(0x50, name("Next", 1))
    put(0x100, abi_type(8, KIND_INT, 0x10))
    put(0x200, abi_type(16, KIND_STRUCT, 0x20, TFLAG_EXTRA_STAR) + struct.pack("<QQqq", 0, LO + 0x280, 2, 2))
    put(0x280, struct.pack("<QQQ", LO + 0x40, LO + 0x100, 0) + struct.pack("<QQQ", LO + 0x50, LO + 0x300, 8))
    put(0x300, abi_type(8, KIND_PTR, 0x20) + struct.pack("<Q", LO + 0x200))
    return bytes(s)


def test_struct_with_a_pointer_to_itself_by_name() -> None:
    d = reader(section())
    node = d.by_name("main.Node")
    assert node is not None and node.kind == "struct" and node.size == 16
    fields = [(f.name, f.offset, f.type.name) for f in node.fields or ()]
    assert fields == [("Val", 0, "int"), ("Next", 8, "*main.Node")]
    ptr = d.by_name("*main.Node")
    assert ptr is not None and ptr.kind == "pointer" and ptr.elem is node
    assert d.by_name("main.Nope") is None


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.integers(0, SIZE - 8), st.integers(0, (1 << 64) - 1)), max_size=24))
def test_corrupt_sections_end_in_a_godbg_error(patches: list[tuple[int, int]]) -> None:
    s = bytearray(section())
    for off, word in patches:
        s[off : off + 8] = struct.pack("<Q", word)
    d = reader(bytes(s))
    for lookup in (lambda: d.by_name("main.Node"), lambda: d.type_at(LO + 0x200), lambda: d.type_at(LO + 0x300)):
        try:
            t = lookup()
            if t is not None and t.elem is not None:
                _ = t.elem.fields
        except (GodbgError, FaultError, CorruptError):
            pass
