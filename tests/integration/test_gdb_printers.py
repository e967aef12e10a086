"""gdb's `print` of Go maps through godbg's pretty-printer, against what the program
wrote down about its maps — and winning over runtime-gdb.py's printer when both load."""

from __future__ import annotations

import os
import re

import pytest

from tests.integration import matrix
from tests.integration.gdbrun import gdb_batch

pytestmark = [pytest.mark.gdb]

# print 'main.small' -> $1 = map[int]string with 5 entries (swiss) = {[1] = "one", …}
HEAD = re.compile(r"^\$\d+ = (map\[.*?\]\S+) with (\d+) entries \((swiss|classic)[^)]*\) = \{(.*)\}$", re.S)
ENTRY = re.compile(r'\[(-?\d+)\] = "((?:[^"\\]|\\.)*)"')


@pytest.mark.core_kinds("kernel")
@pytest.mark.parametrize("with_runtime_gdb", [False, True], ids=["alone", "with-runtime-gdb"])
def test_print_small_map(build, core_kind, with_runtime_gdb):
    fx = matrix.crash("maps", build, core_kind=core_kind)
    want = fx.truth["maps"]["small"]
    before = []
    if with_runtime_gdb:
        goroot = matrix.toolchain(build.go).goroot
        before.append(f"source {os.path.join(goroot, 'src', 'runtime', 'runtime-gdb.py')}")
    res = gdb_batch(["print 'main.small'", "print 'main.nilMap'"], str(fx.binary), str(fx.core),
                    before_source=before)
    m = HEAD.match(res.outputs[0])
    assert m, res.outputs[0] + res.stderr[-2000:]
    assert m.group(1) == want["type"] and int(m.group(2)) == want["count"]
    assert m.group(3) == fx.truth["map_impl"]
    got = sorted((int(k), v) for k, v in ENTRY.findall(m.group(4)))
    assert got == sorted((k, v) for k, v in want["entries"])
    assert res.outputs[1].endswith("= map[string]int nil")


# [3] = {X = 2, Y = 4}: gdb's own print of the struct a map[int]*Point elem points to.
POINTED = re.compile(r"\[(-?\d+)\] = \{X = (-?\d+), Y = (-?\d+)\}")


@pytest.mark.core_kinds("kernel")
def test_pointer_elems_print_as_the_structs_they_point_to(build, core_kind):
    fx = matrix.crash("maps", build, core_kind=core_kind)
    want = {k: (v["value"]["X"], v["value"]["Y"]) for k, v in fx.truth["maps"]["ptrVals"]["entries"] if v}
    res = gdb_batch(["print 'main.ptrVals'"], str(fx.binary), str(fx.core))
    got = {int(k): (int(x), int(y)) for k, x, y in POINTED.findall(res.outputs[0])}
    assert got == want, res.outputs[0] + res.stderr[-2000:]
    assert "0x" not in res.outputs[0].split("=", 1)[1].replace("[0] = nil", "")
