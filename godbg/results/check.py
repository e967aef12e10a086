"""`check`'s answer: each rule asked for, passed or with its findings."""

from __future__ import annotations

from dataclasses import dataclass

from godbg.results.base import JSON, Result


@dataclass(frozen=True)
class Finding(Result):
    rule: str
    message: str
    goroutine: int | None = None

    def to_json(self) -> JSON:
        doc: JSON = {"rule": self.rule}
        if self.goroutine is not None:
            doc["goroutine"] = self.goroutine
        doc["message"] = self.message
        return doc


@dataclass(frozen=True)
class RuleResult(Result):
    rule: str
    setting: str  # what the rule was given, as written for people ("1000", "64KiB", "5m")
    findings: tuple[Finding, ...]  # none: the rule holds

    @property
    def passed(self) -> bool:
        return not self.findings

    def to_json(self) -> JSON:
        return {"rule": self.rule, "setting": self.setting, "passed": self.passed}


@dataclass(frozen=True)
class CheckReport(Result):
    results: tuple[RuleResult, ...]  # in the order of the rule names (check/settings.py: RULE_NAMES)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for r in self.results for f in r.findings)

    def to_json(self) -> JSON:
        return {"passed": self.passed, "findings": [f.to_json() for f in self.findings],
                "rules": [r.to_json() for r in self.results]}
