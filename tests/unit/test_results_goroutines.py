"""The typed answers of `goroutines` and `bt`: their hand-written __init__s (set at once for
speed) take every field, and their JSON has the contract's keys in the contract's order."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from godbg.results.bt import Backtrace
from godbg.results.frames import Frame, SourceFrame, Variable
from godbg.results.goroutines import Goroutine, GoroutineGroup, GoroutineGroups, Goroutines
from godbg.results.stacks import StackFigures
from godbg.results.waits import ChanRef, WaitingOn

GOROUTINE_KEYS = ["id", "status", "wait_reason", "waiting_since_ns", "function", "user_function", "location",
                  "created_by", "parent_goid", "start_function", "m", "thread", "locked_to_thread", "stack", "labels",
                  "waiting_on"]
STACK = StackFigures(0xc000100000, 0xc000102000, 0xc000101f00, 8192, 256, 6976)
WAIT = WaitingOn("select", None, None, 5, channels=(ChanRef("recv", 0xc0000a0000, "main.jobs"),), targets=(1,))


def _goroutine(**changes: Any) -> Goroutine:
    g = Goroutine(7, "waiting", "select", 5, "runtime.gopark", "main.worker", "/src/main.go:12", "main.main", 1,
                  "main.worker", None, None, False, STACK, {"role": "w"}, WAIT)
    return dataclasses.replace(g, **changes) if changes else g


@pytest.mark.parametrize("cls", [Goroutine, StackFigures])
def test_init_takes_every_field_in_order(cls: type) -> None:
    params = list(inspect.signature(cls).parameters)
    assert params == [f.name for f in dataclasses.fields(cls)]


def test_goroutine_is_a_frozen_dataclass() -> None:
    g = _goroutine()
    assert g == _goroutine() and g != _goroutine(id=8)
    assert hash(g) == hash(_goroutine(labels={}))  # labels are left out of the hash, not out of ==
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.id = 9  # type: ignore[misc]
    assert "_backtrace" not in repr(g)


def test_goroutine_json() -> None:
    doc = _goroutine().to_json()
    assert list(doc) == GOROUTINE_KEYS
    assert doc["stack"] == {"lo": STACK.lo, "hi": STACK.hi, "sp": STACK.sp, "size": 8192, "used": 256,
                            "guard_headroom": 6976}
    assert doc["waiting_on"] == {"kind": "select", "address": None, "object": None, "since_ns": 5,
                                 "channels": [{"dir": "recv", "address": "0xc0000a0000", "object": "main.jobs"}]}
    assert _goroutine(waiting_on=None).to_json()["waiting_on"] is None
    assert Goroutines((_goroutine(),), 3).to_json() == {"goroutines": [doc], "total": 3}


def test_goroutine_frames_come_from_its_backtrace() -> None:
    frame = Frame("main.worker", "/src/main.go", 12, 0x401000, 0xc000101f00, False)
    asked: list[int] = []

    def bt(goid: int) -> Backtrace:
        asked.append(goid)
        return Backtrace(goid, "waiting", "select", None, None, None, "sched", (frame,), 0, "top", None, None, {},
                         None)

    assert _goroutine().frames == ()
    assert _goroutine(_backtrace=bt).frames == (frame,) and asked == [7]


def test_group_json_has_waiting_on_and_labels_only_when_grouped_by_them() -> None:
    frames = (SourceFrame("main.worker", "/src/main.go", 12),)
    plain = GoroutineGroup((3, 7), "waiting", "select", "main.main", "main.worker", frames, None, None, ())
    assert list(plain.to_json()) == ["ids", "status", "wait_reason", "created_by", "user_function", "frames"]
    both = dataclasses.replace(plain, waiting_on=None, labels={}, group_by=("labels", "object"))
    assert list(both.to_json())[-2:] == ["waiting_on", "labels"]
    assert both.to_json()["waiting_on"] is None and both.to_json()["labels"] == {}
    doc = GoroutineGroups((plain,), 4, 9).to_json()
    assert doc == {"groups": [plain.to_json()], "total_groups": 4, "total": 9}


def test_backtrace_json_of_a_goroutine_and_of_an_m() -> None:
    frame = Frame("main.f", "/src/main.go", 3, 0x401000, 0xc000101f00, False,
                  args=(Variable("n", "int", 3),), locals=(Variable("s", "string", unavailable="optimised away"),))
    g = Backtrace(7, "waiting", "select", 2, None, None, "sched", (frame,), 0, "top", "main.main", 1,
                  {"role": "w"}, WAIT)
    assert list(g.to_json()) == ["goroutine", "status", "wait_reason", "m", "start", "frames", "elided", "stop",
                                 "created_by", "parent_goid", "labels", "waiting_on"]
    assert g.to_json()["frames"][0]["args"] == [{"name": "n", "type": "int", "value": 3}]
    assert g.to_json()["frames"][0]["locals"] == [{"name": "s", "type": "string", "unavailable": "optimised away"}]
    m = Backtrace(None, None, None, 0, 5142, 1, None, (), 0, "top", None, None, {}, None)
    assert m.to_json() == {"goroutine": None, "m": 0, "thread": 5142, "curg": 1, "frames": [], "elided": 0,
                           "stop": "top"}
