"""`waits` and `leaks` answers: each wait object's state gives the JSON the contract names
and the text says the same keys in the same order."""

from __future__ import annotations

import pytest

from godbg.render.leaks import leak_lines
from godbg.render.leaks import render as render_leaks
from godbg.render.theme import Theme
from godbg.render.waits import object_lines, state_text
from godbg.results.waits import (
    ChanState,
    CondState,
    Leak,
    Leaks,
    LeakStats,
    MutexState,
    RWMutexState,
    SemaphoreState,
    UnreadableState,
    WaitGroupState,
    WaitingOn,
    WaitObject,
    WaitState,
)

MUTEX = MutexState(True, False, False, 3)
STATES: list[tuple[WaitState, dict[str, object], str]] = [
    (MUTEX, {"locked": True, "woken": False, "starving": False, "waiters": 3},
     "locked=true woken=false starving=false waiters=3"),
    (RWMutexState(MUTEX, 1, 0),
     {"writer": {"locked": True, "woken": False, "starving": False, "waiters": 3}, "reader_count": 1,
      "reader_wait": 0},
     "writer={locked=true woken=false starving=false waiters=3} reader_count=1 reader_wait=0"),
    (RWMutexState(MUTEX, None, None), {"writer": {"locked": True, "woken": False, "starving": False, "waiters": 3}},
     "writer={locked=true woken=false starving=false waiters=3}"),
    (WaitGroupState(1, 2), {"counter": 1, "waiters": 2}, "counter=1 waiters=2"),
    (ChanState(4, 4, False), {"len": 4, "cap": 4, "closed": False}, "len=4 cap=4 closed=false"),
    (CondState(2), {"waiters": 2}, "waiters=2"),
    (SemaphoreState(0), {"value": 0}, "value=0"),
    (UnreadableState("memory at 0x10 is not in the core"), {"unreadable": "memory at 0x10 is not in the core"},
     "unreadable=memory at 0x10 is not in the core"),
]


@pytest.mark.parametrize("state, json, text", STATES)
def test_each_state_kind_has_its_json_and_text(state: WaitState, json: dict[str, object], text: str) -> None:
    assert state.to_json() == json
    assert state_text(state) == text


def test_an_object_line_lists_ten_waiters_and_names_it_by_address_without_a_name() -> None:
    named = WaitObject("mutex", 0x6AB2F8, "main.mu", tuple(range(1, 13)), MUTEX)
    unnamed = WaitObject("chan", 0xC000080060, None, (7,), ChanState(0, 0, True))
    assert named.to_json() == {"kind": "mutex", "address": "0x6ab2f8", "object": "main.mu",
                               "waiters": list(range(1, 13)), "state": MUTEX.to_json()}
    assert object_lines([named, unnamed], Theme()) == [
        "12 waiting on mutex main.mu (0x6ab2f8) [locked=true woken=false starving=false waiters=3]: "
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, …",
        "1 waiting on chan 0xc000080060 (0xc000080060) [len=0 cap=0 closed=true]: 7",
    ]


def test_leaks_json_and_text() -> None:
    on = WaitingOn("chan receive", 0xC000080300, "main.jobs")
    leaks = Leaks((Leak(40, on, "chan receive: the object it waits on is reachable only from blocked goroutines"),
                   Leak(41, None, "select (no cases): can never proceed")),
                  True, "reachability", LeakStats(30, 25, 60, 900, 40000))
    assert leaks.to_json() == {
        "leaked": [{"goroutine": 40, "waiting_on": on.to_json(),
                    "reason": "chan receive: the object it waits on is reachable only from blocked goroutines"},
                   {"goroutine": 41, "waiting_on": None, "reason": "select (no cases): can never proceed"}],
        "deadlock": True, "method": "reachability",
        "stats": {"goroutines": 30, "blocked_candidates": 25, "heap_spans": 60, "marked_objects": 900,
                  "scanned_words": 40000}}
    assert leak_lines(leaks, Theme()) == [
        "deadlock: no goroutine can ever run again",
        "goroutine 40 leaked: chan receive on main.jobs (0xc000080300)",
        "goroutine 41 leaked: select (no cases): can never proceed",
    ]
    assert render_leaks(leaks, Theme()).endswith("\n2 leaked goroutines")
