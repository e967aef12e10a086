"""`check` for people: one finding a line, then one line that sums up."""

from __future__ import annotations

from godbg.render.theme import Theme
from godbg.results.check import CheckReport


def render(report: CheckReport, theme: Theme) -> str:
    findings = report.findings
    lines = [f"{f.rule}: {f.message}" for f in findings]
    failed = [r.rule for r in report.results if not r.passed]
    if failed:
        lines.append(theme.bad(f"check failed: {', '.join(failed)} ({len(findings)} findings)"))
    else:
        lines.append(theme.good(f"check passed: {', '.join(r.rule for r in report.results)}"))
    return "\n".join(lines)
