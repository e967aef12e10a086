"""Stripped binaries (`-ldflags='-s -w'`: no DWARF, no symbol table, the pclntab kept).

godbg reads them with its built-in per-release facts (godbg/runtime/layouts_builtin.json:
struct layouts, and where the runtime's code says its globals are). Checked here:

- the built-in facts are what a fresh build's DWARF and symbol table say, and the code
  references find every global in every testdata program;
- `goroutines` and `bt` on a stripped build's core agree with Go's own traceback of that
  same run (ids, states, wait reasons, frames with pc and sp), and with the unstripped
  build's answers (a different run: compared as multisets, nothing address-dependent);
- `info`, `ms`, `headroom` work, `info` says the binary is stripped, `map` refuses in
  one line with exit status 2.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from functools import lru_cache
from typing import Any

import pytest

from godbg.backends.core.corefile import open_core_target
from godbg.commands.execute import execute
from godbg.errors import GodbgError
from godbg.program.binary import GoBinary
from godbg.program.target import Target
from godbg.render.theme import PLAIN
from godbg.runtime.globals_stripped import GLOBAL_NAMES, find, resolve_ref
from godbg.runtime.layouts_builtin import tables
from tests.integration import matrix
from tests.integration.cli import godbg_core
from tests.integration.test_goroutines import PANIC_CRASH_FRAMES, compare_stack, first_goroutines

sys.path.insert(0, str(matrix.REPO / "scripts"))
import gen_layouts  # noqa: E402

PROGRAM = "goroutines"
MODES = ("panic", "signal")
# Programs whose unstripped builds must give every global's symbol address from code.
PROGRAMS = ("basic", "goroutines", "panics", "maps", "headroom", "values")
GOROUTINE_KEYS = ("id", "status", "wait_reason", "function", "user_function")
# Fields compared across two runs (ids of the runtime's own goroutines vary between runs).
RUN_KEYS = ("status", "wait_reason", "function", "user_function", "created_by", "start_function")
HEADROOM_MAXSTACK = 100_000_000  # testdata/headroom sets it with debug.SetMaxStack

default_builds = pytest.mark.builds(lambda b: not b.goexperiment)


def stripped(build: matrix.Build) -> matrix.Build:
    return build.variant(stripped=True)


@lru_cache(maxsize=4)
def _target(binary: str, core: str) -> Target:
    return open_core_target(binary, core)


def run_json(fx: matrix.Fixture, *argv: str) -> dict[str, Any]:
    assert fx.core is not None
    printed = execute(_target(str(fx.binary), str(fx.core)), [*argv, "--json"], PLAIN)
    assert printed.status == 0, printed.stderr
    return json.loads(printed.stdout)


# --- the built-in facts --------------------------------------------------------------------


@default_builds
def test_builtin_tables_match_a_fresh_build(build: matrix.Build) -> None:
    """What scripts/gen_layouts.py reads from this toolchain's builds now is what is
    shipped: every layout, the constants, each global's size and section. (Which code
    references it picks may change with the test programs; that they all still hold is
    the next test.)"""
    key, fresh = gen_layouts.release(build.go)
    shipped = tables()["releases"].get(key)
    stale = "run scripts/gen_layouts.py"
    assert shipped is not None, f"layouts_builtin.json has no go{key}: {stale}"
    assert shipped["toolchain"] == fresh["toolchain"] and shipped["source"] == fresh["source"]
    for name, lay in fresh["layouts"].items():
        assert shipped["layouts"].get(name) == lay, f"{name} differs from the DWARF of a fresh build: {stale}"
    assert shipped["constants"] == fresh["constants"], stale
    for name, entry in fresh["globals"].items():
        assert (shipped["globals"][name]["size"], shipped["globals"][name]["section"]) == (
            entry["size"], entry["section"]), f"{name}: {stale}"


@default_builds
@pytest.mark.parametrize("program", PROGRAMS)
def test_code_references_find_every_global(build: matrix.Build, program: str) -> None:
    """On unstripped builds of every test program the symbol table knows the answer:
    each recorded reference must name it on its own, at its recorded place."""
    binary = GoBinary(str(matrix.build_program(program, build)))
    entries = tables()["releases"][".".join(build.go.split(".")[:2])]["globals"]
    assert set(entries) == set(GLOBAL_NAMES)
    for name, entry in entries.items():
        want = binary.symbol(name).addr
        assert find(binary, name, entry) == want, name
        for ref in entry["refs"]:
            assert resolve_ref(binary, ref) == want, (name, ref["func"], ref["offset"])


# --- goroutines and bt against Go's traceback of the stripped run ------------------------------


@default_builds
@pytest.mark.pie("ends")
@pytest.mark.parametrize("mode", MODES)
def test_goroutines_match_go_traceback(build: matrix.Build, mode: str) -> None:
    fx = matrix.crash(PROGRAM, stripped(build), args=[mode], core_kind="kernel")
    theirs = first_goroutines(fx.traceback)
    ours = {g["id"]: g for g in run_json(fx, "goroutines")["goroutines"]}
    assert sorted(ours) == sorted(theirs), "goroutine ids differ from Go's traceback"
    problems = []
    for goid, g in ours.items():
        t = theirs[goid]
        if (g["wait_reason"] or g["status"].split("+")[0]) != t.status:
            problems.append(f"goroutine {goid}: {g['status']}/{g['wait_reason']} != Go's {t.status!r}")
        if (t.m is not None or t.gp is not None) and g["m"] != t.m:
            problems.append(f"goroutine {goid}: m {g['m']} != Go's {t.m}")
        if t.created_by is not None and g["created_by"] != t.created_by.function:
            problems.append(f"goroutine {goid}: created by {g['created_by']} != {t.created_by.function}")
        if t.frames and not t.stack_unavailable and goid != fx.traceback.goroutines[0].id:
            if g["function"] not in (t.frames[0].function, t.frames[0].symbol):
                problems.append(f"goroutine {goid}: function {g['function']} != {t.frames[0].function}")
    assert not problems, "\n".join(problems[:40])


@default_builds
@pytest.mark.parametrize("mode", MODES)
def test_every_backtrace_matches_go(build: matrix.Build, mode: str) -> None:
    fx = matrix.crash(PROGRAM, stripped(build), args=[mode], core_kind="kernel")
    crashing = fx.traceback.goroutines[0].id
    problems = []
    checked = 0
    for goid, t in first_goroutines(fx.traceback).items():
        if t.stack_unavailable:
            continue
        own = [f for f in run_json(fx, "bt", str(goid))["frames"] if "stack" not in f]
        prefix = PANIC_CRASH_FRAMES if (mode == "panic" and goid == crashing) else ()
        problems += [f"goroutine {goid} ({t.status}): {p}" for p in compare_stack(own, t, allow_prefix=prefix)]
        checked += 1
    assert checked > 250
    assert not problems, "\n".join(problems[:40])


# --- against the unstripped build --------------------------------------------------------------


def _bt_key(doc: dict[str, Any]) -> tuple:
    # The program's files from testdata/ on: two fixtures may come from two checkouts.
    return tuple((f["function"], f["file"][f["file"].find("/testdata/"):] if "/testdata/" in f["file"] else f["file"],
                  f["line"], f["inlined"]) for f in doc["frames"])


@default_builds
@pytest.mark.parametrize("mode", MODES)
def test_same_answers_as_the_unstripped_build(build: matrix.Build, mode: str) -> None:
    """Two runs of one program: the same goroutines in the same places, however the
    runtime numbered its own goroutines this time."""
    full = matrix.crash(PROGRAM, build, args=[mode], core_kind="kernel")
    strip = matrix.crash(PROGRAM, stripped(build), args=[mode], core_kind="kernel")
    # The program's own goroutines: how many GC workers and other runtime goroutines
    # a run has started by the crash is the runtime's business, not the binary's.
    docs = {fx: [g for g in run_json(fx, "goroutines")["goroutines"]
                 if (g["start_function"] or "").startswith("main.")] for fx in (full, strip)}
    counts = {fx: Counter(tuple(g[k] for k in RUN_KEYS) for g in gs) for fx, gs in docs.items()}
    assert counts[full] == counts[strip]
    # The program's own goroutines, group by group in the order it started them (ids
    # differ between runs by how many goroutines the runtime started first).
    by_id = {fx: {g["id"]: {k: g[k] for k in GOROUTINE_KEYS if k != "id"} for g in gs} for fx, gs in docs.items()}
    for kind, group in full.truth["groups"].items():
        pairs = list(zip(group["ids"], strip.truth["groups"][kind]["ids"]))
        assert len(pairs) == len(group["ids"]) == len(strip.truth["groups"][kind]["ids"]), kind
        for a, b in pairs:
            if by_id[full][a]["status"] != "running":  # where a spinning goroutine is varies
                assert by_id[full][a] == by_id[strip][b], f"{kind}: goroutine {a} (unstripped) vs {b} (stripped)"
    frames = {fx: Counter(_bt_key(run_json(fx, "bt", str(g["id"]))) for g in gs if g["status"] != "running")
              for fx, gs in docs.items()}
    assert frames[full] == frames[strip]


@default_builds
def test_info_ms_headroom(build: matrix.Build) -> None:
    full = matrix.crash(PROGRAM, build, args=["panic"], core_kind="kernel")
    fx = matrix.crash(PROGRAM, stripped(build), args=["panic"], core_kind="kernel")
    info = run_json(fx, "info")
    full_info = run_json(full, "info")
    assert info["stripped"] is True and full_info["stripped"] is False and full_info["notes"] == []
    assert any("no symbol table" in n for n in info["notes"]) and any("no DWARF" in n for n in info["notes"])
    for key in ("go_version", "goarch", "map_impl", "goexperiments", "goroutines", "maxstacksize", "stack_guard",
                "signal"):
        assert info[key] == full_info[key], key
    assert info["crash_thread"] in {t.tid for t in _target(str(fx.binary), str(fx.core)).threads()}
    ms = run_json(fx, "ms")["ms"]
    assert len(ms) == info["ms"] and sum(1 for m in ms if m["crashing"]) == 1
    head = run_json(fx, "headroom")
    assert head["maxstacksize"] == full_info["maxstacksize"] and head["stack_guard"] == info["stack_guard"]
    assert len(head["goroutines"]) == info["goroutines"]


@default_builds
def test_headroom_matches_truth_and_traceback(build: matrix.Build) -> None:
    fx = matrix.crash("headroom", stripped(build), core_kind="kernel")
    doc = run_json(fx, "headroom")
    assert doc["maxstacksize"] == fx.truth["maxstacksize"] == HEADROOM_MAXSTACK
    by_id = {g["id"]: g for g in doc["goroutines"]}
    for rec in fx.truth["goroutines"]:
        g = by_id[rec["goid"]]
        assert g["sp"] == fx.traceback.goroutine(rec["goid"]).frames[0].sp
        assert g["lo"] < g["sp"] <= rec["local_addr"] < g["hi"]


@default_builds
def test_map_says_it_needs_dwarf(build: matrix.Build) -> None:
    fx = matrix.crash(PROGRAM, stripped(build), args=["panic"], core_kind="kernel")
    p = godbg_core(fx, "map", "main.anything")
    assert p.returncode == 2 and p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "DWARF" in lines[0], p.stderr


@default_builds
def test_unknown_global_is_still_an_error(build: matrix.Build) -> None:
    fx = matrix.crash(PROGRAM, stripped(build), args=["panic"], core_kind="kernel")
    t = _target(str(fx.binary), str(fx.core))
    assert not t.has_symbol("main.noSuchGlobal")
    assert t.has_symbol("runtime.allgs") and not t.has_symbol("runtime.racecall")
    assert t.symbol_size("runtime.waitReasonStrings") == tables()["releases"][
        ".".join(build.go.split(".")[:2])]["globals"]["runtime.waitReasonStrings"]["size"]
    with pytest.raises(GodbgError):
        t.symbol_address("main.noSuchGlobal")
