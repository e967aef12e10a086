"""The fixture plumbing itself, on every build of the matrix: testdata/basic builds
with the settings asked for, crashes into a kernel core and a gdb gcore, writes its
truth, and Go's traceback parses the way the truth says it should."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile

from tests.integration import matrix

ET_CORE = 4
NT_PRSTATUS = 1


def core_threads(path) -> list[int]:
    """The thread ids of a core's NT_PRSTATUS notes, in order (the crashing one first)."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        assert elf["e_type"] == "ET_CORE"
        tids = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_NOTE":
                continue
            data, off = seg.data(), 0
            while off + 12 <= len(data):
                namesz, descsz, ntype = struct.unpack_from("<III", data, off)
                off += 12 + ((namesz + 3) & ~3)
                if ntype == NT_PRSTATUS:
                    tids.append(struct.unpack_from("<i", data, off + 32)[0])  # pr_pid
                off += (descsz + 3) & ~3
        return tids


def test_build_settings_reach_the_binary(build: matrix.Build) -> None:
    binary = matrix.build_program("basic", build)
    info = subprocess.run([str(matrix.toolchain(build.go).go), "version", "-m", str(binary)],
                          capture_output=True, text=True, check=True).stdout
    assert info.split(":", 1)[1].split()[0] == f"go{build.go}"
    assert "\tbuild\tCGO_ENABLED=0\n" in info
    if build.goexperiment:
        assert f"\tbuild\tGOEXPERIMENT={build.goexperiment}\n" in info
    else:
        assert "GOEXPERIMENT" not in info
    assert matrix.build_program("basic", build) == binary  # cached


def test_basic_crash(build: matrix.Build, core_kind: str) -> None:
    fx = matrix.crash("basic", build, core_kind=core_kind)

    assert fx.core is not None and fx.core.exists()
    assert fx.signal == "SIGABRT"  # GOTRACEBACK=crash ends in abort()
    tids = core_threads(fx.core)
    assert len(tids) >= 2
    if core_kind == "kernel":
        assert fx.returncode == -6
    else:
        gcore = json.loads((fx.dir / "gcore.json").read_text())
        assert gcore["signal"] == "SIGABRT" and gcore["thread"] == tids[0]

    truth = fx.truth
    assert truth["go_version"] == build.runtime_version
    assert truth["maxstacksize"] == 64 << 20
    assert len(truth["worker_goids"]) == truth["workers"] == 4
    assert sorted(truth["map"]) == truth["map_keys"]

    tb = fx.traceback
    assert tb.unparsed == [] and tb.preamble == []
    assert tb.panic_values == [truth["panic"]] and not tb.panics[0].recovered
    g1 = tb.goroutine(1)
    assert g1.status == "running" and g1.m is not None and g1.gp is not None
    assert g1.frames[0].symbol == "runtime.gopanic"
    assert g1.functions[1] == "main.main"
    assert all(f.pc is not None for f in g1.frames if not f.inlined)
    for goid in truth["worker_goids"]:
        g = tb.goroutine(goid)
        assert g.status == truth["worker_wait_reason"]
        assert truth["worker_function"] in g.functions
        assert g.created_by is not None and g.created_by.function == "main.main"
        assert g.created_by.goroutine == 1


def test_fixtures_are_cached(build: matrix.Build) -> None:
    first = matrix.crash("basic", build)
    again = matrix.crash("basic", build)
    assert again.dir == first.dir and again.core.stat().st_mtime == first.core.stat().st_mtime
    other = matrix.crash("basic", build, env={"GODBG_UNUSED": "1"})
    assert other.dir != first.dir


@pytest.mark.builds(lambda b: b.go == matrix.GO_VERSIONS[-1] and not b.goexperiment)
def test_stripped_variant(build: matrix.Build) -> None:
    stripped = build.variant(stripped=True)
    assert stripped.key == f"{build.go}-stripped"
    with open(matrix.build_program("basic", stripped), "rb") as f:
        sections = {s.name for s in ELFFile(f).iter_sections()}
    assert ".symtab" not in sections and ".debug_info" not in sections
    assert ".gopclntab" in sections
    fx = matrix.crash("basic", stripped, core_kind="kernel")
    assert fx.truth["go_version"] == build.runtime_version and fx.traceback.goroutine(1).status == "running"


def test_selection() -> None:
    assert [b.key for b in matrix.select_builds("1.24.11")] == ["1.24.11", "1.24.11-noswissmap"]
    assert [b.key for b in matrix.select_builds("1.24.11-noswissmap,1.22.10")] == [
        "1.22.10", "1.24.11-noswissmap"]
    assert [b.go for b in matrix.select_builds("", quick=True)] == matrix.QUICK_VERSIONS
    with pytest.raises(matrix.MatrixError, match="1.21"):
        matrix.select_builds("1.21")
    assert {b.key: b.map_impl for b in matrix.BUILDS if b.go == "1.24.11"} == {
        "1.24.11": "swiss", "1.24.11-noswissmap": "classic"}
    assert matrix.Build("1.23.9").map_impl == "classic"
    # arm64 builds: only for tests marked arm64 (conftest passes cross=True for them)
    assert [b.key for b in matrix.select_builds("1.27.3", cross=True)] == ["1.27.3", "1.27.3-arm64"]
    assert matrix.select_builds("1.27.3-arm64") == []
    assert [b.key for b in matrix.select_builds("1.22.10-arm64", cross=True)] == ["1.22.10-arm64"]
    assert matrix.Build("1.27.3", goarch="arm64").cross and not matrix.Build("1.27.3").cross
    # a field added later enters a build's hash only when set: old fixtures stay valid
    assert matrix._build_identity(matrix.Build("1.27.3")) == ("1.27.3", "", False, False, "", "")


@pytest.mark.core_kinds("kernel")
def test_godbg_info_reads_the_fixture(build: matrix.Build, core_kind: str) -> None:
    """Not plumbing, but the first thing anyone will try: godbg's `info` on the core
    agrees with the program about itself."""
    fx = matrix.crash("basic", build, core_kind=core_kind)
    proc = subprocess.run([sys.executable, "-m", "godbg", "core", str(fx.binary), str(fx.core), "info", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    # runtime.Version() says "go1.24.11 X:noswissmap"; godbg splits the experiments off
    experiments = " X:" + ",".join(info["goexperiments"]) if info["goexperiments"] else ""
    assert info["go_version"] + experiments == fx.truth["go_version"]
    assert info["go_version"] == f"go{build.go}" and info["goexperiments"] == build.experiments
    assert info["map_impl"] == build.map_impl
    assert info["maxstacksize"] == fx.truth["maxstacksize"]


@pytest.mark.parametrize("pattern, prefix", [("core", "core"), ("core.%p", "core."), ("%e.core", "")])
def test_kernel_core_prefix(monkeypatch: pytest.MonkeyPatch, pattern: str, prefix: str) -> None:
    monkeypatch.setattr(matrix, "_core_pattern", lambda: pattern)
    assert matrix.kernel_core_prefix() == prefix


@pytest.mark.parametrize("pattern", ["|/usr/lib/systemd/systemd-coredump %P %u", "/var/crash/core.%e.%p"])
def test_kernel_cores_elsewhere_fail_clearly(monkeypatch: pytest.MonkeyPatch, pattern: str) -> None:
    monkeypatch.setattr(matrix, "_core_pattern", lambda: pattern)
    with pytest.raises(matrix.MatrixError, match="echo core > /proc/sys/kernel/core_pattern"):
        matrix.kernel_core_prefix()
