"""One version gate for every command: a binary stamped with a Go release older than the
oldest tested is refused in one line (exit 2); one stamped with a release newer than the
newest tested is answered, with one warning that names the release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from godbg.commands import registry
from godbg.runtime.version import SUPPORTED_MAX, SUPPORTED_MIN
from tests.integration import matrix
from tests.integration.cli import godbg

pytestmark = pytest.mark.builds(lambda b: b.go in ("1.22.10", "1.27.3") and not b.goexperiment)


def restamp(fx: matrix.Fixture, minor: int, out: Path) -> Path:
    """The fixture's binary claiming Go 1.<minor> (same patch level) in its build info and
    in runtime.buildVersion's string, which godbg checks against each other: nothing but
    the version stamp changes."""
    data = fx.binary.read_bytes()
    at = data.find(b"\xff Go buildinf:")
    assert at >= 0
    version = f"go{fx.build.go}".encode()
    assert data.find(version, at, at + 64) > 0
    major, _minor, patch = fx.build.go.split(".")
    stamped = f"go{major}.{minor}.{patch}".encode()
    assert len(stamped) == len(version)
    out.write_bytes(data.replace(version, stamped))
    out.chmod(0o755)
    return out


def command_lines(fx: matrix.Fixture) -> dict[str, list[str]]:
    """One invocation of every command the registry has (a new command must be added here)."""
    worker = fx.truth["worker_goids"][0]
    # The channel the worker waits on (basic has no global one): its address, as read
    # from the real binary's answer; the command under test is what runs on the stamped one.
    listed = json.loads(godbg("core", str(fx.binary), str(fx.core), "goroutines", "--json").stdout)
    chan = next(g["waiting_on"]["address"] for g in listed["goroutines"] if g["id"] == worker)
    return {
        "info": ["info"],
        "goroutines": ["goroutines"],
        "bt": ["bt", str(worker)],
        "ms": ["ms"],
        "headroom": ["headroom"],
        "map": ["map", "main.table"],
        "panic": ["panic"],
        "report": ["report"],
        "check": ["check", "--max-goroutines", "100000"],
        "print": ["print", "main.table"],
        "chan": ["chan", chan],
        "waits": ["waits"],
        "leaks": ["leaks"],
    }


def _every_command(fx: matrix.Fixture) -> list[list[str]]:
    lines = command_lines(fx)
    names = [m.NAME for m in registry.available()]
    missing = [n for n in names if n not in lines]
    assert not missing, f"add these commands to command_lines: {missing}"
    return [lines[n] for n in names]


def test_newer_release_answers_with_one_warning(build, tmp_path):
    fx = matrix.crash("basic", build)
    newer = SUPPORTED_MAX[1] + 2
    fake = restamp(fx, newer, tmp_path / "newer")
    stamp = f"go1.{newer}."
    for argv in _every_command(fx):
        p = godbg("core", str(fake), str(fx.core), *argv)
        assert p.returncode == 0, (argv, p.stderr[-2000:])
        warnings = [line for line in p.stderr.splitlines() if "newer than" in line]
        assert len(warnings) == 1 and stamp in warnings[0], (argv, p.stderr)
        assert "Traceback" not in p.stderr
        pj = godbg("core", str(fake), str(fx.core), *argv, "--json")
        assert pj.returncode == 0, (argv, pj.stderr[-2000:])
        doc = json.loads(pj.stdout)
        assert [w for w in doc.get("warnings", []) if "newer than" in w and stamp in w], (argv, doc.get("warnings"))


def test_older_release_is_refused_by_every_command(build, tmp_path):
    fx = matrix.crash("basic", build)
    older = SUPPORTED_MIN[1] - 1
    fake = restamp(fx, older, tmp_path / "older")
    for argv in _every_command(fx):
        p = godbg("core", str(fake), str(fx.core), *argv)
        assert p.returncode == 2, (argv, p.returncode, p.stderr[-2000:])
        assert p.stdout == ""
        assert p.stderr.count("\n") == 1 and f"go1.{older}." in p.stderr and "not supported" in p.stderr, p.stderr


@pytest.mark.gdb
def test_gdb_applies_the_same_gate(build, tmp_path):
    from tests.integration.gdbrun import gdb_batch

    fx = matrix.crash("basic", build)
    newer = SUPPORTED_MAX[1] + 2
    fake = restamp(fx, newer, tmp_path / "newer")
    # gdb reads read-only data from the core where it can, which holds the real stamp
    # (runtime.buildVersion): it must take them from the stamped file, as core mode does.
    res = gdb_batch(["go goroutines", "print $godbg_status", "go ms --json"], str(fake), str(fx.core),
                    before_source=["set trust-readonly-sections on"])
    assert res.outputs[1].endswith("= 0"), res.stdout[-2000:] + res.stderr[-2000:]
    assert f"go1.{newer}." in res.stderr and "newer than" in res.stderr, res.stderr[-2000:]
    assert any(f"go1.{newer}." in w for w in json.loads(res.outputs[2])["warnings"])
    older = SUPPORTED_MIN[1] - 1
    fake = restamp(fx, older, tmp_path / "older")
    res = gdb_batch(["go goroutines", "print $godbg_status"], str(fake), str(fx.core))
    assert res.outputs[1].endswith("= 2") and "not supported" in res.stderr, res.stderr[-2000:]
