"""The integration matrix as pytest parameters.

A test that takes a ``build`` argument runs once per selected build of the matrix
(tests/integration/matrix.py; ``--quick``, ``--go-versions`` or the GODBG_* variables
narrow it down), marked ``integration``. A test that takes ``core_kind`` runs once
with a kernel core and once with a gdb ``gcore`` (marked ``gdb``). Narrow either
with markers:

    @pytest.mark.builds(lambda b: b.map_impl == "swiss")   # only these builds
    @pytest.mark.core_kinds("kernel")                      # only these core kinds
    @pytest.mark.pie("all")                                # also on PIE builds (matrix.pie_variants)

A missing toolchain or gdb skips the test locally and fails it in CI (CI=true),
where scripts/setup.sh must have installed everything.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.integration import matrix


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "builds(predicate): run only on the matrix builds the predicate accepts")
    config.addinivalue_line("markers", "core_kinds(*kinds): run only with these core kinds (kernel, gcore)")
    config.addinivalue_line("markers", "pie(scope, external=False): also run on -buildmode=pie builds "
                                       "(scope 'all' releases or the two 'ends'; matrix.pie_variants)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "build" in metafunc.fixturenames:
        builds = matrix.select_builds(metafunc.config.getoption("--go-versions"),
                                      metafunc.config.getoption("--quick"))
        for mark in metafunc.definition.iter_markers("builds"):
            builds = [b for b in builds if all(pred(b) for pred in mark.args)]
        for mark in metafunc.definition.iter_markers("pie"):
            builds = builds + matrix.pie_variants(builds, *mark.args, **mark.kwargs)
        metafunc.parametrize("build", [
            pytest.param(b, id=b.key, marks=pytest.mark.integration) for b in builds
        ])
    if "core_kind" in metafunc.fixturenames:
        kinds = list(matrix.CORE_KINDS)
        for mark in metafunc.definition.iter_markers("core_kinds"):
            kinds = [k for k in kinds if k in mark.args]
        metafunc.parametrize("core_kind", [
            pytest.param(k, id=k, marks=[pytest.mark.gdb] if k == "gcore" else []) for k in kinds
        ])


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI runs scripts/setup.sh first: it should have been installed)")
    pytest.skip(f"{what}: run scripts/setup.sh")


@pytest.fixture(autouse=True)
def _matrix_prerequisites(request: pytest.FixtureRequest) -> None:
    """Skip (locally) or fail (in CI) when the test's toolchain or gdb is not installed."""
    callspec = getattr(request.node, "callspec", None)
    params = callspec.params if callspec else {}
    build = params.get("build")
    if isinstance(build, matrix.Build):
        try:
            matrix.toolchain(build.go)
        except matrix.ToolchainMissing as e:
            _missing(str(e))
    if params.get("core_kind") == "gcore" or request.node.get_closest_marker("gdb"):
        if shutil.which("gdb") is None:
            _missing("gdb is not installed")
