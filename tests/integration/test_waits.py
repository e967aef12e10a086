"""Who waits for whom, pprof labels and leaks on cores of testdata/waits, against what
the program recorded about each goroutine (its id and role) before it crashed, and on
Go 1.26/1.27 against Go's own goroutine leak profile of the same run."""

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

PROGRAM = "waits"
LEAK_PROFILE_MODE = "leakprofile"
# Go prints a leaked goroutine's header as "goroutine 41 [chan receive (leaked)]:".
LEAKED_HEADER = re.compile(r"^goroutine (\d+) \[[^\]]*\(leaked\)[^\]]*\]", re.M)


def fixture(build: matrix.Build, core_kind: str = "kernel", mode: str = "") -> matrix.Fixture:
    return matrix.crash(PROGRAM, build, args=[mode] if mode else [], core_kind=core_kind)


@lru_cache(maxsize=4)
def target_for(binary: str, core: str) -> Target:
    return open_core_target(binary, core)


def run_json(fx: matrix.Fixture, *argv: str) -> Any:
    assert fx.core is not None
    printed = execute(target_for(str(fx.binary), str(fx.core)), [*argv, "--json"], PLAIN)
    assert printed.status == 0, printed.stderr
    return json.loads(printed.stdout)


def roles_by_id(truth: dict) -> dict[int, tuple[str, dict]]:
    return {i: (name, r) for name, r in truth["roles"].items() for i in r["ids"]}


def test_every_goroutine_waits_on_the_right_object(build: matrix.Build, core_kind: str) -> None:
    fx = fixture(build, core_kind)
    roles = roles_by_id(fx.truth)
    docs = {d["id"]: d for d in run_json(fx, "goroutines")["goroutines"]}
    problems = []
    for goid, (name, role) in sorted(roles.items()):
        doc = docs.get(goid)
        if doc is None:
            problems.append(f"{name} {goid}: missing")
            continue
        w = doc["waiting_on"]
        if doc["wait_reason"] not in role["wait_reason"]:
            problems.append(f"{name} {goid}: wait reason {doc['wait_reason']!r}")
        if w is None or w["kind"] != role["kind"]:
            problems.append(f"{name} {goid}: waiting_on {w}")
            continue
        if role["object"] and w["object"] != role["object"]:
            problems.append(f"{name} {goid}: object {w['object']!r} != {role['object']!r}")
        if role["channels"]:
            got = [f"{c['dir']} {c['object']}" for c in w["channels"]]
            if got != role["channels"]:
                problems.append(f"{name} {goid}: channels {got} != {role['channels']}")
        if role["kind"] in ("chan receive", "chan send") and not w["address"]:
            problems.append(f"{name} {goid}: no channel address")
        if doc["labels"] != role["labels"]:
            problems.append(f"{name} {goid}: labels {doc['labels']} != {role['labels']}")
    # Goroutines that are no role of the program (main, the runtime's) carry no labels.
    for goid, doc in docs.items():
        if goid not in roles and doc["labels"]:
            problems.append(f"goroutine {goid}: labels {doc['labels']}")
    assert not problems, "\n".join(problems)


def test_the_same_objects_share_one_address(build: matrix.Build) -> None:
    fx = fixture(build)
    docs = {d["id"]: d for d in run_json(fx, "goroutines")["goroutines"]}
    for name, role in fx.truth["roles"].items():
        addresses = {docs[i]["waiting_on"]["address"] for i in role["ids"]}
        if role["object"]:
            assert len(addresses) == 1, (name, addresses)
        elif role["kind"] in ("chan receive", "chan send"):
            assert len(addresses) == len(role["ids"]), (name, addresses)  # one channel each


def test_filters_and_grouping(build: matrix.Build) -> None:
    fx = fixture(build)
    roles = fx.truth["roles"]
    picked = run_json(fx, "goroutines", "--label", "role=worker", "--label", "n=1")["goroutines"]
    assert [d["id"] for d in picked] == roles["labels_do"]["ids"]
    picked = run_json(fx, "goroutines", "--waiting-on", "main.mu")["goroutines"]
    assert [d["id"] for d in picked] == roles["mutex"]["ids"]
    picked = run_json(fx, "goroutines", "--waiting-on", "main.selB")["goroutines"]
    assert [d["id"] for d in picked] == roles["select"]["ids"]
    address = picked[0]["waiting_on"]["channels"][1]["address"]
    assert [d["id"] for d in run_json(fx, "goroutines", "--waiting-on", address)["goroutines"]] == \
        roles["select"]["ids"]
    # The two labelled receivers share a stack shape only with --group-by labels kept off.
    ids = sorted(roles["labels_do"]["ids"] + roles["labels_set"]["ids"])
    groups = run_json(fx, "goroutines", "--group", "--group-by", "labels", "--waiting-on", "main.labelled")
    assert sorted(tuple(g["ids"]) for g in groups["groups"]) == sorted((i,) for i in ids)
    assert {json.dumps(g["labels"], sort_keys=True) for g in groups["groups"]} == {
        json.dumps(roles[r]["labels"], sort_keys=True) for r in ("labels_do", "labels_set")}
    groups = run_json(fx, "goroutines", "--group", "--group-by", "object", "--status", "chan receive")
    leaked_recv = [g for g in groups["groups"] if set(g["ids"]) <= set(roles["leak_recv"]["ids"])]
    assert len(leaked_recv) == len(roles["leak_recv"]["ids"])  # one channel each: kept apart
    bt = run_json(fx, "bt", str(roles["labels_set"]["ids"][0]))
    assert bt["labels"] == roles["labels_set"]["labels"]
    assert bt["waiting_on"]["object"] == "main.labelled"


def test_chan_lists_buffer_and_waiters(build: matrix.Build, core_kind: str) -> None:
    fx = fixture(build, core_kind)
    t = fx.truth
    roles = t["roles"]
    buf = run_json(fx, "chan", "main.buffered")
    assert (buf["len"], buf["cap"], buf["closed"], buf["elem_type"]) == (4, 4, False, "string")
    assert buf["buffer"] == t["buffered"]
    assert buf["send_waiters"] == [{"goroutine": roles["bufsend"]["ids"][0], "value": "e"}]
    assert buf["recv_waiters"] == []
    send = run_json(fx, "chan", "main.sendCh")
    assert sorted((s["goroutine"], s["value"]) for s in send["send_waiters"]) == \
        sorted((int(k), v) for k, v in t["send_values"].items())
    assert (send["len"], send["cap"], send["buffer"]) == (0, 0, [])
    recv = run_json(fx, "chan", "main.unbuf")
    assert sorted(recv["recv_waiters"]) == roles["recv"]["ids"] and recv["send_waiters"] == []
    sel_a, sel_b = run_json(fx, "chan", "main.selA"), run_json(fx, "chan", "main.selB")
    assert sorted(sel_a["recv_waiters"]) == roles["select"]["ids"] and sel_a["send_waiters"] == []
    assert sorted(s["goroutine"] for s in sel_b["send_waiters"]) == roles["select"]["ids"]
    assert {s["value"] for s in sel_b["send_waiters"]} == {"x"}
    by_address = run_json(fx, "chan", buf["address"])
    assert by_address["buffer"] == t["buffered"] and by_address["elem_type"] == "string"


def test_waits_lists_each_object_with_exactly_its_waiters(build: matrix.Build, core_kind: str) -> None:
    fx = fixture(build, core_kind)
    roles = fx.truth["roles"]
    objects = {o["object"]: o for o in run_json(fx, "waits")["objects"]}
    expect = {
        "main.mu": ("mutex", roles["mutex"]["ids"]),
        "main.rw": ("rwmutex", roles["rlock"]["ids"]),
        "main.unbuf": ("chan", roles["recv"]["ids"]),
        "main.sendCh": ("chan", roles["send"]["ids"]),
        "main.buffered": ("chan", roles["bufsend"]["ids"]),
        "main.wg": ("waitgroup", roles["wg"]["ids"]),
        "main.selA": ("chan", roles["select"]["ids"]),
        "main.selB": ("chan", roles["select"]["ids"]),
        "main.cond": ("cond", roles["cond"]["ids"]),
        "main.labelled": ("chan", sorted(roles["labels_do"]["ids"] + roles["labels_set"]["ids"])),
    }
    for name, (kind, ids) in expect.items():
        assert name in objects, (name, sorted(o for o in objects if o))
        assert (objects[name]["kind"], sorted(objects[name]["waiters"])) == (kind, ids), name
    assert objects["main.mu"]["state"] == {"locked": True, "woken": False, "starving": False,
                                           "waiters": len(roles["mutex"]["ids"])}
    assert objects["main.wg"]["state"] == {"counter": fx.truth["wg_counter"], "waiters": len(roles["wg"]["ids"])}
    assert objects["main.buffered"]["state"] == {"len": 4, "cap": 4, "closed": False}
    counts = [len(o["waiters"]) for o in objects.values()]
    assert counts == sorted(counts, reverse=True)
    assert all(len(o["waiters"]) >= 2 for o in run_json(fx, "waits", "--min", "2")["objects"])


def test_leaks_finds_exactly_the_leaked_goroutines(build: matrix.Build, core_kind: str) -> None:
    fx = fixture(build, core_kind)
    want = sorted(i for r in fx.truth["roles"].values() if r["leaked"] for i in r["ids"])
    doc = run_json(fx, "leaks")
    assert [lk["goroutine"] for lk in doc["leaked"]] == want
    assert doc["deadlock"] is False
    assert all(lk["waiting_on"] and lk["reason"] for lk in doc["leaked"])
    # --jsonl: the same leaked records, one a line, nothing else on stdout.
    printed = execute(target_for(str(fx.binary), str(fx.core)), ["leaks", "--jsonl"], PLAIN)
    assert printed.status == 0, printed.stderr
    assert [json.loads(line) for line in printed.stdout.splitlines()] == doc["leaked"]


@pytest.mark.builds(lambda b: b.at_least("1.26") and not b.goexperiment)
def test_leaks_agrees_with_gos_leak_profile(build: matrix.Build) -> None:
    """Go 1.26 registers the goroutineleak profile only with GOEXPERIMENT=goroutineleakprofile;
    1.27 always. Go's leak GC marks leaked goroutines; godbg reads the core after it."""
    if not build.at_least("1.27"):
        build = build.variant(goexperiment="goroutineleakprofile")
    fx = fixture(build, mode=LEAK_PROFILE_MODE)
    profile = (fx.dir / "leakprofile.txt").read_text()
    go_leaked = sorted(int(m) for m in LEAKED_HEADER.findall(profile))
    roles = roles_by_id(fx.truth)
    go_roles = sorted({roles[i][0] for i in go_leaked if i in roles})
    assert go_roles == sorted(name for name, r in fx.truth["roles"].items() if r["leaked"])
    ours = [lk["goroutine"] for lk in run_json(fx, "leaks")["leaked"]]
    assert ours == go_leaked


def test_report_shows_who_waits_for_whom_and_the_leaks(build: matrix.Build) -> None:
    fx = fixture(build)
    roles = fx.truth["roles"]
    report = run_json(fx, "report")
    top = {o["object"]: sorted(o["waiters"]) for o in report["waits"]}
    assert top["main.mu"] == roles["mutex"]["ids"] and top["main.unbuf"] == roles["recv"]["ids"]
    counts = [len(o["waiters"]) for o in report["waits"]]
    assert counts == sorted(counts, reverse=True)
    want = sorted(i for r in roles.values() if r["leaked"] for i in r["ids"])
    assert [lk["goroutine"] for lk in report["leaks"]["leaked"]] == want
    text = execute(target_for(str(fx.binary), str(fx.core)), ["report"], PLAIN).stdout
    assert "who waits for whom" in text and f"goroutine {want[0]} leaked" in text
