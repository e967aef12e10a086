"""Every kind of bad input ends with exit status 2 and one line that names the problem:
no traceback, no hang, and inside gdb no crashed or wedged gdb."""

from __future__ import annotations

import pytest

from tests.integration import matrix
from tests.integration.cli import godbg, godbg_core
from tests.integration.gdbrun import gdb_batch

pytestmark = pytest.mark.builds(lambda b: b.go in ("1.22.10", "1.27.3") and not b.goexperiment)


def one_line_error(p, *words: str) -> None:
    assert p.returncode == 2, (p.returncode, p.stdout[-500:], p.stderr[-2000:])
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("godbg"), p.stderr
    assert "Traceback" not in p.stderr
    for w in words:
        assert w in p.stderr, (w, p.stderr)


def test_missing_goroutine_and_variable(build):
    fx = matrix.crash("basic", build)
    one_line_error(godbg_core(fx, "bt", "999999"), "no goroutine 999999")
    one_line_error(godbg_core(fx, "map", "main.nosuch"), "main.nosuch")
    one_line_error(godbg_core(fx, "bt", "--m", "4242"), "no M 4242")
    one_line_error(godbg_core(fx, "nosuchcommand"), "unknown command")
    one_line_error(godbg_core(fx, "goroutines", "--limit", "many"), "--limit")


def test_unsupported_go_release(build, tmp_path):
    fx = matrix.crash("basic", build)
    # The same binary with its build info claiming Go 1.21: godbg must refuse it by name.
    data = bytearray(fx.binary.read_bytes())
    version = f"go{build.go}".encode()
    at = data.find(b"\xff Go buildinf:")
    assert at >= 0
    pos = data.find(version, at, at + 64)
    assert pos > 0
    old = f"go1.{version.decode().split('.')[1]}".encode()
    data[pos : pos + len(old)] = b"go1.21"[: len(old)].ljust(len(old), b"0")
    fake = tmp_path / "old"
    fake.write_bytes(bytes(data))
    p = godbg("core", str(fake), str(fx.core), "info")
    one_line_error(p, "not supported")


def test_stripped_binary_map(build):
    stripped = build.variant(stripped=True)
    fx = matrix.crash("basic", stripped)
    one_line_error(godbg_core(fx, "map", "main.table"), "DWARF")


def test_directory_and_empty_file(build, tmp_path):
    fx = matrix.crash("basic", build)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    one_line_error(godbg("core", str(fx.binary), str(empty), "info"), "not a core")
    one_line_error(godbg("core", str(fx.binary), str(tmp_path), "info"))
    one_line_error(godbg("core", str(empty), str(fx.core), "info"))


@pytest.mark.gdb
def test_gdb_survives_bad_input(build, tmp_path):
    fx = matrix.crash("basic", build)
    res = gdb_batch(["go bt 999999", "go map main.nosuch", "go nosuch", "go info --json", "print 1+1"],
                    str(fx.binary), str(fx.core))
    assert "godbg: no goroutine 999999" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert res.outputs[3].startswith("{") and res.outputs[4] == "$1 = 2"


@pytest.mark.gdb
def test_gdb_refuses_a_running_program(build, tmp_path):
    binary = matrix.build_program("basic", build)
    res = gdb_batch(["go info", "go goroutines --json", "print 1+1", "kill"], str(binary),
                    before=["set non-stop off", "run &", "shell sleep 0.3"],
                    env=matrix.program_env(tmp_path), cwd=str(tmp_path))
    assert res.stderr.count("godbg: the program is running") == 2, res.stderr[-2000:]
    assert res.outputs[2] == "$1 = 2"  # gdb carries on


def test_no_gdb_needed_for_core_mode(build, monkeypatch):
    # core mode must not depend on gdb (or anything else on PATH)
    fx = matrix.crash("basic", build)
    monkeypatch.setenv("PATH", "/nonexistent")
    p = godbg_core(fx, "info", "--json")
    assert p.returncode == 0, p.stderr
