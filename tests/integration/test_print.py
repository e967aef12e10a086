"""`print` and `map` against what testdata/printing wrote about its own values before it
crashed (rendered by reflection with print's rules: pointers followed two deep, cycles
marked, funcs named, channels summarised, error text), on default, `-N -l` and stripped
builds; `location` against the compiler's own escape decisions (`-gcflags=-m`)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import pytest

from godbg.backends.core.corefile import open_core_target
from godbg.commands.execute import execute
from godbg.program.target import Target
from godbg.render.theme import PLAIN
from tests.integration import matrix
from tests.integration.cli import godbg_core
from tests.integration.gdbrun import gdb_batch

PROGRAM = "printing"
NOOPT = "all=-N -l"
ESCAPES = "-m"
default_builds = pytest.mark.builds(lambda b: not b.goexperiment)


@lru_cache(maxsize=4)
def _target(binary: str, core: str) -> Target:
    return open_core_target(binary, core)


def _fixture(build: matrix.Build) -> matrix.Fixture:
    return matrix.crash(PROGRAM, build)


def run(fx: matrix.Fixture, *argv: str) -> Any:
    assert fx.core is not None
    printed = execute(_target(str(fx.binary), str(fx.core)), [*argv, "--json"], PLAIN)
    assert printed.status == 0, f"{argv}: {printed.stderr}"
    return json.loads(printed.stdout)


def canonical(v: Any) -> Any:
    """JSON numbers compare by value (Go writes 3 where Python writes 3.0)."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, list):
        return [canonical(x) for x in v]
    if isinstance(v, dict):
        return {k: canonical(x) for k, x in v.items()}
    return v


def _check_globals(fx: matrix.Fixture) -> None:
    truth = fx.truth
    wrong = []
    for name, want in sorted(truth["globals"].items()):
        got = run(fx, "print", name)
        if canonical(got["value"]) != canonical(want):
            wrong.append(f"{name}:\n  godbg {json.dumps(got['value'])[:1500]}\n  truth {json.dumps(want)[:1500]}")
    for expr, want in sorted(truth["exprs"].items()):
        got = run(fx, "print", expr)
        if canonical(got["value"]) != canonical(want):
            wrong.append(f"{expr}: godbg {got['value']!r}, truth {want!r}")
    assert not wrong, "\n".join(wrong)


@default_builds
def test_globals_and_expressions_match_the_truth(build: matrix.Build) -> None:
    _check_globals(_fixture(build))


@default_builds
def test_globals_match_the_truth_without_optimisations(build: matrix.Build) -> None:
    _check_globals(_fixture(build.variant(gcflags=NOOPT)))


@default_builds
def test_print_shape_location_and_limits(build: matrix.Build) -> None:
    fx = _fixture(build)
    got = run(fx, "print", "main.gCfg.Owner")
    assert got["type"] == "*main.Item"
    assert got["location"] == {"kind": "global", "symbol": "main.gCfg"}
    assert got["address"] == hex(int(fx.truth["addresses"]["main.gCfg"], 16) + _owner_offset(fx))
    # --json never cuts a slice at 100; --max-elements does.
    assert len(run(fx, "print", "main.gBig")["value"]) == 250
    short = run(fx, "print", "main.gBig", "--max-elements", "10")["value"]
    assert short[:10] == fx.truth["globals"]["main.gBig"][:10] and short[10] == "…+240 more"
    # --depth 0: pointers stay addresses; a cycle is marked at any depth.
    assert run(fx, "print", "main.gCycle", "--depth", "0")["value"] == fx.truth["addresses"]["main.gCycle"]
    deep = run(fx, "print", "main.gCycle", "--depth", "9")["value"]
    assert deep["value"]["Next"]["value"]["Next"] == {"ptr": fx.truth["addresses"]["main.gCycle"], "cycle": True}
    # Text writes values the Go way: a followed pointer as (0x…) &{…}, the cycle marked.
    cycle = fx.truth["addresses"]["main.gCycle"]
    text = godbg_core(fx, "print", "main.gCycle").stdout.splitlines()[1]
    assert text.startswith(f"({cycle}) &{{Name: ") and f"Next: {cycle} <cycle>" in text, text
    # Heap objects are found through their span.
    heap = run(fx, "print", "*main.gCycle")
    assert heap["location"]["kind"] == "heap" and heap["address"] == fx.truth["addresses"]["main.gCycle"]
    # Bad expressions: one line, exit 2.
    bad_exprs = ("main.nope", "main.gCfg.Nope", "main.gBig[250]",
                 'main.gCounts["absent"]', "main.gCfg[", "*main.gPoint")
    for bad in bad_exprs:
        p = godbg_core(fx, "print", bad)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, (bad, p.stderr)


def _owner_offset(fx: matrix.Fixture) -> int:
    t = _target(str(fx.binary), str(fx.core))
    f = t.binary.dwarf.type_by_name("main.Config").field("Owner")
    assert f is not None
    return f.offset


@default_builds
def test_map_values_follow_pointers_and_name_funcs(build: matrix.Build) -> None:
    fx = _fixture(build)
    items = run(fx, "map", "main.gItems")
    assert {str(k): canonical(v) for k, v in items["entries"]} == canonical(fx.truth["item_values"])
    funcs = dict(run(fx, "map", "main.gFuncs")["entries"])
    assert funcs == {"double": {"func": "main.handler"}, "inc": {"func": "main.other"}}


@default_builds
def test_stripped_builds_read_maps_and_structs_by_address(build: matrix.Build) -> None:
    """`map 0xADDR --type T` and `print 0xADDR --type T` on a -ldflags=-s -w build give what
    the unstripped build gives (each compared with its own run's truth)."""
    for fx in (_fixture(build), _fixture(build.variant(stripped=True))):
        truth = fx.truth
        for name, m in sorted(truth["maps"].items()):
            got = run(fx, "map", m["header"], "--type", m["type"])
            want = {"gItems": truth["item_values"], "gCounts": None, "gFuncs": None}[name]
            if name == "gItems":
                assert {str(k): canonical(v) for k, v in got["entries"]} == canonical(want)
            elif name == "gCounts":
                assert dict(got["entries"]) == {"one": 1, "two": 2, "three": 3}
            else:
                assert dict(got["entries"]) == {"double": {"func": "main.handler"}, "inc": {"func": "main.other"}}
        for name, tname in (("main.gCfg", "main.Config"), ("main.gPoint", "main.Point")):
            got = run(fx, "print", truth["addresses"][name], "--type", tname)
            assert canonical(got["value"]) == canonical(truth["globals"][name]), name
            assert got["location"]["kind"] == "global"


@default_builds
def test_location_agrees_with_escape_analysis(build: matrix.Build) -> None:
    """The compiler says (-gcflags=-m) which of worker's two map literals stays on the stack;
    print's location says where each header is."""
    fx = _fixture(build.variant(gcflags=ESCAPES))
    log = (fx.binary.parent / "build.log").read_text()
    source = (matrix.TESTDATA / PROGRAM / "main.go").read_text().splitlines()
    line_of = {name: i + 1 for i, text in enumerate(source) for name in ("local", "escaped")
               if re.match(rf"\s*{name} := map", text)}
    decisions = {}
    for name, line in line_of.items():
        m = re.search(rf"main\.go:{line}:\d+: map\[string\]int\{{\.\.\.\}} (does not escape|escapes to heap)", log)
        assert m is not None, f"no escape decision for line {line} in:\n{log[-2000:]}"
        decisions[name] = "stack" if m.group(1) == "does not escape" else "heap"
    worker = fx.truth["worker"]
    for name, key in (("local", "stack_header"), ("escaped", "heap_header")):
        got = run(fx, "print", worker[key], "--type", "uintptr")["location"]
        assert got["kind"] == decisions[name], (name, got)
        if got["kind"] == "stack":
            assert got["goroutine"] == worker["goroutine"] and got["frame"] == "main.worker"


def _check_bt_full(fx: matrix.Fixture) -> None:
    worker = fx.truth["worker"]
    bt = run(fx, "bt", str(worker["goroutine"]), "--full")
    for f in bt["frames"]:
        assert isinstance(f["args"], list) and isinstance(f["locals"], list), f
        for v in f["args"] + f["locals"]:
            assert ("value" in v) != ("unavailable" in v), v
    frame = next(f for f in bt["frames"] if f["function"] == "main.worker")
    for kind in ("args", "locals"):
        got = {v["name"]: v.get("value", v.get("unavailable")) for v in frame[kind]}
        assert got == worker[kind], (kind, got)


@default_builds
def test_bt_full_arguments_and_locals(build: matrix.Build) -> None:
    _check_bt_full(_fixture(build))


@default_builds
def test_bt_full_without_optimisations(build: matrix.Build) -> None:
    _check_bt_full(_fixture(build.variant(gcflags=NOOPT)))


@default_builds
def test_print_a_local_of_a_frame(build: matrix.Build) -> None:
    fx = _fixture(build)
    worker = fx.truth["worker"]
    frames = run(fx, "bt", str(worker["goroutine"]))["frames"]
    k = next(i for i, f in enumerate(frames) if f["function"] == "main.worker")
    g = ("--goroutine", str(worker["goroutine"]), "--frame", str(k))
    got = run(fx, "print", "local", *g)
    assert got["value"] == worker["locals"]["local"]
    assert got["location"] == {"kind": "stack", "goroutine": worker["goroutine"], "frame": "main.worker"}
    assert run(fx, "print", "len(local)", *g)["value"] == 1
    assert run(fx, "print", "name", *g)["value"] == "w"
    assert run(fx, "print", 'escaped["e"]', *g)["value"] == 84


@pytest.mark.gdb
@default_builds
def test_go_print_in_gdb_is_core_mode_print(build: matrix.Build) -> None:
    fx = _fixture(build)
    exprs = ["main.gCfg", "main.gCycle", 'main.gCounts["two"]', "len(main.gBig)"]
    # gdb splits a command's arguments as a shell would: quotes keep the key's quotes.
    res = gdb_batch([f"go print '{e}' --json" for e in exprs], str(fx.binary), str(fx.core))
    for e, out in zip(exprs, res.outputs):
        assert json.loads(out) == run(fx, "print", e), (e, res.stderr[-2000:])
