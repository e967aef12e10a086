"""Walking runtime linked lists: in order, stopped by a cycle, refused when absurdly long."""

from __future__ import annotations

import struct

import pytest

from godbg.errors import CorruptError
from godbg.program.memory import CachedMemory
from godbg.program.target import Target
from godbg.runtime.linked import follow
from tests.unit.fakes import RegionMemory

LINK = 8  # where each fake node keeps its next pointer
BASE = 0x10000


def target_with(links: dict[int, int]) -> Target:
    raw = RegionMemory()
    for node, nxt in links.items():
        raw.put(node, struct.pack("<QQ", 0xAAAA, nxt))
    return Target(binary=None, memory=CachedMemory(raw), kind="core", threads_fn=list)  # type: ignore[arg-type]


def test_in_order():
    nodes = [BASE + 0x100 * i for i in range(5)]
    t = target_with({n: (nodes[i + 1] if i + 1 < len(nodes) else 0) for i, n in enumerate(nodes)})
    assert follow(t, nodes[0], LINK, "the list", 100) == nodes
    assert follow(t, 0, LINK, "the list", 100) == []


def test_cycle_keeps_the_nodes_before_it():
    a, b, c = BASE, BASE + 0x100, BASE + 0x200
    t = target_with({a: b, b: c, c: b})
    assert follow(t, a, LINK, "the list", 100) == [a, b, c]
    assert any("loops back" in w for w in t.warnings)


def test_too_long_is_corrupt():
    nodes = [BASE + 0x100 * i for i in range(20)]
    t = target_with({n: (nodes[i + 1] if i + 1 < len(nodes) else 0) for i, n in enumerate(nodes)})
    with pytest.raises(CorruptError):
        follow(t, nodes[0], LINK, "the list", 10)
