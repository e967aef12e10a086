"""The pclntab reader: on synthetic tables (exact values, corrupt bytes) and on real
binaries of every toolchain, against `go tool addr2line` (Go's own debug/gosym)."""

from __future__ import annotations

import os
import random
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from godbg.errors import GodbgError, UnsupportedError
from godbg.program.binary import GoBinary
from godbg.program.pclntab import FUNC_FLAG_TOP_FRAME, Pclntab, print_name
from tests.integration import matrix
from tests.unit.pclntab_builder import GOFUNC, TEXT, FuncSpec, build, pcvalue_table, static_reader

FILES = ["/src/a.go", "/src/b.go", "/go/src/runtime/proc.go"]


def sample() -> Pclntab:
    funcs = [
        FuncSpec("runtime.goexit", 0x10, pcsp=[(0x10, 0)], lines=[(0x10, 1700)], file=2, flag=FUNC_FLAG_TOP_FRAME,
                 func_id=8),
        FuncSpec("main.outer", 0x40, pcsp=[(0x4, 0), (0x3C, 0x28), (0x40, 0)], lines=[(0x8, 10), (0x20, 11),
                 (0x40, 12)],
                 inline_index=[(0x10, -1), (0x18, 0), (0x20, 1), (0x40, -1)],
                 inline_tree=[(0, "main.leaf", 0x18, 30), (0, "main.middle", 0x08, 20)],
                 files=[(0x10, 0), (0x18, 1), (0x20, 1), (0x40, 0)]),
        FuncSpec("main.generic[go.shape.int]", 0x20, pcsp=[(0x20, 8)], lines=[(0x20, 40)], start_line=39),
    ]
    data, static = build(funcs, FILES)
    return Pclntab(data, text=TEXT, gofunc=GOFUNC, read_static=static_reader(static))


def test_find_func_and_bounds() -> None:
    tab = sample()
    assert tab.nfunc == 3
    assert tab.find_func(TEXT - 1) is None
    assert tab.find_func(TEXT + 0x70) is None
    assert tab.find_func(TEXT).name == "runtime.goexit"
    f = tab.find_func(TEXT + 0x10 + 0x3F)
    assert (f.name, f.entry, f.end) == ("main.outer", TEXT + 0x10, TEXT + 0x50)
    assert tab.find_func(TEXT + 0x50).start_line == 39
    assert tab.find_func(TEXT).is_top_frame
    assert tab.func_by_name("main.outer") == f
    assert tab.function_names() == ["runtime.goexit", "main.outer", "main.generic[go.shape.int]"]


def test_pc_value_tables() -> None:
    tab = sample()
    f = tab.func_by_name("main.outer")
    assert [tab.pcsp(f, f.entry + off) for off in (0, 3, 4, 0x3B, 0x3C, 0x3F)] == [0, 0, 0x28, 0x28, 0, 0]
    assert tab.pcline(f, f.entry) == ("/src/a.go", 10)
    assert tab.pcline(f, f.entry + 0x12) == ("/src/b.go", 11)
    assert tab.pcline(f, f.entry + 0x30) == ("/src/a.go", 12)
    assert tab.pcvalue(f, 0, f.entry) == -1  # no table
    assert tab.pcdata(f, 7, f.entry) == -1  # no such pcdata


def test_inline_frames_innermost_first() -> None:
    tab = sample()
    f = tab.func_by_name("main.outer")
    frames = tab.inline_frames(f, f.entry + 0x12)
    # pc 0x12: inside leaf (index 0), inlined at 0x18 into middle (index 1), at 0x08 into outer.
    assert [(x.name, x.inlined) for x in frames] == [("main.leaf", True), ("main.middle", True),
                                                     ("main.outer", False)]
    assert [(x.file, x.line) for x in frames] == [("/src/b.go", 11), ("/src/b.go", 11), ("/src/a.go", 11)]
    assert frames[0].start_line == 30
    plain = tab.inline_frames(f, f.entry + 0x30)
    assert [(x.name, x.file, x.line) for x in plain] == [("main.outer", "/src/a.go", 12)]


def test_funcdata_addresses() -> None:
    tab = sample()
    outer = tab.func_by_name("main.outer")
    assert tab.funcdata(outer, 3) == GOFUNC
    assert tab.funcdata(outer, 0) is None
    assert tab.funcdata(tab.func_by_name("runtime.goexit"), 3) is None


def test_pcvalue_encoding_round_trip() -> None:
    runs = [(4, 0), (0x300, 1000), (0x301, -5), (0x10000, 7)]
    assert pcvalue_table(runs)[-1] == 0


@pytest.mark.parametrize("name,printed", [
    ("main.f", "main.f"),
    ("main.g[go.shape.int]", "main.g[...]"),
    ("main.(*T[go.shape.int]).m[go.shape.string]", "main.(*T[...]).m[...]"),
    ("main.T[go.shape.[]int].m", "main.T[...].m"),
])
def test_print_name(name: str, printed: str) -> None:
    assert print_name(name) == printed


def test_refuses_old_and_foreign_tables() -> None:
    data, _ = build([FuncSpec("f", 0x10, [(0x10, 0)], [(0x10, 1)])], FILES)
    with pytest.raises(UnsupportedError):
        Pclntab(b"\xfb\xff\xff\xff" + data[4:], text=TEXT, gofunc=None)
    with pytest.raises(GodbgError):
        Pclntab(b"\x00" * 80, text=TEXT, gofunc=None)
    with pytest.raises(GodbgError):
        Pclntab(data[:40], text=TEXT, gofunc=None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupt_tables_fail_cleanly(draw) -> None:
    good, static = build(sample_specs(), FILES)
    raw = bytearray(good)
    for _ in range(draw.draw(st.integers(1, 12))):
        raw[draw.draw(st.integers(0, len(raw) - 1))] = draw.draw(st.integers(0, 255))
    try:
        tab = Pclntab(bytes(raw), text=TEXT, gofunc=GOFUNC, read_static=static_reader(static))
        for off in draw.draw(st.lists(st.integers(-4, 0x80), max_size=8)):
            f = tab.find_func(TEXT + off)
            if f is None:
                continue
            tab.pcsp(f, TEXT + off)
            tab.pcline(f, TEXT + off)
            tab.inline_frames(f, TEXT + off)
        tab.function_names()
        tab.special_ids()
    except GodbgError:
        pass


def sample_specs() -> list[FuncSpec]:
    return [
        FuncSpec("runtime.goexit", 0x10, pcsp=[(0x10, 0)], lines=[(0x10, 1700)], file=2, flag=FUNC_FLAG_TOP_FRAME),
        FuncSpec("main.outer", 0x40, pcsp=[(0x4, 0), (0x3C, 0x28), (0x40, 0)], lines=[(0x40, 12)],
                 inline_index=[(0x10, -1), (0x18, 0), (0x40, -1)], inline_tree=[(0, "main.leaf", 0x18, 30)]),
    ]


# --- real binaries, against Go's own tools ------------------------------------------------

ADDR2LINE_SAMPLES = 400
REAL_BUILDS = [pytest.param(b, id=b.key, marks=pytest.mark.integration)
               for b in matrix.select_builds() if not b.goexperiment]


def _need(build: matrix.Build) -> None:
    try:
        matrix.toolchain(build.go)
    except matrix.ToolchainMissing as e:
        if os.environ.get("CI"):
            pytest.fail(f"{e} (CI installs every toolchain)")
        pytest.skip(str(e))


@pytest.mark.parametrize("build", REAL_BUILDS)
def test_matches_go_addr2line(build: matrix.Build) -> None:
    _need(build)
    binary = matrix.build_program("goroutines", build)
    tab = GoBinary(str(binary)).pclntab
    rng = random.Random(7)
    funcs = [tab.func_at(i) for i in range(tab.nfunc)]
    pcs = [rng.randrange(tab.text, tab.end) for _ in range(ADDR2LINE_SAMPLES)]
    pcs += [f.entry for f in rng.sample(funcs, 100)] + [f.end - 1 for f in rng.sample(funcs, 100)]
    go = matrix.toolchain(build.go).go
    out = subprocess.run([str(go), "tool", "addr2line", str(binary)], input="".join(f"{pc:#x}\n" for pc in pcs),
                         capture_output=True, text=True, timeout=120, check=True).stdout.splitlines()
    assert len(out) == 2 * len(pcs)
    problems = []
    for i, pc in enumerate(pcs):
        want_name, want_loc = out[2 * i], out[2 * i + 1]
        f = tab.find_func(pc)
        name = f.name if f is not None else "?"
        file, line = tab.pcline(f, pc) if f is not None else ("?", 0)
        loc = f"{file}:{line}" if line else ":-1"  # gosym reports no line as ":-1"
        if name.startswith("go:") and not line:
            continue  # a linker marker (go:textfipsstart): no line table, gosym's line is noise (-9)
        if (name, loc) != (want_name, want_loc if want_loc != "?:0" else ":-1"):
            problems.append(f"{pc:#x}: {name} {loc} != {want_name} {want_loc}")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("build", REAL_BUILDS)
def test_stripped_binary_keeps_the_table(build: matrix.Build) -> None:
    _need(build)
    full = GoBinary(str(matrix.build_program("goroutines", build))).pclntab
    stripped_bin = GoBinary(str(matrix.build_program("goroutines", build.variant(stripped=True))))
    assert stripped_bin.symbol("runtime.firstmoduledata") is None
    stripped = stripped_bin.pclntab
    assert stripped.text == full.text and stripped.nfunc == full.nfunc
    assert stripped.gofunc is not None
    f = stripped.func_by_name("main.inlinedOuter")
    assert f is not None
    names = {x.name for pc in range(f.entry, f.end) for x in stripped.inline_frames(f, pc)}
    assert "main.report" in names  # an inlined call, found through funcdata without symbols
    assert stripped.special_ids() == full.special_ids()
