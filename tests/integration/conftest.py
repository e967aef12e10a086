"""The integration matrix as pytest parameters.

A test that takes a ``build`` argument runs once per selected build of the matrix
(tests/integration/matrix.py; ``--quick``, ``--go-versions`` or the GODBG_* variables
narrow it down), marked ``integration``. A test that takes ``core_kind`` runs once
with a kernel core and once with a gdb ``gcore`` (marked ``gdb``). Narrow either
with markers:

    @pytest.mark.builds(lambda b: b.map_impl == "swiss")   # only these builds
    @pytest.mark.core_kinds("kernel")                      # only these core kinds
    @pytest.mark.pie("all")                                # also on PIE builds (matrix.pie_variants)
    @pytest.mark.arm64                                     # also the linux/arm64 builds

arm64 builds (matrix.ARM64_BUILDS) run under qemu-aarch64 and give kernel-style cores
only: their gcore combinations are deselected.

A missing toolchain, gdb or qemu skips the test locally and fails it in CI (CI=true),
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
    config.addinivalue_line("markers", "arm64: run on the linux/arm64 builds too (cores from qemu-aarch64)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "build" in metafunc.fixturenames:
        builds = matrix.select_builds(metafunc.config.getoption("--go-versions"),
                                      metafunc.config.getoption("--quick"),
                                      cross=metafunc.definition.get_closest_marker("arm64") is not None)
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """An emulated build has no gdb: drop its gcore combinations."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        build = params.get("build")
        if isinstance(build, matrix.Build) and build.cross and params.get("core_kind") == "gcore":
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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
        try:
            matrix.emulator(build)
        except matrix.EmulatorMissing as e:
            _missing(str(e))
    if params.get("core_kind") == "gcore" or request.node.get_closest_marker("gdb"):
        if shutil.which("gdb") is None:
            _missing("gdb is not installed")
