"""`headroom` against the program's own account (recursion depths, frame sizes, the
limit it set), Go's crash traceback (sp and fp per frame) and gdb's own reading of the
goroutines' `g.stack` fields on the same core."""

from __future__ import annotations

import re

import pytest

from tests.integration import matrix
from tests.integration.cli import godbg_core, godbg_json
from tests.integration.gdbrun import gdb_batch

PROGRAM = "headroom"
STACK_GUARD = 928  # linux/amd64 without -race: runtime/stack.go stackGuard


def largest_pow2_at_most(n: int) -> int:
    return 1 << (n.bit_length() - 1)


@pytest.fixture
def fx(build, core_kind) -> matrix.Fixture:
    return matrix.crash(PROGRAM, build, core_kind=core_kind)


@pytest.mark.arm64
@pytest.mark.core_kinds("kernel")
def test_limits_are_what_the_program_set(fx):
    doc = godbg_json(fx, "headroom")
    assert doc["maxstacksize"] == fx.truth["maxstacksize"] == 100_000_000
    assert doc["max_stack"] == largest_pow2_at_most(100_000_000) == 64 << 20
    assert doc["stack_guard"] == STACK_GUARD
    assert godbg_json(fx, "info")["maxstacksize"] == fx.truth["maxstacksize"]


@pytest.mark.pie("all")
@pytest.mark.arm64
def test_goroutines_match_truth_and_traceback(fx):
    doc = godbg_json(fx, "headroom")
    by_id = {g["id"]: g for g in doc["goroutines"]}
    tb = fx.traceback
    for rec in fx.truth["goroutines"]:
        g = by_id[rec["goid"]]
        go_frames = tb.goroutine(rec["goid"]).frames
        # the stack holds what the goroutine reported from its deepest frame
        assert g["lo"] < g["sp"] <= rec["local_addr"] < g["hi"]
        assert g["size"] == g["hi"] - g["lo"] and g["size"] & (g["size"] - 1) == 0
        # Go's innermost printed frame starts at the goroutine's saved SP
        assert g["sp"] == go_frames[0].sp
        assert g["used"] == g["hi"] - go_frames[0].sp
        assert g["guard_headroom"] == go_frames[0].sp - (g["lo"] + STACK_GUARD)
        assert g["limit_headroom"] == doc["max_stack"] - g["used"] - STACK_GUARD
        doublings = 0
        size = g["size"]
        while size * 2 <= doc["max_stack"]:
            size, doublings = size * 2, doublings + 1
        assert g["doublings_left"] == doublings
        if rec["big_frame"]:
            big = next(f for f in go_frames if f.function == "main.bigFrame")
            assert g["largest_frame"] == {"function": "main.bigFrame", "bytes": big.fp - big.sp}
            assert big.fp - big.sp > rec["big_local_bytes"]
            assert g["deepest_function"] == "main.bigFrame"
        else:
            assert {k: g["repeated"][k] for k in ("function", "times")} == {
                "function": "main.recurse", "times": rec["recurse_frames"]}
            # every main.recurse frame is the same size: Go's fp - sp for any of them
            one = next(f for f in go_frames if f.function == "main.recurse")
            assert g["repeated"]["frame_bytes"] == one.fp - one.sp
            assert g["deepest_function"] == "main.recurse"
            if rec["recurse_frames"] <= 100:  # Go prints at most 100 frames per goroutine
                assert sum(1 for f in go_frames if f.function == "main.recurse") == rec["recurse_frames"]
    # closest to the limit first: the deepest recursion leads
    deepest = max(fx.truth["goroutines"], key=lambda r: r["recurse_frames"] if not r["big_frame"] else 0)
    assert doc["goroutines"][0]["id"] == deepest["goid"]


@pytest.mark.arm64
@pytest.mark.core_kinds("kernel")
def test_check_exit_status_on_either_side(fx):
    doc = godbg_json(fx, "headroom")
    deepest = doc["goroutines"][0]
    expected = doc["max_stack"] - (deepest["hi"] - fx.traceback.goroutine(deepest["id"]).frames[0].sp) - STACK_GUARD
    assert deepest["limit_headroom"] == expected
    over = godbg_core(fx, "headroom", "--check", str(expected + 1))
    assert over.returncode == 1, over.stderr
    assert f"goroutine {deepest['id']}" in over.stdout
    under = godbg_core(fx, "headroom", "--check", str(expected))
    assert under.returncode == 0, under.stdout + under.stderr


@pytest.mark.gdb
@pytest.mark.core_kinds("kernel")
def test_agrees_with_gdb_reading_of_g(fx):
    doc = godbg_json(fx, "headroom")
    by_id = {g["id"]: g for g in doc["goroutines"]}
    recs = fx.truth["goroutines"]
    gps = [fx.traceback.goroutine(r["goid"]).gp for r in recs]
    assert all(gps), "GOTRACEBACK=crash prints gp= in every goroutine header"
    fields = ("stack.lo", "stack.hi", "sched.sp")
    # gdb's Go expressions cannot cast to runtime.g*: ask gdb's Python API instead.
    cmds = [f"python v = gdb.Value({gp:#x}).cast(gdb.lookup_type('runtime.g').pointer()).dereference(); "
            f"print(hex(int(v{''.join(f'[{part!r}]' for part in f.split('.'))})))" for gp in gps for f in fields]
    res = gdb_batch(cmds, str(fx.binary), str(fx.core))
    for i, rec in enumerate(recs):
        lo, hi, sp = (int(re.fullmatch(r"0x[0-9a-f]+", out.strip()).group(0), 16)
                      for out in res.outputs[3 * i : 3 * i + 3])
        g = by_id[rec["goid"]]
        assert (g["lo"], g["hi"], g["sp"]) == (lo, hi, sp)


@pytest.mark.arm64
@pytest.mark.core_kinds("kernel")
def test_stack_overflow_core(build, core_kind):
    fx = matrix.crash(PROGRAM, build, args=["overflow"], core_kind=core_kind)
    assert fx.traceback.fatal_error == "stack overflow"
    limit = fx.truth["maxstacksize"]
    assert f"goroutine stack exceeds {limit}-byte limit" in fx.stderr
    doc = godbg_json(fx, "headroom")
    first = doc["goroutines"][0]
    assert doc["maxstacksize"] == limit == 8 << 20
    assert first["size"] == 8 << 20
    assert first["repeated"]["function"] == "main.overflow"
    assert first["deepest_function"] == "main.overflow"
    assert first["limit_headroom"] < first["largest_frame"]["bytes"] * 2
