"""Options shared by every test directory (pytest reads them from here, the tests root).

    --quick            integration tests on the oldest and newest toolchain only
                       (same as GODBG_QUICK=1)
    --go-versions=L    a comma list of versions or build keys, e.g. 1.27.3,1.24.11-noswissmap
                       (same as GODBG_GO_VERSIONS=L)

Property tests (hypothesis) run derandomized, with no example database and no
health check on slow data generation: the same examples every run, so a loaded CI
machine or an unlucky seed never fails a submission at random. GODBG_HYPOTHESIS=hunt
draws fresh random examples instead (for a bug hunt on a developer's machine).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("godbg", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("hunt", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hunt" if os.environ.get("GODBG_HYPOTHESIS") == "hunt" else "godbg")


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
