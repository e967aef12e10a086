"""`check` against the programs' truth: the goroutine count Go's own traceback lists, the
panic the program raised (its truth file), the headroom the program measured; exit 0, 1
and 2 as the contract says; JUnit XML a JUnit reader accepts; the same in gdb (with
$godbg_status) as in core mode."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.integration import matrix
from tests.integration.cli import godbg_core
from tests.integration.gdbrun import gdb_batch

pytestmark = pytest.mark.builds(lambda b: b.go in ("1.22.10", "1.27.3") and not b.goexperiment)


def _check(fx: matrix.Fixture, *argv: str) -> tuple[int, dict]:
    p = godbg_core(fx, "check", *argv, "--json")
    assert p.returncode in (0, 1), (p.returncode, p.stderr[-2000:])
    return p.returncode, json.loads(p.stdout)


def test_goroutine_count_from_the_traceback(build):
    fx = matrix.crash("basic", build)
    count = len(fx.traceback.goroutines)
    status, doc = _check(fx, "--max-goroutines", str(count))
    assert status == 0 and doc["passed"] and doc["findings"] == []
    status, doc = _check(fx, "--max-goroutines", str(count - 1))
    assert status == 1 and not doc["passed"]
    assert doc["findings"] == [{"rule": "max-goroutines", "message": f"{count} goroutines, more than {count - 1}"}]


def test_panic_from_the_truth(build):
    fx = matrix.crash("basic", build)
    status, doc = _check(fx, "--no-panic")
    assert status == 1
    [finding] = doc["findings"]
    panicking = [g.id for g in fx.traceback.goroutines if g.id == 1]  # basic panics on main
    assert finding["rule"] == "no-panic" and finding["goroutine"] == panicking[0]
    assert fx.truth["panic"] in finding["message"]


def test_no_panic_holds_for_a_program_that_did_not_panic(build):
    # goroutines "signal" ends with SIGQUIT sent to a thread, not with a panic.
    fx = matrix.crash("goroutines", build, args=["signal"])
    assert not fx.traceback.panics and fx.traceback.fatal_error is None
    status, doc = _check(fx, "--no-panic")
    assert (status, doc["findings"]) == (0, []), doc


def test_fatal_error_is_a_finding(build):
    fx = matrix.crash("headroom", build, args=["overflow"])
    assert fx.traceback.fatal_error == "stack overflow"
    status, doc = _check(fx, "--no-panic")
    assert status == 1
    assert [f["message"] for f in doc["findings"]] == ["fatal error: stack overflow"]


def test_headroom_from_the_truth(build):
    fx = matrix.crash("headroom", build)
    parked = fx.truth["goroutines"]
    # The program's own recursion: the deepest goroutine is closest to the limit.
    deepest = max(parked, key=lambda g: g["depth"])
    status, doc = _check(fx, "--headroom", "1")
    assert (status, doc["findings"]) == (0, [])
    status, doc = _check(fx, "--headroom", str(fx.truth["maxstacksize"]))
    assert status == 1
    flagged = [f["goroutine"] for f in doc["findings"] if f["rule"] == "headroom"]
    assert deepest["goid"] in flagged and set(g["goid"] for g in parked) <= set(flagged)
    assert flagged[0] == deepest["goid"]  # closest to the limit first


def test_rules_file_and_junit(build, tmp_path):
    fx = matrix.crash("basic", build)
    count = len(fx.traceback.goroutines)
    rules = tmp_path / "rules.toml"
    rules.write_text(f'[check]\nmax-goroutines = {count}\nno-panic = true\nheadroom = "1KiB"\nmax-wait = "1h"\n')
    junit = tmp_path / "report.xml"
    p = godbg_core(fx, "check", "--rules", str(rules), "--junit", str(junit))
    assert p.returncode == 1, p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[0].startswith("no-panic: goroutine 1 panicked:") and len(lines) == 2  # a finding, the sum
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name").split()[0] for c in cases] == ["max-goroutines", "headroom", "no-panic", "max-wait"]
    assert suite.get("tests") == "4" and suite.get("failures") == "1"
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["no-panic true"]
    assert fx.truth["panic"] in failed[0].find("failure").text
    # The command line wins over the file.
    p = godbg_core(fx, "check", "--rules", str(rules), "--max-goroutines", str(count - 1), "--json")
    assert p.returncode == 1
    assert {f["rule"] for f in json.loads(p.stdout)["findings"]} == {"max-goroutines", "no-panic"}


def test_no_leaks_finds_the_goroutines_the_program_leaked(build):
    """testdata/waits records which of its goroutines it leaked (on channels only they
    can reach). testdata/basic's workers wait on a channel only main's frame held, and
    main never uses it again: leaked too, by Go's rule. testdata/headroom's goroutines
    wait on a global channel: none leaked."""
    fx = matrix.crash("waits", build)
    leaked = sorted(i for r in fx.truth["roles"].values() if r["leaked"] for i in r["ids"])
    assert leaked
    status, doc = _check(fx, "--no-leaks")
    assert status == 1 and doc["passed"] is False
    assert sorted(f["goroutine"] for f in doc["findings"] if f["rule"] == "no-leaks") == leaked
    basic = matrix.crash("basic", build)
    status, doc = _check(basic, "--no-leaks")
    assert status == 1 and sorted(f["goroutine"] for f in doc["findings"]) == basic.truth["worker_goids"]
    status, doc = _check(matrix.crash("headroom", build), "--no-leaks")
    assert status == 0 and doc["passed"] is True and doc["findings"] == []


@pytest.mark.parametrize("argv, words", [
    ([], "no rule given"),
    (["--max-wait", "soon"], "not a duration"),
    (["--headroom", "lots"], "not a size"),
    (["--rules", "/nonexistent.toml"], "cannot read"),
])
def test_bad_input_exits_2(build, argv, words):
    fx = matrix.crash("basic", build)
    p = godbg_core(fx, "check", *argv)
    assert p.returncode == 2 and p.stdout == "" and p.stderr.count("\n") == 1 and words in p.stderr, p.stderr


@pytest.mark.gdb
def test_gdb_check_sets_godbg_status(build):
    fx = matrix.crash("basic", build)
    count = len(fx.traceback.goroutines)
    res = gdb_batch([f"go check --max-goroutines {count}", "print $godbg_status",
                     f"go check --max-goroutines {count - 1} --json", "print $godbg_status",
                     "go check", "print $godbg_status"], str(fx.binary), str(fx.core))
    assert res.outputs[1].endswith("= 0"), res.stdout[-2000:]
    assert json.loads(res.outputs[2])["passed"] is False
    assert res.outputs[3].endswith("= 1")
    assert res.outputs[5].endswith("= 2") and "no rule given" in res.stderr
