"""What `check` is asked to verify: the rules from the command line and a TOML file, and
the units they are written in (Go durations, byte sizes)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, fields, replace
from typing import Any

from godbg.errors import BadInputError

# Rule names: the command-line flags without their dashes, and the keys of a rules file.
MAX_GOROUTINES = "max-goroutines"
HEADROOM = "headroom"
NO_LEAKS = "no-leaks"
NO_PANIC = "no-panic"
MAX_WAIT = "max-wait"
RULE_NAMES = (MAX_GOROUTINES, HEADROOM, NO_LEAKS, NO_PANIC, MAX_WAIT)

# time.ParseDuration's units.
_DURATION_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
                   "m": 60_000_000_000, "h": 3_600_000_000_000}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_SIZE = re.compile(r"(\d+)\s*([KMGT]i?B?|B)?", re.IGNORECASE)
_SIZE_SHIFT = {"": 0, "B": 0, "K": 10, "M": 20, "G": 30, "T": 40}


def parse_duration(text: str) -> int:
    """A Go duration ("90s", "1h30m", "250ms") in nanoseconds."""
    s = text.strip()
    pos, total = 0, 0.0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None:
            raise BadInputError(f"not a duration: {text!r} (write it as Go does: 90s, 5m, 1h30m, 250ms)")
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    if not s:
        raise BadInputError("an empty duration")
    return int(total)


def format_duration(ns: int) -> str:
    """Nanoseconds as a short Go-like duration: 1h2m3s, 4.5s, 120ms."""
    if ns < 1_000_000:
        return f"{ns}ns" if ns < 1_000 else f"{ns / 1_000:g}µs"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:g}ms"
    seconds = ns / 1_000_000_000
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    out = f"{hours}h" if hours else ""
    out += f"{minutes}m" if minutes or hours else ""
    return out + (f"{secs}s" if hours or minutes else f"{seconds:.3g}s")


def parse_size(text: str | int) -> int:
    """Bytes: an integer, or with a binary unit (64KiB, 16M, 1GiB)."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise BadInputError(f"a size must not be negative: {text}")
        return text
    m = _SIZE.fullmatch(str(text).strip())
    if m is None:
        raise BadInputError(f"not a size in bytes: {text!r} (65536, 64KiB, 16MiB)")
    unit = (m.group(2) or "").upper()[:1]
    return int(m.group(1)) << _SIZE_SHIFT[unit if unit != "B" else ""]


@dataclass(frozen=True)
class Rules:
    """The rules to check; None (or False) leaves a rule out."""

    max_goroutines: int | None = None
    headroom: int | None = None  # bytes
    no_leaks: bool = False
    no_panic: bool = False
    max_wait: int | None = None  # nanoseconds

    @property
    def empty(self) -> bool:
        return self == Rules()

    def merged(self, over: Rules) -> Rules:
        """These rules with every rule ``over`` sets replacing ours (the command line over a file)."""
        changes = {f.name: getattr(over, f.name) for f in fields(over)
                   if getattr(over, f.name) not in (None, False)}
        return replace(self, **changes)


def _attr(rule: str) -> str:
    return rule.replace("-", "_")


def rules_from_mapping(doc: dict[str, Any], where: str) -> Rules:
    """Rules from a parsed TOML document: keys are the rule names (max-goroutines = 1000,
    headroom = "64MiB", no-leaks = true, no-panic = true, max-wait = "5m"), at the top
    level or in a [check] table."""
    table = doc.get("check", doc)
    if not isinstance(table, dict):
        raise BadInputError(f"{where}: [check] must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        rule = key.replace("_", "-")
        if rule not in RULE_NAMES:
            raise BadInputError(f"{where}: unknown rule {key!r}; rules: {', '.join(RULE_NAMES)}")
        if rule in (NO_LEAKS, NO_PANIC):
            if not isinstance(value, bool):
                raise BadInputError(f"{where}: {key} must be true or false")
            values[_attr(rule)] = value
        elif rule == MAX_GOROUTINES:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise BadInputError(f"{where}: {key} must be a number of goroutines")
            values[_attr(rule)] = value
        elif rule == HEADROOM:
            values[_attr(rule)] = parse_size(value)
        else:
            if not isinstance(value, str):
                raise BadInputError(f"{where}: {key} must be a duration string such as \"5m\"")
            values[_attr(rule)] = parse_duration(value)
    return Rules(**values)


def load_rules_file(path: str) -> Rules:
    # Imported here: gdb's embedded Python may be older than 3.11 and lack tomli, and
    # only a rules file needs it.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Pythons before 3.11
        try:
            import tomli as tomllib
        except ImportError:
            raise BadInputError("--rules needs the tomli package on Python before 3.11") from None
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as e:
        raise BadInputError(f"--rules: cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise BadInputError(f"--rules: {path} is not valid TOML: {e}") from None
    return rules_from_mapping(doc, path)
