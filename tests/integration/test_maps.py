"""`godbg core BIN CORE map main.X --json` against what testdata/maps wrote about its own
maps before it crashed: the same entries (as sets of pairs), the same count, and the
growth state the program read from the runtime's header itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from functools import cache
from typing import Any

import pytest

from tests.integration import matrix

PROGRAM = "maps"
# Go 1.27's GOEXPERIMENT=mapsplitgroup (off by default in 1.27.3: internal/buildcfg/exp.go)
# lays groups out as ctrl, keys[8], elems[8]: built in addition to the matrix.
SPLIT_GROUP = matrix.Build("1.27.3", goexperiment="mapsplitgroup")


def godbg(fx: matrix.Fixture, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "godbg", "core", str(fx.binary), str(fx.core), *argv],
                          capture_output=True, text=True, timeout=300, cwd=matrix.REPO)


@cache
def _fixture(build: matrix.Build) -> matrix.Fixture:
    return matrix.crash(PROGRAM, build)


def _canonical(v: Any) -> Any:
    """JSON numbers compare by value: Go writes 3 where Python writes 3.0."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, list):
        return [_canonical(x) for x in v]
    if isinstance(v, dict):
        return {k: _canonical(x) for k, x in v.items()}
    return v


def _pairs(entries: list[Any]) -> Counter[str]:
    return Counter(json.dumps(_canonical(e), sort_keys=True) for e in entries)


def _check_all(fx: matrix.Fixture) -> None:
    truth = fx.truth
    failures = []
    for name, want in sorted(truth["maps"].items()):
        p = godbg(fx, "map", f"main.{name}", "--json", "--stats")
        if p.returncode != 0:
            failures.append(f"main.{name}: exit {p.returncode}: {p.stderr.strip()}")
            continue
        got = json.loads(p.stdout)
        problems = []
        if got["type"] != want["type"]:
            problems.append(f"type {got['type']} != {want['type']}")
        if got["impl"] != truth["map_impl"]:
            problems.append(f"impl {got['impl']} != {truth['map_impl']}")
        if got["count"] != want["count"] or got["truncated"]:
            problems.append(f"count {got['count']} (truncated {got['truncated']}) != {want['count']}")
        if _pairs(got["entries"]) != _pairs(want["entries"]):
            extra = _pairs(got["entries"]) - _pairs(want["entries"])
            missing = _pairs(want["entries"]) - _pairs(got["entries"])
            problems.append(f"entries differ: {len(missing)} missing (e.g. {list(missing)[:2]}), "
                            f"{len(extra)} extra (e.g. {list(extra)[:2]})")
        problems += _check_stats(got["stats"], want["state"], truth["map_impl"])
        if got.get("warnings"):
            problems.append(f"warnings: {got['warnings']}")
        if problems:
            failures.append(f"main.{name}: " + "; ".join(problems))
    assert not failures, "\n".join(failures)


def _check_stats(stats: dict, state: dict, impl: str) -> list[str]:
    if state["nil"]:
        return [] if stats == {"nil": True} else [f"nil map stats {stats}"]
    if impl == "classic":
        got = {"B": stats["B"], "growing": stats["growing"], "same_size_grow": stats["same_size_grow"]}
        want = {k: state[k] for k in got}
    else:
        got = {"small": stats["small"], "dir_len": stats["dir_len"], "global_depth": stats["global_depth"]}
        want = {k: state[k] for k in got}
    return [] if got == want else [f"stats {got} != program's own {want}"]


@pytest.mark.pie("all")
@pytest.mark.arm64
def test_every_map_matches_the_truth(build: matrix.Build) -> None:
    _check_all(_fixture(build))


@pytest.mark.integration
def test_split_groups_match_the_truth() -> None:
    try:
        matrix.toolchain(SPLIT_GROUP.go)
    except matrix.ToolchainMissing as e:
        if os.environ.get("CI"):
            pytest.fail(f"{e} (CI installs every toolchain)")
        pytest.skip(str(e))
    fx = _fixture(SPLIT_GROUP)
    _check_all(fx)
    p = godbg(fx, "map", "main.bigKV", "--json", "--stats")
    stats = json.loads(p.stdout)["stats"]
    assert stats["split_group"] and stats["indirect_key"] and stats["indirect_elem"]


@pytest.mark.arm64
@pytest.mark.builds(lambda b: b.map_impl == "classic")
def test_growth_in_progress_is_visible(build: matrix.Build) -> None:
    fx = _fixture(build)
    stats = json.loads(godbg(fx, "map", "main.growing", "--json", "--stats").stdout)["stats"]
    assert stats["growing"] and not stats["same_size_grow"]
    assert stats["old_buckets"] == stats["buckets"] // 2
    assert stats["evacuated"] < stats["old_buckets"]
    same = json.loads(godbg(fx, "map", "main.sameSize", "--json", "--stats").stdout)["stats"]
    assert same["growing"] and same["same_size_grow"] and same["old_buckets"] == same["buckets"]


def test_jsonl_entries_match_the_truth(build: matrix.Build) -> None:
    """--jsonl: one [key, value] a line, the program's own entries; --limit and --stats."""
    fx = _fixture(build)
    maps = {name: want for name, want in fx.truth["maps"].items() if want["count"]}
    for name in sorted(maps, key=lambda n: -maps[n]["count"])[:3]:
        p = godbg(fx, "map", f"main.{name}", "--jsonl")
        assert p.returncode == 0, p.stderr
        assert _pairs([json.loads(line) for line in p.stdout.splitlines()]) == _pairs(maps[name]["entries"]), name
    name = max(maps, key=lambda n: maps[n]["count"])
    assert len(godbg(fx, "map", f"main.{name}", "--jsonl", "--limit", "3").stdout.splitlines()) == 3
    bad = godbg(fx, "map", f"main.{name}", "--jsonl", "--stats")
    assert bad.returncode == 2 and "--stats" in bad.stderr


@pytest.mark.arm64
def test_limits_text_and_errors(build: matrix.Build) -> None:
    fx = _fixture(build)
    doc = json.loads(godbg(fx, "map", "main.huge", "--json", "--limit", "10").stdout)
    assert len(doc["entries"]) == 10 and doc["truncated"] and doc["count"] == 50_000
    text = godbg(fx, "map", "main.small")
    assert text.returncode == 0 and '"minus four"' in text.stdout
    by_addr = json.loads(godbg(fx, "map", "main.nested", "--json").stdout)
    inner = by_addr["entries"][0][1]
    doc = json.loads(godbg(fx, "map", inner["map"], "--type", "map[string]int", "--json").stdout)
    assert doc["count"] == inner["count"] == len(doc["entries"])
    for bad in (["map", "main.points"], ["map", "nosuch"], ["map", "0x1234"], ["map", "main.nosuch"]):
        p = godbg(fx, *bad)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, (bad, p.stderr)
