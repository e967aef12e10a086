"""Options shared by every test directory (pytest reads them from here, the tests root).

    --quick            integration tests on the oldest and newest toolchain only
                       (same as GODBG_QUICK=1)
    --go-versions=L    a comma list of versions or build keys, e.g. 1.27.3,1.24.11-noswissmap
                       (same as GODBG_GO_VERSIONS=L)
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("godbg", "godbg integration matrix")
    group.addoption("--quick", action="store_true", default=False,
                    help="integration tests on the oldest and newest Go toolchain only (GODBG_QUICK=1)")
    group.addoption("--go-versions", default=None, metavar="LIST",
                    help="comma list of Go versions or build keys to test, e.g. 1.27.3,1.24.11-noswissmap "
                         "(GODBG_GO_VERSIONS)")


def pytest_report_header(config: pytest.Config) -> list[str]:
    from tests.integration import matrix

    builds = matrix.select_builds(config.getoption("--go-versions"), config.getoption("--quick"), cross=True)
    return [matrix.describe(), "integration builds: " + " ".join(b.key for b in builds)]
