"""`check`'s units and rules files, and its JUnit XML shape, without a core."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from godbg.check.junit import junit_xml
from godbg.check.settings import Rules, format_duration, load_rules_file, parse_duration, parse_size
from godbg.errors import BadInputError
from godbg.results.check import CheckReport, Finding, RuleResult

S = 1_000_000_000


@pytest.mark.parametrize("text, ns", [("90s", 90 * S), ("5m", 300 * S), ("1h30m", 5400 * S), ("250ms", S // 4),
                                      ("1.5s", 3 * S // 2), ("10us", 10_000), ("7ns", 7)])
def test_durations_as_go_writes_them(text, ns):
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["", "5", "soon", "5 m", "1d"])
def test_bad_durations(text):
    with pytest.raises(BadInputError):
        parse_duration(text)


def test_format_duration():
    assert [format_duration(n) for n in (7, 250_000_000, 90 * S, 3723 * S)] == ["7ns", "250ms", "1m30s", "1h2m3s"]


@pytest.mark.parametrize("text, n", [("65536", 65536), ("64KiB", 65536), ("16M", 16 << 20), ("1GiB", 1 << 30),
                                     (4096, 4096)])
def test_sizes(text, n):
    assert parse_size(text) == n


def test_rules_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('max-goroutines = 10\nheadroom = "64KiB"\nno_panic = true\nmax-wait = "5m"\n')
    assert load_rules_file(str(path)) == Rules(max_goroutines=10, headroom=65536, no_panic=True, max_wait=300 * S)
    assert load_rules_file(str(path)).merged(Rules(max_goroutines=3)).max_goroutines == 3


@pytest.mark.parametrize("text, words", [("max-goroutine = 1", "unknown rule"), ("no-panic = 1", "true or false"),
                                         ("max-wait = 5", "duration"), ("= broken", "not valid TOML")])
def test_bad_rules_files(tmp_path, text, words):
    path = tmp_path / "rules.toml"
    path.write_text(text + "\n")
    with pytest.raises(BadInputError, match=words):
        load_rules_file(str(path))


def test_junit_shape():
    report = CheckReport((
        RuleResult("max-goroutines", "10", ()),
        RuleResult("no-panic", "true", (Finding("no-panic", "goroutine 1 panicked: boom", 1),)),
    ))
    root = ET.fromstring(junit_xml(report, "./app"))
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "1"
    [suite] = root
    assert suite.tag == "testsuite" and suite.get("errors") == "0"
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [("godbg.check", "max-goroutines 10"),
                                                                     ("godbg.check", "no-panic true")]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure.get("type") == "no-panic" and failure.text == "goroutine 1 panicked: boom"
    finding = {"rule": "no-panic", "goroutine": 1, "message": "goroutine 1 panicked: boom"}
    assert report.to_json()["findings"] == [finding]
