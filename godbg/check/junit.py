"""`check --junit FILE`: the report as JUnit XML, one testcase per rule (the shape CI
systems read: testsuites > testsuite > testcase, with a failure element when a rule fails)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from godbg.errors import BadInputError
from godbg.results.check import CheckReport

SUITE = "godbg check"
CLASSNAME = "godbg.check"


def junit_xml(report: CheckReport, subject: str) -> bytes:
    """``subject`` names what was checked (the binary and core) in the suite's properties."""
    failures = sum(1 for r in report.results if not r.passed)
    counts = {"tests": str(len(report.results)), "failures": str(failures), "errors": "0", "skipped": "0"}
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts})
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "subject", "value": subject})
    for r in report.results:
        case = ET.SubElement(suite, "testcase", {"classname": CLASSNAME, "name": f"{r.rule} {r.setting}"})
        if not r.passed:
            failure = ET.SubElement(case, "failure", {
                "message": f"{len(r.findings)} finding{'s' if len(r.findings) != 1 else ''}: {r.findings[0].message}",
                "type": r.rule,
            })
            failure.text = "\n".join(f.message for f in r.findings)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def write_junit(path: str, report: CheckReport, subject: str) -> None:
    try:
        with open(path, "wb") as f:
            f.write(junit_xml(report, subject))
    except OSError as e:
        raise BadInputError(f"--junit: cannot write {path}: {e.strerror}") from None
