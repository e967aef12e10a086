"""One list of Go releases (tests/integration/matrix.py: GO_VERSIONS) drives the rest:
the version gate's range, the built-in layouts for stripped binaries, the README's
claim. When Go 1.28 ships these fail until docs/dev/new-go-release.md is followed."""

from __future__ import annotations

import os
import re

from godbg.runtime.layouts_builtin import tables
from godbg.runtime.version import SUPPORTED_MAX, SUPPORTED_MIN
from tests.integration.matrix import GO_VERSIONS, QUICK_VERSIONS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def test_version_gate_spans_the_matrix():
    releases = sorted(_minor(v) for v in GO_VERSIONS)
    assert SUPPORTED_MIN == releases[0]
    assert SUPPORTED_MAX == releases[-1]


def test_quick_run_covers_oldest_and_newest():
    assert sorted(QUICK_VERSIONS, key=_minor) == [min(GO_VERSIONS, key=_minor), max(GO_VERSIONS, key=_minor)]


def test_builtin_layouts_cover_every_release():
    recorded = set(tables()["releases"])
    wanted = {"{}.{}".format(*_minor(v)) for v in GO_VERSIONS}
    assert wanted <= recorded, f"run scripts/gen_layouts.py for {sorted(wanted - recorded)}"


def test_readme_names_the_supported_range():
    with open(os.path.join(REPO, "README.md")) as f:
        readme = f.read()
    m = re.search(r"supports Go (\d+\.\d+) through (\d+\.\d+)", readme)
    assert m, "README.md: 'It supports Go X through Y.'"
    assert (_minor(m.group(1)), _minor(m.group(2))) == (SUPPORTED_MIN, SUPPORTED_MAX)
